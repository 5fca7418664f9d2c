#!/usr/bin/env bash
# Waits until the named CRDs are Established (up to 60 s), e.g.
#   bash hack/wait-crds.sh crd/failures.kubedora.io crd/deployments.kubedora.io
# A CRD applied a moment ago can have no conditions yet, and `kubectl wait`
# then fails at once ("status.conditions accessor error") instead of
# waiting: ask again, and show the error only if it lasts.
set -euo pipefail
for _ in $(seq 30); do
  if kubectl wait --for=condition=Established --timeout=60s "$@" >/dev/null 2>&1; then
    exit 0
  fi
  sleep 2
done
kubectl wait --for=condition=Established --timeout=1s "$@" >/dev/null
