"""Accounts: the people who run the newsletter and the programs acting for them.

Owns users (Argon2id passwords, roles, disabled flag), server-side sign-in sessions, API
tokens (only their SHA-256 is kept) and the append-only audit log. Entry points: `users`,
`tokens`, `sessions`, `audit`, and `Principal` (who is acting, with which role).
"""
