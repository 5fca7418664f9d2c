#!/usr/bin/env bash
# `make run`: the embedded default. Starts the local control plane unless
# KUBECONFIG is set, applies the CRDs and samples, runs the operator and the
# receiver (127.0.0.1:8080), prints the scoreboard, and stops on Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin="$root/.venv/bin"
started_cluster=false

if [[ -z "${KUBECONFIG:-}" ]]; then
  if ! bash hack/cluster.sh status >/dev/null 2>&1; then
    bash hack/cluster.sh up >/dev/null
    started_cluster=true
  fi
  export KUBECONFIG="$root/.cache/dev/kubeconfig"
fi
echo "cluster: $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if $started_cluster; then bash hack/cluster.sh down; fi
}
trap cleanup EXIT
trap 'exit 0' INT TERM

kubectl apply --server-side -k crds/ >/dev/null
bash hack/wait-crds.sh crd/failures.kubedora.io crd/deployments.kubedora.io \
  crd/dorasources.kubedora.io
kubectl create namespace kubedora --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f manifests/samples/dorasource.yaml -f manifests/samples/catalog.yaml >/dev/null
"$bin/python" hack/samples.py | kubectl apply -n kubedora -f - >/dev/null

# A small git repository served on loopback: deployments that ship its
# commits give the scoreboard a lead time and a rollback.
logs="$root/.cache/dev"
mkdir -p "$logs"
shipped="$logs/git-history.yaml"
rm -f "$shipped"
"$bin/python" hack/git_history.py "$logs/git-samples" "$shipped" >"$logs/git-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do [[ -f "$shipped" ]] && break; sleep 0.2; done
if [[ ! -f "$shipped" ]]; then
  echo "the sample git server did not start; see $logs/git-server.log" >&2
  exit 1
fi
host=$("$bin/python" -c 'import sys, yaml; print(next(yaml.safe_load_all(open(sys.argv[1])))["host"])' "$shipped")
kubectl patch dsrc production -n kubedora --type merge \
  -p "{\"spec\": {\"git\": {\"hosts\": [{\"host\": \"$host\"}]}}}" >/dev/null
"$bin/python" -c 'import sys, yaml; yaml.safe_dump_all(list(yaml.safe_load_all(open(sys.argv[1])))[1:], sys.stdout)' "$shipped" \
  | kubectl apply -n kubedora -f - >/dev/null
echo "applied the CRDs and samples to namespace kubedora (git history served at http://$host)"
KUBEDORA_GIT_CACHE_DIR="$logs/git-cache" KUBEDORA_RESYNC_SECONDS=30 "$bin/kubedora" operator --namespace kubedora --standalone \
  >"$logs/operator.log" 2>&1 &
pids+=($!)
"$bin/kubedora" receiver --namespace kubedora --host 127.0.0.1 --port 8080 \
  >"$logs/receiver.log" 2>&1 &
pids+=($!)

# The scoreboard, once the lead time from git is in it.
for _ in $(seq 1 300); do
  if [[ -n "$(kubectl get dsrc production -n kubedora -o jsonpath='{.status.summary.medianLeadTimeSeconds}' 2>/dev/null)" ]]; then
    break
  fi
  sleep 0.2
done
# A catalog workload rolled out twice: applied (revision 1), then one
# `kubectl set image` (revision 2). The operator records each rollout.
kubectl apply -f manifests/samples/rollout.yaml >/dev/null
kubectl rollout status -n kubedora deployment/checkout --timeout=120s >/dev/null
kubectl set image -n kubedora deployment/checkout checkout=example.test/acme/checkout:1.5.0 >/dev/null
kubectl rollout status -n kubedora deployment/checkout --timeout=120s >/dev/null
echo "rolled out deployment/checkout twice (1.4.0, then 1.5.0)"
rollouts() {
  kubectl get ddeploy -n kubedora -l kubedora.io/source=kubernetes -o name 2>/dev/null | wc -l
}
for _ in $(seq 1 300); do
  [[ "$(rollouts)" -ge 2 ]] && break
  sleep 0.2
done
# The scoreboard once it has counted them: computed after the second record.
recorded=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for _ in $(seq 1 300); do
  end=$(kubectl get dsrc production -n kubedora -o jsonpath='{.status.windowEnd}' 2>/dev/null || true)
  if [[ -n "$end" && "$end" > "$recorded" ]]; then
    break
  fi
  sleep 0.2
done
echo
kubectl get dsrc -n kubedora
echo
kubectl get ddeploy -n kubedora -l kubedora.io/source=kubernetes
echo
kubectl get dora -n kubedora
echo
"$bin/kubedora" metrics -n kubedora
cat <<TXT

operator log: $logs/operator.log   receiver: http://127.0.0.1:8080 (log: $logs/receiver.log)
dashboard: http://127.0.0.1:8082/namespaces/kubedora   Prometheus metrics: http://127.0.0.1:8082/metrics
KUBECONFIG=$KUBECONFIG
Press Ctrl-C to stop.
TXT
wait
