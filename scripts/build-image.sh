#!/usr/bin/env bash
# Build the runyard server image.
#   scripts/build-image.sh            plain `docker build` on the official slim Python base
#   scripts/build-image.sh --offline  no registry needed: a debootstrapped Debian base, a wheelhouse
#                                     built inside that base, then the same Dockerfile on it
# Options: --tag NAME:TAG (default: RUNYARD_IMAGE from deploy/kind/settings.env or the
# environment), --standins (offline only: also build the Postgres and S3 stand-in images the
# container tests run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/offline/common.sh
. "$root/scripts/offline/common.sh"
# shellcheck source=scripts/settings.sh
. "$root/scripts/settings.sh"

offline=0
standins=0
tag="$RUNYARD_IMAGE"
while [ $# -gt 0 ]; do
  case "$1" in
    --offline) offline=1 ;;
    --standins) standins=1 ;;
    --tag) tag="$2"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/pyproject.toml" | head -n 1)"
revision="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
build_args=(
  --build-arg "VERSION=$version"
  --build-arg "REVISION=$revision"
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
)
start=$SECONDS
if [ "$offline" = 1 ]; then
  "$root/scripts/offline/base-image.sh" runyard-base:bookworm
  "$root/scripts/offline/wheelhouse.sh" "$root/wheelhouse" runyard-base:bookworm
  build_args+=(--build-arg BASE_IMAGE=runyard-base:bookworm)
else
  # A leftover offline wheelhouse would silently pin the online build to old wheels.
  if compgen -G "$root/wheelhouse/*.whl" >/dev/null; then
    log "note: $root/wheelhouse/ exists and will be used; delete it to build from the index"
  fi
fi
log "building $tag"
build_log="${TMPDIR:-/tmp}/runyard-image-build.${tag//[:\/]/_}.log"
docker build "${build_args[@]}" --tag "$tag" "$root" >"$build_log" 2>&1 || {
  tail -n 40 "$build_log" >&2
  exit 1
}
log "built $tag in $((SECONDS - start))s: $(docker image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec)"
if [ "$standins" = 1 ]; then
  "$root/scripts/offline/standin-images.sh"
fi
