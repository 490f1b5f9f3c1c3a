#!/usr/bin/env bash
# Load deploy/kind/settings.env into the environment, keeping any variable already set, and
# define the shared helpers of the cluster scripts. Sourced, not run.
_settings_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
while IFS='=' read -r _key _value; do
  case "$_key" in '' | '#'*) continue ;; esac
  if [ -z "${!_key:-}" ]; then export "$_key=$_value"; fi
done <"$_settings_root/deploy/kind/settings.env"
unset _key _value

# kubectl: $KUBECTL when set, else the project's venv's (pinned next to the cluster version),
# else the one on PATH.
kubectl_bin() {
  if [ -n "${KUBECTL:-}" ]; then echo "$KUBECTL"
  elif [ -x "$_settings_root/.venv/bin/kubectl" ]; then echo "$_settings_root/.venv/bin/kubectl"
  elif command -v kubectl; then :
  else echo "kubectl not found: run make venv (it installs the pinned kubectl)" >&2; return 1; fi
}
