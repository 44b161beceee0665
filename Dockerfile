# Build stage: a virtualenv with storelink and its dependencies.
FROM python:3.11-slim AS build
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Dependencies first, from pyproject alone, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p src/storelink && touch src/storelink/__init__.py \
    && pip install --no-cache-dir . && pip uninstall -y storelink
COPY src ./src
RUN pip install --no-cache-dir --no-deps .

# Runtime stage: just the virtualenv and the migrations, run as an unprivileged user.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 storelink
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STORELINK_MIGRATIONS_DIR=/app/migrations \
    STORELINK_DATA_DIR=/home/storelink/data
USER storelink
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# `serve` runs the migrations, then the server (JWT_SECRET, PHONE_ENCRYPTION_KEY and DATABASE_URL come
# from the environment).
CMD ["storelink", "serve", "--host", "0.0.0.0", "--port", "8000"]
