# syntax=docker/dockerfile:1
# One image for every process of the platform; the entry point is `python -m`:
#   wta_runtime gateway | wta_runtime worker | wta_runtime scheduler | wta_operator
# Non-root (uid/gid 10001, as the operator's runtime Deployments ask), nothing written outside
# /tmp at run time, so it runs with readOnlyRootFilesystem and an emptyDir on /tmp.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtualenv with the platform and only its runtime dependencies ------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1
# The same uv as `make install`.
RUN python -m pip install "uv==0.13.8" \
 && python -m uv venv /opt/wta
WORKDIR /src
# Dependencies first, in their own layer: pyproject's [project.dependencies] pinned by the lock.
# The lock also pins the `local` and `dev` extras (embedded PostgreSQL, pytest, ...); using it as
# constraints rather than requirements keeps them out of the image. The `anthropic` extra (the
# LangChain integration of `spec.model.provider: anthropic`) ships too; it is imported only by a
# worker whose agents use it. Other providers' extras need an image built with them.
COPY pyproject.toml requirements.lock ./
RUN python -m uv pip install --python /opt/wta/bin/python -r pyproject.toml --extra anthropic \
    -c requirements.lock
# Then the code, as a regular (non-editable) install.
COPY README.md ./
COPY runtime ./runtime
COPY operator ./operator
RUN python -m uv pip install --python /opt/wta/bin/python --no-deps . \
 && /opt/wta/bin/python -c "import wta_runtime.cli, wta_operator.settings"

# ---- run -----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="wta" \
      org.opencontainers.image.description="WhatsApp Twilio AI: gateway, runtime worker, scheduler and operator" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 wta \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin wta
COPY --from=build /opt/wta /opt/wta
# Relative defaults of the settings (.wta/...) would point into the read-only image: use /tmp.
ENV PATH=/opt/wta/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    WTA_ENVIRONMENT=production \
    WTA_GATEWAY_HOST=0.0.0.0 \
    WTA_LOCAL_DATA_DIR=/tmp/wta \
    WTA_MEDIA_DIR=/tmp/wta/media \
    WTA_MANIFESTS_DIR=/etc/wta/manifests
WORKDIR /app
USER 10001:10001
# gateway (webhooks + /metrics), worker metrics, scheduler metrics, operator health
EXPOSE 8000 9101 9102 8080
ENTRYPOINT ["python", "-m"]
CMD ["wta_runtime", "gateway"]
