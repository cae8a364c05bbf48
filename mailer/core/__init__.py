"""The shared core that every other part may import, and which imports none of them.

Owns: the one typed `Settings` object (`settings`), the mailer's own tables (`models`: sends,
batches, recipients, webhook posts and events, forwards), the domain error tree (`errors`) and
whole-batch SQL helpers for PostgreSQL (`bulk_sql`).
"""
