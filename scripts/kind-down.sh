#!/usr/bin/env bash
# Delete the local kind cluster. Usage: scripts/kind-down.sh   (name: $KIND_CLUSTER or runyard)
set -euo pipefail
name="${KIND_CLUSTER:-runyard}"
command -v kind >/dev/null || { echo "kind is not installed" >&2; exit 1; }
kind delete cluster --name "$name"
