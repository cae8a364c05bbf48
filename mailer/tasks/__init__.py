"""Thin Celery tasks: they carry ids, read state from the database, and are safe to run twice."""
