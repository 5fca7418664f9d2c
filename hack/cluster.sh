#!/usr/bin/env bash
# Starts or stops the local control plane in the background for people and
# scripts (make cluster-up / cluster-down). Idempotent both ways.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dev="$root/.cache/dev"
bin="$root/.cache/bin/kube-controlplane"
pidfile="$dev/controlplane.pid"
kubeconfig="$dev/kubeconfig"
log="$dev/controlplane.log"

running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

up() {
  if running; then
    echo "control plane already running (pid $(cat "$pidfile")); kubeconfig: $kubeconfig"
    return 0
  fi
  bash "$root/tests/controlplane/build.sh"
  mkdir -p "$dev"
  rm -f "$kubeconfig"
  # setsid: the server must outlive this shell and make's process group.
  setsid "$bin" --data-dir "$dev/data" --kubeconfig "$kubeconfig" >"$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 1 600); do
    if grep -q "^controlplane ready" "$log" 2>/dev/null; then
      grep "^controlplane ready" "$log"
      echo "export KUBECONFIG=$kubeconfig"
      return 0
    fi
    if ! running; then
      echo "control plane exited during startup; last lines of $log:" >&2
      tail -n 30 "$log" >&2
      rm -f "$pidfile"
      return 1
    fi
    sleep 0.1
  done
  echo "control plane not ready after 60s; see $log" >&2
  return 1
}

down() {
  if ! running; then
    echo "control plane not running"
    rm -f "$pidfile"
    return 0
  fi
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile" "$kubeconfig"
      echo "control plane stopped"
      return 0
    fi
    sleep 0.1
  done
  echo "control plane did not stop within 30s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile" "$kubeconfig"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if running; then echo "running (pid $(cat "$pidfile"))"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
