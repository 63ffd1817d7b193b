#!/usr/bin/env bash
# Builds the hook server image from ./Dockerfile with buildah (no daemon, no registry), from the
# local Node base that scripts/installer-test-deps.sh makes, and exports its filesystem for
# test/hooks/image.test.ts. Cached by a hash of its inputs under
# ${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator; writes hook-image.env there.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
BUILDAH=(buildah --storage-driver vfs)
log () { printf '[hook-image %s] %s\n' "$(date +%T)" "$*" >&2; }
started=$SECONDS

[[ -r $CACHE/installer-test.env ]] || bash "$REPO/scripts/installer-test-deps.sh"
BASE_REF=$(sed -n 's/^BASE_REF=//p' "$CACHE/installer-test.env")

KEY=$( { echo "hook image v1 $BASE_REF"; cd "$REPO" && for f in Dockerfile package.json package-lock.json tsconfig.json tsconfig.build.json $(find contract hooks -type f -name '*.ts' -o -name '*.json' | sort); do
  [[ -f $f ]] && { echo "== $f"; cat "$f"; }; done; } | sha256sum | cut -c1-16)
REF=localhost/gtp5g-operator:$KEY
DIR=$CACHE/hook-image-$KEY

if [[ ! -e $DIR/.done ]]; then
  if ! "${BUILDAH[@]}" inspect --type image "$REF" >/dev/null 2>&1; then
    log "buildah bud Dockerfile -> $REF"
    ca=()
    # Behind a TLS-intercepting proxy npm must trust its CA: mounted for the build only.
    if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -r ${NODE_EXTRA_CA_CERTS:-} ]]; then
      ca=(--volume "$NODE_EXTRA_CA_CERTS:/run/gtp5g-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/gtp5g-build-ca.crt)
    fi
    "${BUILDAH[@]}" bud --isolation chroot --layers=false --quiet "${ca[@]}" \
      --build-arg "BASE_IMAGE=$BASE_REF" --build-arg "VERSION=test-$KEY" \
      -f "$REPO/Dockerfile" -t "$REF" "$REPO" >"$CACHE/hook-image-build.log" 2>&1 \
      || { tail -n 40 "$CACHE/hook-image-build.log" >&2; exit 1; }
  fi
  log "exporting the image filesystem to $DIR"
  rm -rf "$DIR"; mkdir -p "$DIR/rootfs"
  ctr=$("${BUILDAH[@]}" from --quiet "$REF")
  trap '"${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
  cp -a "$("${BUILDAH[@]}" mount "$ctr")/." "$DIR/rootfs/"
  "${BUILDAH[@]}" inspect --type image "$REF" >"$DIR/inspect.json"
  "${BUILDAH[@]}" rm "$ctr" >/dev/null
  trap - EXIT
  touch "$DIR/.done"
  # vfs keeps full copies: drop older exports and images.
  find "$CACHE" -maxdepth 1 -name 'hook-image-*' -type d ! -name "hook-image-$KEY" -exec rm -rf {} +
  "${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/gtp5g-operator:' | grep -v ":$KEY\$" \
    | xargs -r "${BUILDAH[@]}" rmi >/dev/null 2>&1 || true
fi

printf 'HOOK_IMAGE_REF=%s\nHOOK_IMAGE_DIR=%s\n' "$REF" "$DIR" >"$CACHE/hook-image.env.tmp"
mv "$CACHE/hook-image.env.tmp" "$CACHE/hook-image.env"
log "ready in $((SECONDS - started)) s: $CACHE/hook-image.env"
