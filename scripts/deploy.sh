#!/usr/bin/env bash
# Deploy runyard (server, PostgreSQL, MinIO) to the kind cluster and wait until it serves:
# load the image into the nodes, apply the kind overlay, wait for the data stores, the bucket
# and migration Jobs, then the server rollout.
# Usage: scripts/deploy.sh   ($KIND_CLUSTER, default runyard; $RUNYARD_IMAGE, default runyard:dev;
#                             $KUBECONFIG when the cluster's kubeconfig is not the default)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name="${KIND_CLUSTER:-runyard}"
image="${RUNYARD_IMAGE:-runyard:dev}"
kubectl="$root/.venv/bin/kubectl"
[ -x "$kubectl" ] || kubectl=kubectl
k() { "$kubectl" --context "kind-$name" "$@"; }

docker image inspect "$image" >/dev/null 2>&1 || {
  echo "image $image not found: run scripts/build-image.sh first" >&2
  exit 1
}
kind load docker-image --name "$name" "$image"
# A Job's pod template is immutable: remove finished Jobs so a new image can run them again.
k -n runyard delete job runyard-migrate minio-bucket --ignore-not-found --wait=true 2>/dev/null || true
existed=0
k -n runyard get deployment runyard >/dev/null 2>&1 && existed=1
k apply -k "$root/deploy/manifests/overlays/kind"
k -n runyard rollout status statefulset/postgres --timeout=300s
k -n runyard rollout status statefulset/minio --timeout=300s
k -n runyard wait --for=condition=complete job/minio-bucket job/runyard-migrate --timeout=600s
# On a redeploy, new pods pick up a rebuilt image that kept its tag.
[ "$existed" = 1 ] && k -n runyard rollout restart deployment/runyard
k -n runyard rollout status deployment/runyard --timeout=600s
k -n runyard get pods -o wide
echo "runyard is up: kubectl --context kind-$name -n runyard port-forward svc/runyard 5000:5000"
