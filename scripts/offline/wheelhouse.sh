#!/usr/bin/env bash
# Fill a wheelhouse with wheels of runyard's dependencies (server, postgres and s3 extras) plus
# the build backend, so the image build installs with --no-index. The host and the image both
# run CPython 3.11 on glibc, so manylinux wheels fetched here fit the image.
# Usage: scripts/offline/wheelhouse.sh [dir]   (default: ./wheelhouse; reused when up to date)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/offline/common.sh
. "$here/common.sh"

dir="${1:-$root/wheelhouse}"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"
inputs="$(fingerprint "$here/wheelhouse.sh" "$root/pyproject.toml")"

if [ -f "$dir/.inputs" ] && [ "$(cat "$dir/.inputs")" = "$inputs" ]; then
  log "wheelhouse $dir is up to date ($inputs)"
  exit 0
fi
log "building wheelhouse in $dir"
rm -rf "$dir"
mkdir -p "$dir"
"$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$dir" \
  "setuptools>=68" wheel "$root[server,postgres,s3]" >"$dir/.log" 2>&1 || {
  tail -n 30 "$dir/.log" >&2
  exit 1
}
rm -f "$dir"/runyard-*.whl   # runyard itself is built from source inside the image
echo "$inputs" >"$dir/.inputs"
log "wheelhouse ready: $(find "$dir" -name '*.whl' | wc -l) wheels, $(du -sh "$dir" | cut -f1)"
