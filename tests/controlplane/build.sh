#!/usr/bin/env bash
# Builds the local control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok's simulated kubelets, in one binary) into
# .cache/bin/kube-controlplane, only when the sources in this folder (or the
# Go toolchain) changed since the last build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/.cache/bin/kube-controlplane"
stamp="$root/.cache/bin/kube-controlplane.stamp"

export GOTOOLCHAIN=local CGO_ENABLED=0
fingerprint=$( (go version; cd "$here" && cat go.mod go.sum ./*.go build.sh) | sha256sum | cut -d' ' -f1)
if [[ -x "$out" && -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]]; then
  exit 0
fi

cd "$here"
version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
kwok=$(go list -m -f '{{.Version}}' sigs.k8s.io/kwok)
major=$(echo "$version" | sed -E 's/^v([0-9]+)\..*/\1/')
minor=$(echo "$version" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
ldflags+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"

echo "building the local control plane (Kubernetes $version, kwok $kwok); the first build takes several minutes, later ones seconds" >&2
start=$(date +%s)
mkdir -p "$(dirname "$out")"
go build -trimpath -ldflags "$ldflags" -o "$out.new" .
mv "$out.new" "$out"
echo "$fingerprint" > "$stamp"
echo "built $out in $(( $(date +%s) - start ))s" >&2
