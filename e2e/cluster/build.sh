#!/usr/bin/env bash
# Builds the pinned upstream binaries of the local cluster into a cache keyed by version
# (never inside the repository) and prints the directory that holds them:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  k8s.io/kubernetes v1.37.1
#   etcd                                                                go.etcd.io/etcd v3.7.0
#   kwok                                                                sigs.k8s.io/kwok v0.8.0
#   helm                                                                helm.sh/helm/v3 v3.22.0
# Kubernetes and etcd come from e2e/tools (a module with `replace` lines for k8s's staging
# modules, so `go install pkg@version` cannot build them) in ONE `go build`, sharing the compile
# work. A rerun with the same pins and go toolchain does nothing.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
K8S_VERSION=v1.37.1
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
log () { printf '[cluster-build %s] %s\n' "$(date +%T)" "$*" >&2; }

# The cluster's certificates are made with the openssl CLI (e2e/cluster/certs.ts).
if ! command -v openssl >/dev/null; then
  log 'installing openssl'
  SUDO=(); [[ $(id -u) == 0 ]] || SUDO=(sudo)
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y --no-install-recommends openssl >/dev/null
fi

go_version=$(go env GOVERSION)
tools_key=$( { echo "$K8S_VERSION $go_version"; cat "$REPO/e2e/tools/go.mod" "$REPO/e2e/tools/go.sum" "$REPO/e2e/tools/etcd/main.go"; } | sha256sum | cut -c1-12)
K8S_BIN=$CACHE/k8s-$K8S_VERSION-$tools_key
if [[ ! -e $K8S_BIN/.done ]]; then
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $K8S_VERSION and etcd into $K8S_BIN (about 8 min cold)"
  mkdir -p "$K8S_BIN"
  started=$SECONDS
  # Version stamps so /version and `kubectl version` tell the truth.
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${K8S_VERSION#v1.}"
    ldflags+=" -X $pkg.gitTreeState=clean"
  done
  ldflags=${ldflags//gitMinor=37.1/gitMinor=37}
  (cd "$REPO/e2e/tools" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$K8S_BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ./etcd)
  touch "$K8S_BIN/.done"
  log "kubernetes + etcd built in $((SECONDS - started)) s"
fi

# kwok and Helm carry no replace lines: plain `go install` at a pinned version.
go_tool () {
  local name=$1 pkg=$2 version=$3
  local dir=$CACHE/$name-$version-${go_version#go}
  if [[ ! -e $dir/.done ]]; then
    log "go install $pkg@$version"
    local started=$SECONDS
    mkdir -p "$dir"
    GOBIN=$dir CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$pkg@$version"
    touch "$dir/.done"
    log "$name built in $((SECONDS - started)) s"
  fi
  printf '%s\n' "$dir"
}
KWOK_BIN=$(go_tool kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION")
HELM_BIN=$(go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION")

# kwok's Stage CRD and the stock node and pod-delete stages ship in its module, not its binary:
# keep a copy beside the binary (the pod stages that play the installer are ours, e2e/cluster/stages.ts).
if [[ ! -e $KWOK_BIN/kustomize/.done ]]; then
  kwok_src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$KWOK_BIN/kustomize"
  for f in crd/bases/kwok.x-k8s.io_stages.yaml stage/node/fast/node-initialize.yaml \
    stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml stage/pod/fast/pod-delete.yaml; do
    install -m 0644 "$kwok_src/kustomize/$f" "$KWOK_BIN/kustomize/$(basename "$f")"
  done
  touch "$KWOK_BIN/kustomize/.done"
fi

# One directory of links the cluster scripts put first on PATH.
BIN=$CACHE/cluster-bin
mkdir -p "$BIN"
for f in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd; do ln -sfn "$K8S_BIN/$f" "$BIN/$f"; done
ln -sfn "$KWOK_BIN/kwok" "$BIN/kwok"
ln -sfn "$KWOK_BIN/kustomize" "$BIN/kwok-kustomize"
ln -sfn "$HELM_BIN/helm" "$BIN/helm"
printf '%s\n' "$BIN"
