"""The FastAPI web app: subscriber and reader pages, the webhook, reports."""
