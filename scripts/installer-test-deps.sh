#!/usr/bin/env bash
# Prepares what the installer's real-kernel tests need, idempotently, and caches it by input hash
# under ${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator (never inside the repository):
#   1. apt packages: Debian 12's kernels (6.1 and 6.12) + headers, qemu, buildah, debootstrap,
#      busybox, toolchain;
#   2. local stand-ins for node:20-bookworm-slim (debootstrap bookworm + this host's Node 20) and
#      for debian:bookworm-slim (the same tree without Node, slimmed), because no container
#      registry is reachable from CI;
#   3. installer/Dockerfile built with buildah from those bases, its filesystem exported;
#   4. per kernel, an initramfs (busybox + virtio/ext4 modules) that boots it into an ext4 image.
# Writes installer-test.env in the cache dir; the tests read it (test/support/realenv.ts).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# shellcheck source=scripts/lib/buildah.sh
. "$REPO/scripts/lib/buildah.sh"
mkdir -p "$CACHE"
log () { printf '[installer-test-deps %s] %s\n' "$(date +%T)" "$*" >&2; }
started=$SECONDS

# ---- 1. packages ----------------------------------------------------------------------------
# Debian 12's two kernel lines, each with its headers: 6.1 (linux-image-amd64) and 6.12
# (linux-image-6.12-amd64, from bookworm-security). pahole: Debian's 6.12 headers ship a BTF
# vmlinux, so their kbuild runs pahole on every module it links (and spec.btf needs it on 6.1).
KERNEL_METAS=(linux-image-amd64 linux-image-6.12-amd64)
PACKAGES=("${KERNEL_METAS[@]}" linux-headers-amd64 linux-headers-6.12-amd64 qemu-system-x86 buildah
  debootstrap busybox-static cpio xz-utils e2fsprogs kmod gcc make libc6-dev pahole ca-certificates shellcheck)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  log "installing: ${missing[*]}"
  SUDO=(); [[ $(id -u) == 0 ]] || SUDO=(sudo)
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# The release each meta-package points at, e.g. 6.1.0-56-amd64 and 6.12.117+deb12-amd64 (the
# headers meta-packages move in lock-step).
KVERS=()
for meta in "${KERNEL_METAS[@]}"; do
  kver=$(dpkg-query -W -f='${Depends}' "$meta" | grep -o 'linux-image-[0-9][^ ,]*' | head -n1 | sed 's/^linux-image-//')
  [[ -r /boot/vmlinuz-$kver && -e /lib/modules/$kver/build/Makefile ]] || { log "kernel $kver ($meta) or its headers missing"; exit 1; }
  KVERS+=("$kver")
done

hash_of () { sha256sum | cut -c1-16; }

# ---- 2. base image: debootstrap bookworm + the host's Node 20 -------------------------------
NODE_BIN=$(command -v node)
NPM_DIR=$(npm root -g 2>/dev/null)/npm
BASE_KEY=$( { echo "base v1 $SUITE minbase"; sha256sum "$NODE_BIN"; cat "$NPM_DIR/package.json"; } | hash_of)
BASE_REF=localhost/gtp5g-node-base:$BASE_KEY
BASE_DIR=$CACHE/base-$BASE_KEY
if [[ ! -e $BASE_DIR/.done ]]; then
  log "debootstrap $SUITE into $BASE_DIR"
  rm -rf "$BASE_DIR"; mkdir -p "$BASE_DIR"
  debootstrap --variant=minbase "$SUITE" "$BASE_DIR/rootfs" "$MIRROR" >"$BASE_DIR/debootstrap.log" 2>&1 \
    || { tail -n 30 "$BASE_DIR/debootstrap.log" >&2; exit 1; }
  # Node 20 is not in bookworm (it has 18). The host's binary needs only libc, libstdc++ and
  # libgcc_s, all in minbase; npm is plain JavaScript.
  install -m 0755 "$NODE_BIN" "$BASE_DIR/rootfs/usr/local/bin/node"
  mkdir -p "$BASE_DIR/rootfs/usr/local/lib/node_modules"
  cp -a "$NPM_DIR" "$BASE_DIR/rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$BASE_DIR/rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$BASE_DIR/rootfs/usr/local/bin/npx"
  rm -rf "$BASE_DIR/rootfs/var/cache/apt/archives/"*.deb "$BASE_DIR/rootfs/var/lib/apt/lists/"*
  env -u NODE_EXTRA_CA_CERTS chroot "$BASE_DIR/rootfs" /usr/local/bin/node -e 'process.exit(process.versions.node.startsWith("20.") ? 0 : 1)'
  touch "$BASE_DIR/.done"
fi
if ! "${BUILDAH[@]}" inspect --type image "$BASE_REF" >/dev/null 2>&1; then
  log "importing the base into buildah as $BASE_REF"
  ctr=$("${BUILDAH[@]}" from scratch)
  trap '"${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
  mnt=$("${BUILDAH[@]}" mount "$ctr")
  cp -a "$BASE_DIR/rootfs/." "$mnt/"
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$ctr"
  "${BUILDAH[@]}" commit --quiet --rm "$ctr" "$BASE_REF" >/dev/null
  trap - EXIT
fi

# The stand-in for debian:bookworm-slim, the installer image's final stage: the tree above without
# Node and npm, slimmed as the official image is (docs but their copyrights, man and info pages,
# translations removed, and a dpkg config that keeps them out of later installs), no apt lists.
# Made from the debootstrap above, not a second one; kept only as a buildah image.
SLIM_EXCLUDES=(/usr/share/doc/'*' /usr/share/groff/'*' /usr/share/info/'*' /usr/share/linda/'*'
  /usr/share/lintian/overrides/'*' /usr/share/locale/'*' /usr/share/man/'*')
SLIM_INCLUDES=(/usr/share/doc/'*'/copyright /usr/share/locale/locale.alias)
RUNTIME_KEY=$( { echo "runtime v1 $BASE_KEY"; printf '%s\n' "${SLIM_EXCLUDES[@]}" "${SLIM_INCLUDES[@]}"; } | hash_of)
RUNTIME_REF=localhost/gtp5g-debian-base:$RUNTIME_KEY
if ! "${BUILDAH[@]}" inspect --type image "$RUNTIME_REF" >/dev/null 2>&1; then
  log "importing the slim Debian base into buildah as $RUNTIME_REF"
  ctr=$("${BUILDAH[@]}" from scratch)
  trap '"${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
  mnt=$("${BUILDAH[@]}" mount "$ctr")
  tar -C "$BASE_DIR/rootfs" --exclude=./usr/local/bin/node --exclude=./usr/local/bin/npm \
    --exclude=./usr/local/bin/npx --exclude=./usr/local/lib/node_modules -cf - . | tar -C "$mnt" -xpf -
  { printf 'path-exclude %s\n' "${SLIM_EXCLUDES[@]}"; printf 'path-include %s\n' "${SLIM_INCLUDES[@]}"; } \
    >"$mnt/etc/dpkg/dpkg.cfg.d/docker"
  find "$mnt/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$mnt/usr/share/doc" -mindepth 1 -depth -type d -empty -delete
  find "$mnt/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$mnt"/usr/share/{groff,info,linda,lintian/overrides,man}/* "$mnt"/var/cache/apt/*.bin "$mnt"/var/lib/apt/lists/*
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$ctr"
  "${BUILDAH[@]}" commit --quiet --rm "$ctr" "$RUNTIME_REF" >/dev/null
  trap - EXIT
  # vfs keeps full copies: drop the stand-ins of earlier recipes.
  "${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/gtp5g-debian-base:' | grep -v ":$RUNTIME_KEY\$" \
    | xargs -r "${BUILDAH[@]}" rmi >/dev/null 2>&1 || true
fi

# ---- 3. the installer image, from installer/Dockerfile ----------------------------------------
# Built from both stand-ins: the Node one for the build stage and the node binary, the plain
# Debian one for the final stage.
IMAGE_KEY=$( { echo "image v2 $BASE_KEY $RUNTIME_KEY"; cd "$REPO" && for f in installer/* installer/*/* contract/* package.json package-lock.json tsconfig.json tsconfig.build.json; do
  [[ -f $f && $f != *.md ]] && { echo "== $f"; cat "$f"; }; done; } | hash_of)
build_and_export gtp5g-installer installer/Dockerfile "$IMAGE_KEY" "$BASE_REF" "$REPO" "$CACHE" "RUNTIME_IMAGE=$RUNTIME_REF"
IMAGE_REF=localhost/gtp5g-installer:$IMAGE_KEY
IMAGE_DIR=$CACHE/gtp5g-installer-$IMAGE_KEY

# ---- 4. initramfs per kernel: busybox + the modules needed to mount an ext4 virtio disk ---------
INIT_SRC=$REPO/test/installer/fixtures/initramfs-init.sh
KERNEL_LINES=()
for kver in "${KVERS[@]}"; do
  initrd_key=$( { echo "initrd v2 $kver"; cat "$INIT_SRC"; sha256sum /bin/busybox; } | hash_of)
  initrd=$CACHE/initramfs-$initrd_key.cpio.gz
  if [[ ! -e $initrd ]]; then
    log "building $initrd for $kver"
    stage=$(mktemp -d)
    mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
    cp /bin/busybox "$stage/bin/busybox"
    install -m 0755 "$INIT_SRC" "$stage/init"
    # Dependency order as modprobe resolves it; crc32c is a soft dependency of ext4. Built-in
    # ones print "builtin ..." and are skipped.
    for m in crc32c_generic virtio_pci virtio_blk ext4; do
      modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
    done | awk '!seen[$0]++' | while read -r ko; do
      # 6.12's modules are xz-compressed; stored plain so busybox's insmod needs no xz support.
      name=$(basename "$ko" .xz)
      case $ko in *.xz) xz -dc "$ko" >"$stage/modules/$name" ;; *) cp "$ko" "$stage/modules/" ;; esac
      echo "$name" >>"$stage/modules/order"
    done
    (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1 >"$initrd.tmp") && mv "$initrd.tmp" "$initrd"
    rm -rf "$stage"
  fi
  KERNEL_LINES+=("KERNEL=$kver /boot/vmlinuz-$kver $initrd")
done

cat >"$CACHE/installer-test.env.tmp" <<ENV
$(printf '%s\n' "${KERNEL_LINES[@]}")
IMAGE_REF=$IMAGE_REF
IMAGE_ROOTFS=$IMAGE_DIR/rootfs
BASE_REF=$BASE_REF
RUNTIME_REF=$RUNTIME_REF
ENV
mv "$CACHE/installer-test.env.tmp" "$CACHE/installer-test.env"
log "ready in $((SECONDS - started)) s: $CACHE/installer-test.env"
