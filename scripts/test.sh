#!/usr/bin/env bash
# Every test: the main suite, then the container images (built offline), then the container and
# e2e suites against them. The images build after the main suite, not beside it: the build's
# disk and CPU work slowed the suite by more than the build takes alone (16:01 beside it
# against 10:54 alone, and 3:43 for the build). Run by `make test` after lint.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin="${VENV:-.venv}/bin"
workers="${PYTEST_WORKERS:-2}"
build_log="${TMPDIR:-/tmp}/runyard-test-images.log"

"$bin/pytest" -n "$workers" --dist loadgroup -m "not e2e and not container" tests

if docker info >/dev/null 2>&1; then
  echo "Building the container images (log: $build_log)."
  if ! scripts/build-image.sh --offline --standins >"$build_log" 2>&1; then
    cat "$build_log" >&2
    echo "The container images did not build." >&2
    exit 1
  fi
  cat "$build_log"
else
  echo "No Docker engine: the container tests will skip (or fail under RUNYARD_REQUIRE=docker)."
fi
"$bin/pytest" -m "container" tests
"$bin/pytest" -m "e2e" tests/e2e
