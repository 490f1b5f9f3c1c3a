#!/usr/bin/env bash
# Give the ServiceMonitor its credentials: a scrape-only account (no password, DENY on every
# experiment and registered model) and a token of it in the Secret runyard-metrics-token (key:
# token) of the runyard namespace. Run again to renew: it makes a new token, replaces the Secret
# and revokes the old token. The token goes from the server pod to kubectl through a pipe and is
# never printed or written to disk.
# Usage: scripts/metrics-token.sh [--context CONTEXT]   ($KUBECTL overrides the kubectl binary;
#        $SCRAPER_USER the account name, default prometheus; $TOKEN_LIFETIME, default 365d)
set -euo pipefail
kubectl="${KUBECTL:-kubectl}"
user="${SCRAPER_USER:-prometheus}"
lifetime="${TOKEN_LIFETIME:-365d}"
context=()
if [ "${1:-}" = "--context" ]; then
  context=(--context "$2")
fi
k() { "$kubectl" "${context[@]}" -n runyard "$@"; }
server() { k exec deploy/runyard -- runyard "$@"; }

if ! server users list | cut -f1 | grep -qx "$user"; then
  server users create-scraper "$user"
fi
old="$(server tokens list --user "$user" | grep -v "$(printf '\t')revoked" | cut -f2 | grep '^scrape-' || true)"
name="scrape-$(date -u +%Y%m%d%H%M%S)"
server tokens create --user "$user" --name "$name" --expires "$lifetime" | head -n 1 | tr -d '\n' |
  k create secret generic runyard-metrics-token --from-file=token=/dev/stdin \
    --dry-run=client -o yaml | k apply -f -
for previous in $old; do
  server tokens revoke --user "$user" --name "$previous"
done
echo "secret/runyard-metrics-token holds token $name of $user (expires in $lifetime)"
