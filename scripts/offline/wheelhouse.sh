#!/usr/bin/env bash
# Fill a wheelhouse with wheels of runyard's dependencies (the Dockerfile's SERVER_EXTRAS) plus
# the build backend, so the image build installs with --no-index. The wheels are built inside
# the base image the server image is built on, so they fit its Python whatever the host runs.
# Usage: scripts/offline/wheelhouse.sh [dir] [base-image]
#   dir defaults to ./wheelhouse, base-image to runyard-base:bookworm; reused when up to date.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/offline/common.sh
. "$here/common.sh"

dir="${1:-$root/wheelhouse}"
base="${2:-runyard-base:bookworm}"
extras="$(sed -n 's/^ARG SERVER_EXTRAS=//p' "$root/Dockerfile")"
[ -n "$extras" ] || { echo "no ARG SERVER_EXTRAS in $root/Dockerfile" >&2; exit 1; }
inputs="$(fingerprint "$here/wheelhouse.sh" "$here/common.sh" "$root/pyproject.toml" "$extras" \
  "$(docker image inspect --format '{{.Id}}' "$base")")"

if [ -f "$dir/.inputs" ] && [ "$(cat "$dir/.inputs")" = "$inputs" ]; then
  log "wheelhouse $dir is up to date ($inputs)"
  exit 0
fi
log "building wheelhouse in $dir with the Python of $base"
rm -rf "$dir"
mkdir -p "$dir"
wheels_in_image "$base" "$dir" "setuptools>=77" wheel ".[$extras]" >"$dir/.log" 2>&1 || {
  tail -n 30 "$dir/.log" >&2
  exit 1
}
rm -f "$dir"/runyard-*.whl   # runyard itself is built from source inside the image
echo "$inputs" >"$dir/.inputs"
log "wheelhouse ready: $(find "$dir" -name '*.whl' | wc -l) wheels, $(du -sh "$dir" | cut -f1)"
