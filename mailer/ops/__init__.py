"""Operations: keeping the service healthy and its schema current.

Owns: `newsletter doctor`'s judgements (`doctor`) and its live service probes (`probes`),
process-wide logging in text or JSON (`logging`), and the Alembic migrations
(`migrate`, `migrations/`). Entry points: `migrate.upgrade`, `doctor.config_checks`, `probes`.
"""
