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

# A short fingerprint of files and strings: rebuild only when an input changed.
fingerprint() {
  local item
  for item in "$@"; do
    if [ -f "$item" ]; then sha256sum "$item"; else echo "$item"; fi
  done | sha256sum | cut -c1-16
}

# The value of label $2 on image $1, empty when the image does not exist.
image_label() {
  docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
