#!/usr/bin/env bash
# Shared helpers for the offline image build: find the Debian mirror the host already uses,
# fingerprint build inputs, and tell whether a cached image was built from the same inputs.
# Sourced, not run.

# The Debian mirror this host's apt is configured with, so a chroot fetches from the same place.
debian_mirror() {
  if [ -n "${RUNYARD_DEBIAN_MIRROR:-}" ]; then
    echo "$RUNYARD_DEBIAN_MIRROR"
    return
  fi
  local uri
  uri="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '{print $2}' | grep -v -- '-security' | grep -m1 '/debian/\?$' || true)"
  if [ -z "$uri" ]; then
    uri="$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '{print $2}' | grep -v -- '-security' | grep -m1 '/debian/\?$' || true)"
  fi
  if [ -z "$uri" ]; then
    echo "no Debian mirror found in the host's apt sources; set RUNYARD_DEBIAN_MIRROR" >&2
    return 1
  fi
  echo "${uri%/}"
}

# A short fingerprint of files (their contents, not their paths, so two checkouts share their
# images) and strings: rebuild only when an input changed.
fingerprint() {
  local item
  for item in "$@"; do
    if [ -f "$item" ]; then sha256sum <"$item"; else echo "$item"; fi
  done | sha256sum | cut -c1-16
}

# The value of label $2 on image $1, empty when the image does not exist.
image_label() {
  docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# Build wheels with the Python of image $1 (so they fit that image, whatever Python the host
# has) into directory $2; the remaining arguments go to `pip wheel`, run in a copy of the
# checkout (mounted read-only at /src: pip writes build files next to the sources). The host's
# pip settings that locate the package index, and its CA bundle, are passed through.
wheels_in_image() {
  local image="$1" out="$2" root var
  shift 2
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  mkdir -p "$out"
  local args=(--rm --network host --env "OWNER=$(id -u):$(id -g)")
  for var in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST PIP_DEFAULT_TIMEOUT \
    HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
    if [ -n "${!var:-}" ]; then args+=(--env "$var"); fi
  done
  local cert="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
  if [ -f "$cert" ]; then args+=(--volume "$cert:/host-ca.crt:ro" --env PIP_CERT=/host-ca.crt); fi
  docker run "${args[@]}" --volume "$root:/src:ro" --volume "$(cd "$out" && pwd):/wheels" \
    "$image" bash -euc '
      mkdir /tmp/src && cp -r /src/pyproject.toml /src/README.md /src/app /tmp/src/
      python3 -m venv /tmp/pip
      cd /tmp/src
      /tmp/pip/bin/pip wheel --quiet --disable-pip-version-check --wheel-dir /wheels "$@"
      chown -R "$OWNER" /wheels' wheels "$@"
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
