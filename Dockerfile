# syntax=docker/dockerfile:1
#
# The postmortems service: `postmortems serve` by default; `postmortems worker` and
# `postmortems migrate` run from the same image (docker run IMAGE worker, docker run IMAGE migrate).
#
# Build:  docker build -t postmortems .
# With tracing (the `tracing` extra, see README "Configuration"):  --build-arg EXTRA=tracing

# Both stages use the same interpreter: the virtualenv made in the first links to it.
ARG PYTHON_IMAGE=python:3.11-slim-trixie
# The uv that wrote uv.lock.
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /usr/local/bin/uv
ARG EXTRA=""
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0
WORKDIR /app

# The locked dependencies first, in a layer of their own: it is rebuilt only when the lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-editable --no-install-project ${EXTRA:+--extra "$EXTRA"}

# Then the project itself, installed as a package (not editable): the final stage needs no source.
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-editable ${EXTRA:+--extra "$EXTRA"}

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="postmortems" \
      org.opencontainers.image.description="Incident postmortems and their action items, as a REST service" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    POSTMORTEMS_DATA_DIR=/data

# A numeric non-root user; its home /data holds the embedded SQLite default (POSTMORTEMS_DATA_DIR,
# /data/postmortems.db) and is the working directory. The code stays owned by root, read-only to it.
RUN groupadd --gid 10001 postmortems \
    && useradd --no-log-init --uid 10001 --gid 10001 --home-dir /data --create-home postmortems
COPY --from=builder /app/.venv /app/.venv
WORKDIR /data
USER 10001:10001

EXPOSE 8000
# The API's liveness endpoint; a `worker` container sets HEALTHCHECK_URL to its own
# (http://127.0.0.1:9000/healthz, POSTMORTEMS_WORKER_METRICS_PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('HEALTHCHECK_URL', 'http://127.0.0.1:8000/healthz'), timeout=4)"]

ENTRYPOINT ["postmortems"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
