#!/usr/bin/env bash
# One release, one version: the Helm chart packaged by `helm package` and both images (the hook
# server from ./Dockerfile, the installer from installer/Dockerfile) built by buildah, all at the
# version that package.json, Chart.yaml (version and appVersion) and the hook server's default
# installer image share; it refuses to start when they differ. The packaged chart's default image
# repositories are the registry's, so `helm install oci://<registry>/charts/gtp5g-operator
# --version <version>` runs exactly the images built here. Nothing leaves the machine without
# --push: the chart and the two images (OCI archives) are written to --out, with the push commands.
#
#   scripts/release.sh [--version V] [--registry ghcr.io/gthulhu] [--out dist/release] [--chart-only] [--push]
#
# --version V   refuse unless every file says V (a check before tagging)
# --chart-only  package the chart only (no image build)
# BASE_IMAGE / RUNTIME_IMAGE override the Dockerfiles' base images (e.g. a mirror); HELM and
# BUILDAH name the binaries (default: helm and buildah on PATH; BUILDAH may carry options, e.g.
# "buildah --storage-driver vfs"). Behind a TLS-intercepting proxy, NODE_EXTRA_CA_CERTS names the
# CA bundle npm must trust during the builds (mounted for the build only, never in a layer).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CHART=$REPO/helm/gtp5g-operator
HELM=${HELM:-helm}
buildah_command=${BUILDAH:-buildah}
# shellcheck source=scripts/lib/buildah.sh
. "$REPO/scripts/lib/buildah.sh"
read -r -a BUILDAH <<<"$buildah_command"
registry=ghcr.io/gthulhu out=$REPO/dist/release want='' chart_only=false push=false
die () { printf 'release: %s\n' "$*" >&2; exit 1; }
log () { printf '[release %s] %s\n' "$(date +%T)" "$*" >&2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --version) want=${2:?--version needs a value}; shift 2 ;;
    --registry) registry=${2:?--registry needs a value}; registry=${registry%/}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --chart-only) chart_only=true; shift ;;
    --push) push=true; shift ;;
    *) die "unknown argument $1 (see the comment at the top of this script)" ;;
  esac
done

# ---- one version everywhere ------------------------------------------------------------------
pkg=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$REPO/package.json" | head -n1)
chart=$(sed -n 's/^version: *//p' "$CHART/Chart.yaml")
app=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$CHART/Chart.yaml")
installer=$(sed -n "s/^export const DEFAULT_INSTALLER_IMAGE = '[^']*:\(.*\)'$/\1/p" "$REPO/hooks/server/config.ts")
version=${want:-$pkg}
bad=()
[[ $pkg == "$version" ]] || bad+=("package.json version $pkg")
[[ $chart == "$version" ]] || bad+=("helm/gtp5g-operator/Chart.yaml version $chart")
[[ $app == "$version" ]] || bad+=("helm/gtp5g-operator/Chart.yaml appVersion $app")
[[ $installer == "$version" ]] || bad+=("hooks/server/config.ts DEFAULT_INSTALLER_IMAGE tag $installer")
[[ ${#bad[@]} -eq 0 ]] || die "versions differ from $version: $(IFS=';'; echo "${bad[*]}"). Set all four to one version first."
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "version $version is not semver (Helm requires it)"

# ---- the chart, pointing at this registry's images --------------------------------------------
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$CHART" "$work/gtp5g-operator"
sed -i "s|^  repository: .*/gtp5g-operator\$|  repository: $registry/gtp5g-operator|; s|^    repository: .*/gtp5g-installer\$|    repository: $registry/gtp5g-installer|" "$work/gtp5g-operator/values.yaml"
grep -q "^  repository: $registry/gtp5g-operator\$" "$work/gtp5g-operator/values.yaml" || die "could not set image.repository in values.yaml"
grep -q "^    repository: $registry/gtp5g-installer\$" "$work/gtp5g-operator/values.yaml" || die "could not set installer.image.repository in values.yaml"
"$HELM" lint "$work/gtp5g-operator" >/dev/null || die "helm lint failed"
"$HELM" package "$work/gtp5g-operator" --destination "$out" >/dev/null
log "chart: $out/gtp5g-operator-$version.tgz"

# ---- the two images ----------------------------------------------------------------------------
images=("$registry/gtp5g-operator:$version" "$registry/gtp5g-installer:$version")
if [[ $chart_only == false ]]; then
  base=() ; [[ -n ${BASE_IMAGE:-} ]] && base+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
  runtime=() ; [[ -n ${RUNTIME_IMAGE:-} ]] && runtime+=(--build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
  ca=() ; read_build_ca ca
  for dockerfile in Dockerfile installer/Dockerfile; do
    image=${images[0]}; [[ $dockerfile == installer/* ]] && image=${images[1]}
    log "buildah bud $dockerfile -> $image"
    "${BUILDAH[@]}" bud --quiet "${base[@]}" "${runtime[@]}" "${ca[@]}" --build-arg "VERSION=$version" -f "$REPO/$dockerfile" -t "$image" "$REPO" >/dev/null
    archive=$out/$(basename "${image%%:*}")-$version.oci.tar
    rm -f "$archive"
    "${BUILDAH[@]}" push --quiet "$image" "oci-archive:$archive:$image"
    log "image: $image ($archive)"
  done
fi

commands=("$HELM push $out/gtp5g-operator-$version.tgz oci://$registry/charts")
[[ $chart_only == false ]] && for image in "${images[@]}"; do commands+=("${BUILDAH[*]} push $image docker://$image"); done
if [[ $push == true ]]; then
  for c in "${commands[@]}"; do log "$c"; eval "$c"; done
else
  printf '%s\n' "${commands[@]}" >"$out/push-commands.txt"
  log "nothing pushed; to publish: $out/push-commands.txt"
fi
printf '%s\n' "$version"
