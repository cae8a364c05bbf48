# One image for every process of the deployment: web, workers, scheduler and the migration.
#   docker build -t newsletter .      (docker-compose.yml builds it for you)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOG_FORMAT=json

WORKDIR /app

# The source tree stays in /app: the code finds templates/ beside its packages, so the project
# is installed in place (editable) rather than copied into site-packages.
COPY pyproject.toml README.md worker.py ./
COPY mailer ./mailer
COPY subscribers ./subscribers
COPY templates ./templates
COPY examples ./examples
RUN pip install -e . \
    && useradd --create-home --uid 10001 --user-group newsletter \
    && mkdir -p /app/var \
    && chown newsletter:newsletter /app/var

# Never run as root: a compromised web process cannot rewrite the code or the image.
USER newsletter
VOLUME ["/app/var"]
EXPOSE 8000

CMD ["newsletter", "serve", "--host", "0.0.0.0", "--port", "8000"]
