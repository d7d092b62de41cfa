# Production image: non-root, several workers, PostgreSQL and Redis from the environment.
# Build: docker build -t educonnect-idp .   Operating it: docs/operations.md
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY scripts/install_assets.py scripts/
COPY idp/web idp/web
RUN apt-get update && apt-get install -y --no-install-recommends python3 && python3 scripts/install_assets.py

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 EDUCONNECT_ENV=production
# SAML signatures and encryption run Debian's xmlsec1 (pysaml2).
RUN apt-get update && apt-get install -y --no-install-recommends xmlsec1 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 educonnect
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY idp idp
COPY federation federation
COPY migrations migrations
COPY --from=assets /src/idp/web/static/dsfr idp/web/static/dsfr
# Editable: code, templates, assets and migrations stay together under /app.
RUN pip install --no-cache-dir -e . \
    && pybabel compile --domain messages --directory idp/locale --locale fr \
    && chown -R root:root /app
USER educonnect
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
# Run `educonnect db upgrade` once per release (a job), then start the servers.
CMD ["educonnect", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
