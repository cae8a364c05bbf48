"""The serve command: the web app under uvicorn."""
