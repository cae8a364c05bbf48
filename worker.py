"""The Celery app for `celery -A worker worker` (and `newsletter worker`)."""

from mailer.tasks.app import celery_app

app = celery_app
