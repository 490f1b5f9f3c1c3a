#!/usr/bin/env bash
# Delete the local kind cluster. Usage: scripts/kind-down.sh   ($KIND_CLUSTER overrides the name)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/settings.sh
. "$root/scripts/settings.sh"
command -v kind >/dev/null || { echo "kind is not installed" >&2; exit 1; }
kind delete cluster --name "$KIND_CLUSTER"
