#!/usr/bin/env bash
# The e2e suite on a kind cluster, for machines WITH a Docker engine (CI here has none: it runs
# the same suite on the local process cluster, e2e/cluster). Here the installer pods really run:
# the installer builds gtp5g against the kind node's kernel (the Docker host's), so that host
# needs its kernel headers under /lib/modules and /usr/src.
#   bash e2e/kind/run.sh          create the cluster, install everything, run e2e/scenarios.test.ts
#   KEEP=1 bash e2e/kind/run.sh   leave the cluster up afterwards (kind delete cluster --name gtp5g-e2e)
# Needs: docker, go (kind and helm are built at pinned versions into the cache), npm ci done.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
KIND_VERSION=v0.33.0
METACONTROLLER_CHART_VERSION=4.17.2
NAME=gtp5g-e2e
TAG=e2e
log () { printf '[kind-e2e %s] %s\n' "$(date +%T)" "$*" >&2; }

command -v docker >/dev/null || { log 'docker is required (kind runs nodes as containers)'; exit 1; }
TOOLS=$(bash "$REPO/e2e/cluster/build.sh")
KIND_DIR=$CACHE/kind-$KIND_VERSION
if [[ ! -x $KIND_DIR/kind ]]; then
  log "go install sigs.k8s.io/kind@$KIND_VERSION"
  GOBIN=$KIND_DIR go install "sigs.k8s.io/kind@$KIND_VERSION"
fi
export PATH=$KIND_DIR:$TOOLS:$PATH
KUBECONFIG=$(mktemp -d)/kubeconfig
export KUBECONFIG

cleanup () {
  if [[ ${KEEP:-} != 1 ]]; then kind delete cluster --name "$NAME" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# What a real node gives the installer pod: its modules and headers, and (Debian) the
# linux-kbuild-* trees the headers link to, at the same paths inside each kind node, whose own
# /usr/lib must stay its own.
mounts='{hostPath: /lib/modules, containerPath: /lib/modules, readOnly: true}, {hostPath: /usr/src, containerPath: /usr/src, readOnly: true}'
for kbuild in /usr/lib/linux-kbuild-*; do
  [[ -d $kbuild ]] && mounts+=", {hostPath: $kbuild, containerPath: $kbuild, readOnly: true}"
done
log "kind create cluster --name $NAME (3 workers: the scenarios need three nodes)"
kind create cluster --name "$NAME" --kubeconfig "$KUBECONFIG" --wait 120s --config - <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
    extraMounts: [$mounts]
  - role: worker
    extraMounts: [$mounts]
  - role: worker
    extraMounts: [$mounts]
YAML
log 'building and loading the hook server and installer images'
docker build -t "gtp5g-operator:$TAG" "$REPO"
docker build -t "gtp5g-installer:$TAG" -f "$REPO/installer/Dockerfile" "$REPO"
kind load docker-image --name "$NAME" "gtp5g-operator:$TAG" "gtp5g-installer:$TAG"

log "Metacontroller $METACONTROLLER_CHART_VERSION from its official chart"
helm install metacontroller oci://ghcr.io/metacontroller/metacontroller-helm --version "$METACONTROLLER_CHART_VERSION" \
  --namespace metacontroller --create-namespace --wait

log 'this chart, hook server in-cluster'
kubectl create namespace gtp5g-system
kubectl label namespace gtp5g-system pod-security.kubernetes.io/enforce=restricted
helm install gtp5g-operator "$REPO/helm/gtp5g-operator" --namespace gtp5g-system --wait \
  --set image.repository=gtp5g-operator --set image.tag="$TAG" --set image.pullPolicy=Never \
  --set installer.image.repository=gtp5g-installer --set installer.image.tag="$TAG"
helm test gtp5g-operator --namespace gtp5g-system

# The suite's node names (upf-00N) belong to the local cluster; here every worker is selected.
kubectl label nodes -l '!node-role.kubernetes.io/control-plane' gtp5g.gthulhu.io/enabled=true

log 'running the e2e scenarios'
cd "$REPO"
E2E_KUBECONFIG=$KUBECONFIG npx tap e2e/scenarios.test.ts
