"""Celery tasks of the sending queue."""
