#!/usr/bin/env bash
# make e2e-kind: on a machine with Docker and kind, install kubedora from
# manifests/ into a kind cluster, send a PagerDuty incident (triggered, then
# resolved) through a port-forward, and wait for the scoreboard to count it.
# Documented, not run in CI (CI has no Docker engine).
set -euo pipefail
image=${1:-kubedora:0.1.0}
cluster=kubedora-e2e
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

for tool in docker kind kubectl curl; do
  command -v "$tool" >/dev/null || { echo "e2e-kind needs $tool" >&2; exit 2; }
done
kind get clusters | grep -qx "$cluster" || kind create cluster --name "$cluster"
kubectl config use-context "kind-$cluster"
kind load docker-image "$image" --name "$cluster"

kubectl apply --server-side -k crds/
bash hack/wait-crds.sh crd/failures.kubedora.io
kubectl apply -f manifests/peering.yaml
bash hack/wait-crds.sh crd/clusterkopfpeerings.kopf.dev
kubectl apply -k manifests/
key=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
kubectl -n kubedora create secret generic kubedora-api-keys --from-literal=e2e="$key" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl -n kubedora rollout status deployment/kubedora --timeout=180s

kubectl -n kubedora port-forward svc/kubedora-receiver 18080:8080 >/dev/null &
forward=$!
trap 'kill $forward 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:18080/readyz >/dev/null 2>&1 && break; sleep 0.2; done

deliver() {  # event_type occurred_at status
  curl -fsS -X POST http://127.0.0.1:18080/api/v2/webhook \
    -H "Content-Type: application/json" -H "DD-API-KEY: $key" -H "dd_env: prod" \
    --data @- <<JSON
{"event": {"id": "e2e-$1", "event_type": "incident.$1", "resource_type": "incident",
  "occurred_at": "$2", "agent": null, "client": null,
  "data": {"id": "Q1E2E2E2E2E2E2", "type": "incident", "number": 1,
    "html_url": "https://example.pagerduty.com/incidents/Q1E2E2E2E2E2E2",
    "status": "$3", "title": "e2e incident", "created_at": "$4",
    "service": {"id": "PE2E", "summary": "checkout", "type": "service_reference",
      "html_url": "https://example.pagerduty.com/services/PE2E"},
    "teams": [], "priority": null, "urgency": "high", "incident_key": null}}}
JSON
}
started=$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:%SZ)
resolved=$(date -u -d '-4 minutes' +%Y-%m-%dT%H:%M:%SZ)
deliver triggered "$started" triggered "$started"
deliver resolved "$resolved" resolved "$started"

for _ in $(seq 1 120); do
  restored=$(kubectl -n kubedora get dsrc default -o jsonpath='{.status.summary.restoredFailures}')
  if [[ "$restored" == "1" ]]; then
    kubectl -n kubedora get dsrc,fail
    echo "e2e-kind: the incident was counted and restored"
    exit 0
  fi
  sleep 1
done
echo "e2e-kind: the scoreboard never counted the incident" >&2
kubectl -n kubedora logs deployment/kubedora --all-containers --tail=50 >&2
exit 1
