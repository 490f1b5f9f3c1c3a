#!/usr/bin/env bash
# Deploy runyard (server, PostgreSQL, MinIO) to the kind cluster and wait until it serves:
# build the image if it is missing, load it into the nodes, apply the kind overlay with that
# image, wait for the data stores, the bucket and migration Jobs (failing at once when one of
# them fails), then the server rollout.
# Usage: scripts/deploy.sh   (names from deploy/kind/settings.env; $KIND_CLUSTER, $RUNYARD_IMAGE,
#                             $KUBECONFIG and $KUBECTL override; OFFLINE=1 builds a missing image
#                             offline)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/settings.sh
. "$root/scripts/settings.sh"
name="$KIND_CLUSTER"
image="$RUNYARD_IMAGE"
kubectl="$(kubectl_bin)"
k() { "$kubectl" --context "kind-$name" "$@"; }

if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "image $image not found: building it"
  "$root/scripts/build-image.sh" --tag "$image" ${OFFLINE:+--offline}
fi
kind load docker-image --name "$name" "$image"

# The kind overlay with the image this deploy loaded (kustomize `images:` wants name and tag).
overlay="$root/test-output/deploy/overlay"
mkdir -p "$overlay"
image_name="$image" image_tag=latest
if [[ "${image##*/}" == *:* ]]; then image_name="${image%:*}" image_tag="${image##*:}"; fi
cat >"$overlay/kustomization.yaml" <<YAML
# Written by scripts/deploy.sh: the kind overlay with the image $image.
resources: [../../../deploy/manifests/overlays/kind]
images:
  - name: runyard
    newName: $image_name
    newTag: "$image_tag"
YAML

# A Job's pod template is immutable: remove finished Jobs so a new image can run them again.
k -n runyard delete job runyard-migrate minio-bucket --ignore-not-found --wait=true 2>/dev/null || true
existed=0
k -n runyard get deployment runyard >/dev/null 2>&1 && existed=1
k apply -k "$overlay"
k -n runyard rollout status statefulset/postgres --timeout=300s
k -n runyard rollout status statefulset/minio --timeout=300s

# Wait for a Job to complete, and stop at once (with its logs) when it has failed.
wait_job() {
  local job="$1" deadline=$((SECONDS + 600)) state
  while :; do
    state="$(k -n runyard get job "$job" \
      -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}')"
    case " $state " in
      *" Complete "*) echo "job/$job complete"; return 0 ;;
      *" Failed "*)
        echo "job/$job failed:" >&2
        k -n runyard logs "job/$job" --tail=50 >&2 || true
        return 1 ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "job/$job did not finish within 600s" >&2
      k -n runyard logs "job/$job" --tail=50 >&2 || true
      return 1
    fi
    sleep 2
  done
}
wait_job minio-bucket
wait_job runyard-migrate
# On a redeploy, new pods pick up a rebuilt image that kept its tag.
[ "$existed" = 1 ] && k -n runyard rollout restart deployment/runyard
k -n runyard rollout status deployment/runyard --timeout=600s
k -n runyard get pods -o wide
echo "runyard is up: kubectl --context kind-$name -n runyard port-forward svc/runyard 5000:5000"
