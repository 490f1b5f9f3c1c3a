#!/usr/bin/env bash
# Build the stand-in images the container tests run next to runyard when no registry can be
# reached: runyard-standin-postgres:15 (Debian's PostgreSQL) and runyard-standin-s3:moto
# (moto's S3 server, S3 only, from wheels built inside the base). Both sit on the debootstrapped
# base.
# Usage: scripts/offline/standin-images.sh   (reuses images built from the same inputs)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/offline/common.sh
. "$here/common.sh"

base=runyard-base:bookworm
logs="$root/.cache/standins"
mkdir -p "$logs"
"$here/base-image.sh" "$base"
base_id="$(docker image inspect --format '{{.Id}}' "$base")"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"

build() {  # build <tag> <context> <inputs> [base]
  local tag="$1" context="$2" inputs="$3" from="${4:-$base}"
  if [ "$(image_label "$tag" io.runyard.inputs)" = "$inputs" ]; then
    log "$tag is up to date"
    return
  fi
  local build_log="$logs/${tag//[:\/]/_}.log"
  log "building $tag"
  docker build --build-arg "BASE_IMAGE=$from" --label "io.runyard.inputs=$inputs" \
    --tag "$tag" "$context" >"$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; exit 1; }
}

# PostgreSQL comes in through debootstrap too: unpacking it on the host is much faster than an
# apt-get inside a build container.
pg_base=runyard-standin-postgres-base:bookworm
"$here/base-image.sh" "$pg_base" postgresql-15
pg="$here/standins/postgres"
build runyard-standin-postgres:15 "$pg" "$(fingerprint \
  "$(docker image inspect --format '{{.Id}}' "$pg_base")" "$pg/Dockerfile" "$pg/entrypoint.sh")" \
  "$pg_base"

# moto at the version the test environment uses, so the stand-in speaks what the tests expect.
moto_version="$("$python" -c 'import importlib.metadata as m; print(m.version("moto"))' \
  2>/dev/null || echo "")"
s3_context="$root/.cache/standins/s3"
s3_inputs="$(fingerprint "$base_id" "$here/standins/s3/Dockerfile" "moto==$moto_version")"
if [ "$(image_label runyard-standin-s3:moto io.runyard.inputs)" != "$s3_inputs" ]; then
  rm -rf "$s3_context"
  mkdir -p "$s3_context/wheels"
  cp "$here/standins/s3/Dockerfile" "$s3_context/"
  wheels_in_image "$base" "$s3_context/wheels" \
    "moto[s3]${moto_version:+==$moto_version}" flask flask-cors >"$s3_context/pip.log" 2>&1 ||
    { tail -n 30 "$s3_context/pip.log" >&2; exit 1; }
fi
build runyard-standin-s3:moto "$s3_context" "$s3_inputs"
