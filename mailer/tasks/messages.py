"""Celery tasks of the messages queue."""
