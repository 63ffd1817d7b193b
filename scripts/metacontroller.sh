#!/usr/bin/env bash
# Makes Metacontroller v4.17.2 available to the local cluster, in METACONTROLLER_DIR (default
# ~/.cache/gtp5g-operator/metacontroller-v4.17.2): its binary at ./metacontroller and its CRDs in
# ./crds/. A directory that already holds both is used as it is (a binary you provide or built
# yourself). Otherwise, where the network allows, it takes what its project publishes:
#   - the binary, /usr/bin/metacontroller of its official image (buildah, no daemon needed);
#   - the CRDs, from its official Helm chart (`helm show crds`).
# Exits non-zero, saying how to provide it, when neither works; the suites that need it then
# fail in CI (CI=true) and are skipped elsewhere, with that reason.
set -euo pipefail

VERSION=v4.17.2
IMAGE=ghcr.io/metacontroller/metacontroller:$VERSION
CHART=oci://ghcr.io/metacontroller/metacontroller-helm
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
DIR=${METACONTROLLER_DIR:-$CACHE/metacontroller-$VERSION}
HELM=${GTP5G_TOOLS_BIN:-$CACHE/cluster-bin}/helm
log () { printf '[metacontroller %s] %s\n' "$(date +%T)" "$*" >&2; }

have () { [[ -x $DIR/metacontroller ]] && compgen -G "$DIR/crds/*.yaml" >/dev/null; }
if have; then
  log "using $DIR"
  exit 0
fi

tmp=$(mktemp -d)
cleanup () {
  [[ -z ${container:-} ]] || buildah rm "$container" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fetched=true
if [[ ! -x $DIR/metacontroller ]]; then
  log "pulling $IMAGE for its binary"
  if command -v buildah >/dev/null && container=$(timeout 300 buildah from --quiet "docker://$IMAGE" 2>"$tmp/pull.err"); then
    # buildah unshare mounts the container's filesystem at $m for an unprivileged user too.
    # shellcheck disable=SC2016
    copied=$(buildah unshare --mount m="$container" -- sh -c 'cp "$m/usr/bin/metacontroller" "$0"' "$tmp/metacontroller" 2>&1) || { log "copy failed: $copied"; fetched=false; }
  else
    log "cannot pull $IMAGE: $(tail -n 1 "$tmp/pull.err" 2>/dev/null || echo 'buildah is not installed')"
    fetched=false
  fi
fi
if ! compgen -G "$DIR/crds/*.yaml" >/dev/null; then
  log "reading the CRDs of its chart $CHART $VERSION"
  if [[ -x $HELM ]] && timeout 300 "$HELM" show crds "$CHART" --version "${VERSION#v}" >"$tmp/crds.yaml" 2>"$tmp/crds.err" && [[ -s $tmp/crds.yaml ]]; then
    :
  else
    log "cannot read the chart's CRDs: $(tail -n 1 "$tmp/crds.err" 2>/dev/null || echo "no helm at $HELM")"
    fetched=false
  fi
fi

if [[ $fetched != true ]]; then
  cat >&2 <<MSG
Metacontroller $VERSION is not in $DIR and could not be fetched from its project.
Provide it there (or point METACONTROLLER_DIR at another directory):
  - the binary at $DIR/metacontroller: /usr/bin/metacontroller of $IMAGE,
    or built from tag $VERSION of github.com/metacontroller/metacontroller with its Makefile;
  - its CRDs in $DIR/crds/: \`helm show crds $CHART --version ${VERSION#v}\`,
    or manifests/production/metacontroller-crds-v1.yaml of that tag.
MSG
  exit 1
fi
mkdir -p "$DIR/crds"
[[ ! -e $tmp/metacontroller ]] || install -m 0755 "$tmp/metacontroller" "$DIR/metacontroller"
[[ ! -s $tmp/crds.yaml ]] || install -m 0644 "$tmp/crds.yaml" "$DIR/crds/metacontroller-crds.yaml"
log "fetched into $DIR"
