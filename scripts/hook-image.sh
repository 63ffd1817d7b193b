#!/usr/bin/env bash
# Builds the hook server image from ./Dockerfile with buildah (no daemon, no registry), from the
# local Node base that scripts/installer-test-deps.sh makes, and exports its filesystem for
# test/hooks/image.test.ts. Cached by a hash of its inputs under
# ${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator; writes hook-image.env there.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
# shellcheck source=scripts/lib/buildah.sh
. "$REPO/scripts/lib/buildah.sh"
log () { printf '[hook-image %s] %s\n' "$(date +%T)" "$*" >&2; }
started=$SECONDS

[[ -r $CACHE/installer-test.env ]] || bash "$REPO/scripts/installer-test-deps.sh"
BASE_REF=$(sed -n 's/^BASE_REF=//p' "$CACHE/installer-test.env")

KEY=$( { echo "hook image v1 $BASE_REF"; cd "$REPO" && for f in Dockerfile package.json package-lock.json tsconfig.json tsconfig.build.json $(find contract hooks agent -type f -name '*.ts' -o -name '*.json' | sort); do
  [[ -f $f ]] && { echo "== $f"; cat "$f"; }; done; } | sha256sum | cut -c1-16)
build_and_export gtp5g-operator Dockerfile "$KEY" "$BASE_REF" "$REPO" "$CACHE"
REF=localhost/gtp5g-operator:$KEY
DIR=$CACHE/gtp5g-operator-$KEY

printf 'HOOK_IMAGE_REF=%s\nHOOK_IMAGE_DIR=%s\n' "$REF" "$DIR" >"$CACHE/hook-image.env.tmp"
mv "$CACHE/hook-image.env.tmp" "$CACHE/hook-image.env"
log "ready in $((SECONDS - started)) s: $CACHE/hook-image.env"
