"""Transports deliver one SendGrid v3 mail/send payload each: SendGrid, the outbox, tests."""
