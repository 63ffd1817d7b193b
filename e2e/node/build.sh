#!/usr/bin/env bash
# Builds the pinned upstream binaries of the real node (a kubelet and a CRI runtime in a qemu VM,
# e2e/node/) into a cache keyed by version (never inside the repository) and prints the directory
# of links to them:
#   kubelet                                  k8s.io/kubernetes v1.37.1 (e2e/tools, like the control plane)
#   containerd, containerd-shim-runc-v2, ctr github.com/containerd/containerd/v2 v2.4.2
#   runc                                     github.com/opencontainers/runc v1.5.3 (cgo + libseccomp, static)
#   bridge, host-local, loopback, portmap    github.com/containernetworking/plugins v1.10.0
#   crictl                                   sigs.k8s.io/cri-tools v1.37.0
# Every binary is static: the guest is a plain Debian 12 tree with none of their libraries.
# A rerun with the same pins and go toolchain does nothing; two runs at once are safe (each tool
# is built into a temporary directory and renamed into place).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
K8S_VERSION=v1.37.1
CONTAINERD_VERSION=v2.4.2
RUNC_VERSION=v1.5.3
CNI_PLUGINS_VERSION=v1.10.0
CRI_TOOLS_VERSION=v1.37.0
log () { printf '[node-build %s] %s\n' "$(date +%T)" "$*" >&2; }
go_version=$(go env GOVERSION)
SUDO=(); [[ $(id -u) == 0 ]] || SUDO=(sudo)

# runc filters syscalls with libseccomp (cgo), linked statically from Debian's libseccomp-dev;
# qemu-img (qemu-utils) gives each run of the guest a copy-on-write overlay of the cached disk.
missing=()
for p in libseccomp-dev gcc libc6-dev pkg-config qemu-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  log "installing: ${missing[*]}"
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# build NAME VERSION CMD...: runs CMD with $out set to a fresh temporary directory, then renames
# it to $CACHE/NAME-VERSION-<go> (printed). A directory already there is kept as it is.
build () {
  local name=$1 version=$2; shift 2
  local dir=$CACHE/$name-$version-${go_version#go}
  if [[ ! -e $dir/.done ]]; then
    log "building $name $version"
    local started=$SECONDS
    out=$(mktemp -d "$CACHE/.$name-XXXXXX")
    "$@"
    touch "$out/.done"
    # Another run may have finished first: keep its directory.
    mv -T "$out" "$dir" 2>/dev/null || rm -rf "$out"
    log "$name built in $((SECONDS - started)) s"
  fi
  printf '%s\n' "$dir"
}

mkdir -p "$CACHE"
static=(-trimpath -ldflags "-s -w")
runc_build () {
  GOBIN=$out CGO_ENABLED=1 go install -trimpath -tags 'seccomp urfave_cli_no_docs netgo osusergo' \
    -ldflags "-s -w -X main.version=${RUNC_VERSION#v} -extldflags -static" "github.com/opencontainers/runc@$RUNC_VERSION"
}
containerd_build () {
  local pkg=github.com/containerd/containerd/v2 v=$CONTAINERD_VERSION
  GOBIN=$out CGO_ENABLED=0 go install -trimpath -tags 'no_btrfs urfave_cli_no_docs' \
    -ldflags "-s -w -X $pkg/version.Version=$v -X $pkg/version.Revision=$v" \
    "$pkg/cmd/containerd@$v" "$pkg/cmd/containerd-shim-runc-v2@$v" "$pkg/cmd/ctr@$v"
}
cni_build () {
  local p=github.com/containernetworking/plugins/plugins
  GOBIN=$out CGO_ENABLED=0 go install "${static[@]}" "$p/main/bridge@$CNI_PLUGINS_VERSION" "$p/ipam/host-local@$CNI_PLUGINS_VERSION" \
    "$p/main/loopback@$CNI_PLUGINS_VERSION" "$p/meta/portmap@$CNI_PLUGINS_VERSION"
}
crictl_build () {
  GOBIN=$out CGO_ENABLED=0 go install -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS_VERSION"
}
# The kubelet from e2e/tools, with the flags of e2e/cluster/build.sh so the packages it shares
# with the control plane come from Go's build cache.
tools_key=$( { echo "$K8S_VERSION $go_version"; cat "$REPO/e2e/tools/go.mod" "$REPO/e2e/tools/go.sum"; } | sha256sum | cut -c1-12)
kubelet_build () {
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=37 -X $pkg.gitTreeState=clean"
  done
  (cd "$REPO/e2e/tools" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/" k8s.io/kubernetes/cmd/kubelet)
}

RUNC=$(build runc "$RUNC_VERSION" runc_build)
CONTAINERD=$(build containerd "$CONTAINERD_VERSION" containerd_build)
CNI=$(build cni-plugins "$CNI_PLUGINS_VERSION" cni_build)
CRICTL=$(build crictl "$CRI_TOOLS_VERSION" crictl_build)
KUBELET=$(build kubelet "$K8S_VERSION-$tools_key" kubelet_build)

# One directory of links (e2e/node/guest.ts copies what they point at into the guest).
BIN=$CACHE/node-bin
mkdir -p "$BIN/cni"
ln -sfn "$RUNC/runc" "$BIN/runc"
for f in containerd containerd-shim-runc-v2 ctr; do ln -sfn "$CONTAINERD/$f" "$BIN/$f"; done
for f in bridge host-local loopback portmap; do ln -sfn "$CNI/$f" "$BIN/cni/$f"; done
ln -sfn "$CRICTL/crictl" "$BIN/crictl"
ln -sfn "$KUBELET/kubelet" "$BIN/kubelet"
printf '%s\n' "$BIN"
