#!/usr/bin/env bash
# Makes the real node's guest disk for one of Debian 12's kernels and caches it by the hash of
# everything in it, under ${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator (never in the repository):
#   - the Debian 12 tree that scripts/installer-test-deps.sh debootstraps, plus kmod;
#   - the kernel's /lib/modules, its headers under /usr/src and its linux-kbuild-* in /usr/lib
#     (what the installer's hostPaths mount on a Debian node that has linux-headers installed);
#   - kubelet, containerd, runc, the CNI plugins and crictl from e2e/node/build.sh;
#   - guest/init.sh as PID 1, with containerd's, the kubelet's and the CNI's configuration;
#   - the installer image (buildah, from installer/Dockerfile), the operator image (the hook
#     server and the scheduling agent, scripts/hook-image.sh) and a pause image made here from
#     guest/pause.c, all imported into containerd's k8s.io namespace by a first boot of the
#     disk under qemu (gtp5g.mode=prepare), so every later boot finds them.
# Usage: guest-disk.sh [KERNEL_RELEASE]   (default: the 6.12 kernel). Prints KEY=value lines
# (DISK, KERNEL, VMLINUZ, INITRD, INSTALLER_IMAGE, OPERATOR_IMAGE, PAUSE_IMAGE) and writes them to
# node-disk-<release>.env in the cache. A second run at once waits for the first (flock).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$REPO/e2e/node
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
# shellcheck source=scripts/lib/buildah.sh
. "$REPO/scripts/lib/buildah.sh"
log () { printf '[node-disk %s] %s\n' "$(date +%T)" "$*" >&2; }
hash_of () { sha256sum | cut -c1-16; }
started=$SECONDS

[[ -r $CACHE/installer-test.env ]] || bash "$REPO/scripts/installer-test-deps.sh" >&2
ENV_FILE=$CACHE/installer-test.env
# NODE_BIN: a directory laid out like build.sh's output, for components built elsewhere.
BIN=${NODE_BIN:-$(bash "$HERE/build.sh")}
want=${1:-6.12}
line=$(grep "^KERNEL=$want" "$ENV_FILE" | head -n1) || { log "no kernel $want in $ENV_FILE"; exit 1; }
read -r KVER VMLINUZ INITRD <<<"${line#KERNEL=}"
BASE_REF=$(sed -n 's/^BASE_REF=//p' "$ENV_FILE")
IMAGE_REF=$(sed -n 's/^IMAGE_REF=//p' "$ENV_FILE")
BASE_ROOTFS=$CACHE/base-${BASE_REF##*:}/rootfs
[[ -r $CACHE/hook-image.env ]] || bash "$REPO/scripts/hook-image.sh" >&2
OPERATOR_REF=$(sed -n 's/^HOOK_IMAGE_REF=//p' "$CACHE/hook-image.env")
[[ -d $BASE_ROOTFS ]] || { log "$BASE_ROOTFS is missing: run scripts/installer-test-deps.sh"; exit 1; }

exec 9>"$CACHE/.node-disk.lock"
flock 9

# ---- the pause image: guest/pause.c, static, alone in a scratch image -------------------------
PAUSE_KEY=$( { echo 'pause v1'; cat "$HERE/guest/pause.c"; gcc --version | head -n1; } | hash_of)
PAUSE_REF=localhost/gtp5g-pause:$PAUSE_KEY
if ! "${BUILDAH[@]}" inspect --type image "$PAUSE_REF" >/dev/null 2>&1; then
  log "building $PAUSE_REF"
  tmp=$(mktemp -d)
  gcc -static -Os -Wall -Wextra -Werror -o "$tmp/pause" "$HERE/guest/pause.c"
  strip "$tmp/pause"
  ctr=$("${BUILDAH[@]}" from scratch)
  "${BUILDAH[@]}" copy --quiet "$ctr" "$tmp/pause" /pause >/dev/null
  "${BUILDAH[@]}" config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  "${BUILDAH[@]}" commit --quiet --rm "$ctr" "$PAUSE_REF" >/dev/null
  rm -rf "$tmp"
fi

# ---- the disk -------------------------------------------------------------------------------
inputs=(init.sh containerd.toml kubelet.yaml 10-bridge.conflist pause.c)
KEY=$( { echo "node disk v1 $KVER $BASE_REF $IMAGE_REF $OPERATOR_REF $PAUSE_REF"
  for f in runc containerd containerd-shim-runc-v2 ctr kubelet crictl cni/bridge cni/host-local cni/loopback cni/portmap; do
    readlink -f "$BIN/$f"; done
  sha256sum /bin/busybox "$VMLINUZ" "$INITRD"
  for f in "${inputs[@]}"; do cat "$HERE/guest/$f"; done; } | hash_of)
DISK=$CACHE/node-disk-$KEY.img

if [[ ! -e $DISK ]]; then
  log "making the guest disk for $KVER ($DISK)"
  stage=$(mktemp -d "$CACHE/.node-disk-XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  root=$stage/root
  cp -a "$BASE_ROOTFS" "$root"
  # kmod (modprobe for virtio_net, overlay, bridge, veth): not in debootstrap's minbase.
  (cd "$stage" && chmod 0777 . && apt-get -o APT::Sandbox::User=root download -qq kmod libkmod2 liblzma5 libzstd1 libssl3 >/dev/null)
  # Their files sit in /bin and /sbin, which are links into /usr in this tree: keep the links.
  for deb in "$stage"/*.deb; do dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$root"; done
  rm -f "$stage"/*.deb

  # What the installer's hostPaths find on a Debian node with linux-headers-$(uname -r).
  mkdir -p "$root/usr/lib/modules"
  cp -a "/lib/modules/$KVER" "$root/usr/lib/modules/"
  src=/usr/src/linux-headers-$KVER
  cp -a "$src" "$root/usr/src/"
  common=$(grep -o 'linux-headers-[^/[:space:]]*-common' "$src/Makefile" | head -n1 || true)
  [[ -z $common ]] || cp -a "/usr/src/$common" "$root/usr/src/"
  kbuild=$(dirname "$(readlink -f "$src/scripts")")
  cp -a "$kbuild" "$root/usr/lib/"

  install -m 0755 -t "$root/usr/local/bin" "$BIN"/{runc,containerd,containerd-shim-runc-v2,ctr,kubelet,crictl}
  mkdir -p "$root/opt/cni/bin" "$root/opt/gtp5g-node/bin" "$root/opt/gtp5g-node/images" "$root/etc/containerd" \
    "$root/etc/kubernetes" "$root/etc/cni/net.d" "$root/var/lib/gtp5g"
  install -m 0755 -t "$root/opt/cni/bin" "$BIN"/cni/*
  install -m 0755 /bin/busybox "$root/opt/gtp5g-node/bin/busybox"
  gcc -static -Os -o "$root/opt/gtp5g-node/bin/pause" "$HERE/guest/pause.c"
  install -m 0755 "$HERE/guest/init.sh" "$root/sbin/gtp5g-node-init"
  sed "s|@PAUSE_IMAGE@|$PAUSE_REF|" "$HERE/guest/containerd.toml" >"$root/etc/containerd/config.toml"
  install -m 0644 "$HERE/guest/kubelet.yaml" "$root/etc/kubernetes/kubelet.yaml"
  install -m 0644 "$HERE/guest/10-bridge.conflist" "$root/etc/cni/net.d/10-bridge.conflist"
  printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\n' >"$root/etc/crictl.yaml"
  : >"$root/etc/resolv.conf"
  # docker-archive keeps the image's name (RepoTags) for `ctr images import`.
  "${BUILDAH[@]}" push --quiet "$PAUSE_REF" "docker-archive:$root/opt/gtp5g-node/images/pause.tar:$PAUSE_REF" >/dev/null
  "${BUILDAH[@]}" push --quiet "$IMAGE_REF" "docker-archive:$root/opt/gtp5g-node/images/installer.tar:$IMAGE_REF" >/dev/null
  "${BUILDAH[@]}" push --quiet "$OPERATOR_REF" "docker-archive:$root/opt/gtp5g-node/images/operator.tar:$OPERATOR_REF" >/dev/null

  # Room for containerd's copy of the images (content + unpacked snapshots), pods and builds.
  size_mb=$(( $(du -sm "$root" | cut -f1) + 2 * $(du -sm "$root/opt/gtp5g-node/images" | cut -f1) + 2048 ))
  mke2fs -q -t ext4 -E root_owner=0:0 -d "$root" -F "$stage/disk.img" "${size_mb}M"
  rm -rf "$root"

  log 'first boot: importing the images into containerd'
  boot_started=$SECONDS
  timeout 1200 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 3072 -nographic -no-reboot -nic none \
    -kernel "$VMLINUZ" -initrd "$INITRD" \
    -append 'console=ttyS0 panic=-1 loglevel=3 gtp5g.init=/sbin/gtp5g-node-init gtp5g.mode=prepare' \
    -drive "file=$stage/disk.img,format=raw,if=virtio,discard=unmap" </dev/null >"$stage/console.log" 2>&1 || true
  if ! grep -q '@@NODE prepared' "$stage/console.log"; then
    tail -n 40 "$stage/console.log" >&2
    log 'the first boot did not finish'
    exit 1
  fi
  grep '@@NODE' "$stage/console.log" >&2
  log "images imported in $((SECONDS - boot_started)) s (boot included)"
  mv "$stage/disk.img" "$DISK"
fi

# The disk an earlier recipe made for this kernel goes, unless another kernel's env names it.
old=$(sed -n 's/^DISK=//p' "$CACHE/node-disk-$KVER.env" 2>/dev/null || true)
if [[ -n $old && $old != "$DISK" ]] && ! grep -qsx "DISK=$old" "$CACHE"/node-disk-*.env --exclude="node-disk-$KVER.env"; then
  rm -f "$old"
fi
cat >"$CACHE/node-disk-$KVER.env.tmp" <<ENV
DISK=$DISK
KERNEL=$KVER
VMLINUZ=$VMLINUZ
INITRD=$INITRD
INSTALLER_IMAGE=$IMAGE_REF
OPERATOR_IMAGE=$OPERATOR_REF
PAUSE_IMAGE=$PAUSE_REF
ENV
mv "$CACHE/node-disk-$KVER.env.tmp" "$CACHE/node-disk-$KVER.env"
cat "$CACHE/node-disk-$KVER.env"
log "ready in $((SECONDS - started)) s"
