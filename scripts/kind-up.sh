#!/usr/bin/env bash
# Create the local kind cluster (1 control plane + 2 workers, deploy/kind/cluster.yaml) on the
# node image named in deploy/kind/settings.env. Reuses a cluster of the same name after
# checking that it has the expected nodes. Usage: scripts/kind-up.sh   ($KIND_CLUSTER overrides)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/settings.sh
. "$root/scripts/settings.sh"
name="$KIND_CLUSTER"
for tool in docker kind; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
if kind get clusters 2>/dev/null | grep -qx "$name"; then
  echo "kind cluster $name already exists"
else
  kind create cluster --name "$name" --config "$root/deploy/kind/cluster.yaml" \
    --image "$KIND_NODE_IMAGE" --wait 180s
fi
kubectl="$(kubectl_bin)"
"$kubectl" --context "kind-$name" get nodes -o wide
# The nodes deploy/kind/cluster.yaml describes, as kind names them: the e2e suite expects them.
workers="$(grep -c 'role: worker' "$root/deploy/kind/cluster.yaml")"
expected="$name-control-plane $name-worker"
for ((i = 2; i <= workers; i++)); do expected+=" $name-worker$i"; done
actual="$("$kubectl" --context "kind-$name" get nodes -o jsonpath='{.items[*].metadata.name}' |
  tr ' ' '\n' | sort | xargs)"
if [ "$actual" != "$expected" ]; then
  echo "cluster $name has nodes [$actual], expected [$expected]; delete it (make kind-down)" >&2
  exit 1
fi
