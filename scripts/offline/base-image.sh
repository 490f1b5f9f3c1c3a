#!/usr/bin/env bash
# Build a minimal Debian bookworm base image with debootstrap and import it into the local
# Docker engine, for machines that cannot pull images. Debian's python3 on bookworm is 3.11.
# Usage: scripts/offline/base-image.sh [tag] [extra-package...]
#   tag defaults to runyard-base:bookworm. Reuses the image when built from the same inputs.
#   Downloaded packages are kept in .cache/debootstrap so a second variant fetches only its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/offline/common.sh
. "$here/common.sh"

tag="${1:-runyard-base:bookworm}"
shift || true
# openssh-client: the server's SFTP artifact stores run OpenSSH's `ssh` (see the Dockerfile).
packages="python3,python3-venv,ca-certificates,tzdata,openssh-client${*:+,$(IFS=,; echo "$*")}"
inputs="$(fingerprint "$here/base-image.sh" "$packages")"

if [ "$(image_label "$tag" io.runyard.inputs)" = "$inputs" ]; then
  log "$tag is up to date ($inputs)"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  apt-get install -y -qq debootstrap >/dev/null || {
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
  }
fi
mirror="$(debian_mirror)"
root="$(mktemp -d /var/tmp/runyard-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
cache="${RUNYARD_DEBOOTSTRAP_CACHE:-$here/../../.cache/debootstrap}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

log "debootstrap bookworm ($packages) into $root"
debootstrap --variant=minbase --cache-dir="$cache" --include="$packages" bookworm "$root" "$mirror" \
  >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
rm -f "$root.log"

# Trim what a container never needs: package caches, docs, man pages, non-English locales.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' -exec rm -rf {} + \
  2>/dev/null || true
# Package scripts may have created a default PostgreSQL cluster; the image initialises its own.
rm -rf "$root"/etc/postgresql/* "$root"/var/lib/postgresql/*
# PostgreSQL's JIT is a 100 MB LLVM library only loaded when jit=on; the stand-in runs jit=off.
rm -f "$root"/usr/lib/postgresql/*/lib/llvmjit* "$root"/usr/lib/x86_64-linux-gnu/libLLVM-*
rm -rf "$root"/usr/lib/postgresql/*/lib/bitcode
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"

log "importing $tag"
tar -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL io.runyard.inputs=$inputs" \
  --change 'CMD ["/bin/bash"]' \
  - "$tag" >/dev/null
log "built $tag ($(docker image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec))"
