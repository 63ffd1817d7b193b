# shellcheck shell=bash
# Shared by the scripts that build this repository's images for the tests: buildah with vfs
# storage and chroot isolation (no daemon, no registry), the image's filesystem exported so the
# tests can run what the Dockerfile produced. Callers define log() and source this file.

BUILDAH=(buildah --storage-driver vfs)

# read_build_ca ARRAY
# Behind a TLS-intercepting proxy npm must trust the proxy's CA: when NODE_EXTRA_CA_CERTS names a
# readable bundle, sets ARRAY to the buildah arguments that mount it for the build only (the
# Dockerfiles never copy it into a layer); otherwise leaves ARRAY empty.
read_build_ca () {
  local -n into=$1
  into=()
  if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -r ${NODE_EXTRA_CA_CERTS:-} ]]; then
    # shellcheck disable=SC2034 # a nameref: the caller's array is the one read
    into=(--volume "$NODE_EXTRA_CA_CERTS:/run/gtp5g-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/gtp5g-build-ca.crt)
  fi
}

# build_and_export NAME DOCKERFILE KEY BASE_REF REPO CACHE [ARG=VALUE...]
# Builds REPO/DOCKERFILE as localhost/NAME:KEY (BASE_IMAGE=BASE_REF, plus any further build args)
# unless that image exists, exports its filesystem to CACHE/NAME-KEY/rootfs with inspect.json
# beside it, then drops older builds of NAME (vfs keeps full copies). Does nothing when
# CACHE/NAME-KEY is complete. KEY must cover everything the build args name.
build_and_export () {
  local name=$1 dockerfile=$2 key=$3 base=$4 repo=$5 cache=$6
  shift 6
  local ref=localhost/$name:$key dir=$cache/$name-$key args=() arg
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  [[ -e $dir/.done ]] && return 0
  if ! "${BUILDAH[@]}" inspect --type image "$ref" >/dev/null 2>&1; then
    log "buildah bud $dockerfile -> $ref"
    local ca=()
    read_build_ca ca
    "${BUILDAH[@]}" bud --isolation chroot --layers=false --quiet "${ca[@]}" \
      --build-arg "BASE_IMAGE=$base" "${args[@]}" --build-arg "VERSION=test-$key" \
      -f "$repo/$dockerfile" -t "$ref" "$repo" >"$cache/$name-build.log" 2>&1 \
      || { tail -n 40 "$cache/$name-build.log" >&2; return 1; }
  fi
  log "exporting the image filesystem to $dir"
  rm -rf "$dir"; mkdir -p "$dir/rootfs"
  local ctr ok=0
  ctr=$("${BUILDAH[@]}" from --quiet "$ref")
  cp -a "$("${BUILDAH[@]}" mount "$ctr")/." "$dir/rootfs/" \
    && "${BUILDAH[@]}" inspect --type image "$ref" >"$dir/inspect.json" || ok=$?
  "${BUILDAH[@]}" rm "$ctr" >/dev/null
  [[ $ok -eq 0 ]] || return "$ok"
  touch "$dir/.done"
  find "$cache" -maxdepth 1 -name "$name-*" -type d ! -name "$name-$key" -exec rm -rf {} +
  "${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}}' | grep "^localhost/$name:" | grep -v ":$key\$" \
    | xargs -r "${BUILDAH[@]}" rmi >/dev/null 2>&1 || true
}
