#!/usr/bin/env bash
# Every test, in the fewest minutes: the container images build in the background while the
# main suite runs (the build waits on disk and network far more than on the CPU), then the
# container and e2e suites run against them. Run by `make test` after lint.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin="${VENV:-.venv}/bin"
workers="${PYTEST_WORKERS:-2}"
build_log="${TMPDIR:-/tmp}/runyard-test-images.log"

build_pid=""
if docker info >/dev/null 2>&1; then
  echo "Building the container images in the background (log: $build_log)."
  # In a process group of its own, so a failed or interrupted suite stops the whole build.
  setsid scripts/build-image.sh --offline --standins >"$build_log" 2>&1 &
  build_pid=$!
  trap 'kill -- "-$build_pid" 2>/dev/null || true' EXIT
else
  echo "No Docker engine: the container tests will skip (or fail under RUNYARD_REQUIRE=docker)."
fi

"$bin/pytest" -n "$workers" --dist loadgroup -m "not e2e and not container" tests

if [ -n "$build_pid" ]; then
  # The image build is a step of its own, so its minutes do not count against a test's timeout.
  if ! wait "$build_pid"; then
    cat "$build_log" >&2
    echo "The container images did not build." >&2
    exit 1
  fi
  cat "$build_log"
fi
trap - EXIT
"$bin/pytest" -m "container" tests
"$bin/pytest" -m "e2e" tests/e2e
