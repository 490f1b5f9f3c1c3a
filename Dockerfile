# runyard tracking server image.
#
# Two stages: `build` turns runyard and its server extras into wheels and installs only those
# wheels (--no-index) into a virtualenv without pip; `runtime` copies that virtualenv onto a clean
# base, so no pip, compiler, cache or source tree ends up in the image. The base is an argument so the same file builds on the
# official slim Python image and on a locally bootstrapped Debian (see scripts/build-image.sh).
#
# Offline: put wheels of every dependency (plus setuptools and wheel) in ./wheelhouse/ and the
# build uses them with --no-index; without that directory pip uses its configured index.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# The extras the server runs with: every artifact store runyard supports, so one image fronts
# any of them (scripts/offline/wheelhouse.sh reads this line).
ARG SERVER_EXTRAS=server,postgres,s3,sftp,gcs
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
# pyproject.toml is always present, so this COPY succeeds whether or not ./wheelhouse/ exists.
COPY pyproject.toml wheelhous[e] /wheelhouse/
COPY pyproject.toml README.md ./
COPY app/ app/
RUN if compgen -G '/wheelhouse/*.whl' >/dev/null; then \
        offline=(--no-index --find-links /wheelhouse); \
    else \
        offline=(); \
    fi \
    && python3 -m venv /opt/build \
    && /opt/build/bin/pip wheel "${offline[@]}" --wheel-dir /wheels ".[${SERVER_EXTRAS}]" \
    && python3 -m venv --without-pip /opt/runyard \
    && /opt/build/bin/pip --python /opt/runyard/bin/python3 install --no-index \
        --find-links /wheels "runyard[${SERVER_EXTRAS}]" \
    && find /opt/runyard -type d -name tests -path '*/site-packages/*/tests' -prune \
        -exec rm -rf {} + \
    && /opt/runyard/bin/runyard --version

FROM ${BASE_IMAGE} AS runtime
# OpenSSH's client: SFTP artifact stores go through its `ssh`, as OpenSSH's `sftp` does (the
# offline base has it already). A fixed non-root UID so Kubernetes can check runAsNonRoot and
# volumes can be pre-owned; `ssh` also needs the UID to have a passwd entry. The base's own
# Debian release decides openssh-client's version (and its security updates): not pinned.
# hadolint ignore=DL3008
RUN if ! command -v ssh >/dev/null; then \
        apt-get update -qq \
        && apt-get install -y -qq --no-install-recommends openssh-client \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 runyard \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin runyard \
    && mkdir -p /data \
    && chown 10001:10001 /data
COPY --from=build /opt/runyard /opt/runyard
# The root filesystem may be read-only: nothing writes bytecode, HOME points at a volume.
ENV PATH=/opt/runyard/bin:$PATH \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RUNYARD_HOST=0.0.0.0 \
    RUNYARD_PORT=5000
USER 10001:10001
# No VOLUME: an image-declared volume gives every container an anonymous volume nobody cleans
# up, and Kubernetes ignores it anyway. Mount /tmp (tmpfs or emptyDir) and, for a file store,
# /data yourself.
WORKDIR /data
EXPOSE 5000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('RUNYARD_PORT', '5000'), timeout=4)"]
# Labels last: the build date changes every build and must not invalidate the layers above.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="runyard" \
      org.opencontainers.image.description="Experiment tracking server compatible with the MLflow REST API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}"
# Exec form: the server is PID 1 and receives SIGTERM itself, so it can drain and exit cleanly.
ENTRYPOINT ["runyard"]
CMD ["server", "--host", "0.0.0.0"]
