"""Celery tasks of the events queue."""
