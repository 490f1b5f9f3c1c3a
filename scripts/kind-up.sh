#!/usr/bin/env bash
# Create the local kind cluster (1 control plane + 2 workers) from deploy/kind/cluster.yaml.
# Reuses a cluster of the same name. Usage: scripts/kind-up.sh   (name: $KIND_CLUSTER or runyard)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name="${KIND_CLUSTER:-runyard}"
for tool in docker kind; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
if kind get clusters 2>/dev/null | grep -qx "$name"; then
  echo "kind cluster $name already exists"
else
  kind create cluster --name "$name" --config "$root/deploy/kind/cluster.yaml" --wait 180s
fi
kubectl="$root/.venv/bin/kubectl"
[ -x "$kubectl" ] || kubectl=kubectl
"$kubectl" --context "kind-$name" get nodes -o wide
