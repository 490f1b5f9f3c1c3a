#!/usr/bin/env bash
# Offline checks of the deployment files: render the kustomize base, the kind and production
# overlays and the ServiceMonitor component, validate every object against the schemas of KUBERNETES_VERSION
# (deploy/kind/settings.env), lint the
# YAML and the Dockerfile, and run checkov's policies. Needs no cluster and no network.
# Usage: scripts/check-manifests.sh   (tools from .venv/bin, else from PATH)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/settings.sh
. "$root/scripts/settings.sh"
bin="$root/.venv/bin"
tool() { if [ -x "$bin/$1" ]; then echo "$bin/$1"; else command -v "$1"; fi; }
kubectl="$(tool kubectl)"
cd "$root"
# Inside the repository, so the component test overlay can refer to the sources relatively.
out="test-output/manifests"
rm -rf "$out"
mkdir -p "$out"

echo "== render"
"$kubectl" kustomize deploy/manifests/base >"$out/base.yaml"
"$kubectl" kustomize deploy/manifests/overlays/kind >"$out/kind.yaml"
"$kubectl" kustomize deploy/manifests/overlays/production >"$out/production.yaml"
mkdir -p "$out/monitored"
cat >"$out/monitored/kustomization.yaml" <<YAML
resources: [../../../deploy/manifests/overlays/kind]
components: [../../../deploy/manifests/components/servicemonitor]
YAML
"$kubectl" kustomize "$out/monitored" >"$out/monitored.yaml"
grep -q '^kind: ServiceMonitor' "$out/monitored.yaml"

echo "== kubernetes-validate ($KUBERNETES_VERSION, strict)"
"$(tool kubernetes-validate)" --strict -k "$KUBERNETES_VERSION" --quiet "$out/base.yaml" "$out/kind.yaml" \
  "$out/production.yaml"

echo "== yamllint"
"$(tool yamllint)" -s deploy .yamllint .checkov.yaml

echo "== hadolint"
"$(tool hadolint)" Dockerfile

echo "== checkov"
"$(tool checkov)" --config-file .checkov.yaml --framework kubernetes -f "$out/kind.yaml"
"$(tool checkov)" --config-file .checkov.yaml --framework kubernetes -f "$out/production.yaml"
"$(tool checkov)" --config-file .checkov.yaml --framework dockerfile -f Dockerfile
echo "all deployment checks passed"
