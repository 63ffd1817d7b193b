#!/usr/bin/env bash
# Builds what the Gthulhu Manager needs around it in the scheduling suite, pinned and cached by
# version under ~/.cache/gtp5g-operator (never inside the repository), and prints the directory
# that links them:
#   ferretdb  github.com/FerretDB/FerretDB v1.24.2   (MongoDB wire protocol on SQLite: the Manager's database)
#   migrate   github.com/golang-migrate/migrate/v4 v4.19.1, -tags mongodb   (applies the Manager's migrations)
# The Manager itself is not built here: it comes from GTHULHU_MANAGER_DIR (see the README).
# A rerun with the same pins and go toolchain does nothing; two concurrent runs are safe (each
# builds into a temp dir and renames it into place; the loser of the rename drops its copy).
set -euo pipefail

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gtp5g-operator
FERRETDB_VERSION=v1.24.2
MIGRATE_VERSION=v4.19.1
log () { printf '[gthulhu-deps %s] %s\n' "$(date +%T)" "$*" >&2; }
go_version=$(go env GOVERSION)

# Moves a finished build directory into place unless another run got there first.
publish () {
  local tmp=$1 dir=$2
  touch "$tmp/.done"
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
}

FERRETDB_DIR=$CACHE/ferretdb-$FERRETDB_VERSION-${go_version#go}
if [[ ! -e $FERRETDB_DIR/.done ]]; then
  log "building FerretDB $FERRETDB_VERSION into $FERRETDB_DIR"
  started=$SECONDS
  tmp=$(mktemp -d "$CACHE/.ferretdb-XXXXXX")
  src=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  # The module zip lacks build/version/version.txt (generated from git in FerretDB's own
  # checkout), and the version package embeds *.txt and refuses to start without it: build a
  # writable copy with the version written in.
  cp -r "$src" "$tmp/src"
  chmod -R u+w "$tmp/src"
  printf '%s\n' "$FERRETDB_VERSION" > "$tmp/src/build/version/version.txt"
  (cd "$tmp/src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/ferretdb" ./cmd/ferretdb)
  rm -rf "$tmp/src"
  publish "$tmp" "$FERRETDB_DIR"
  log "FerretDB built in $((SECONDS - started)) s"
fi

MIGRATE_DIR=$CACHE/migrate-$MIGRATE_VERSION-mongodb-${go_version#go}
if [[ ! -e $MIGRATE_DIR/.done ]]; then
  log "building golang-migrate $MIGRATE_VERSION (-tags mongodb) into $MIGRATE_DIR"
  started=$SECONDS
  tmp=$(mktemp -d "$CACHE/.migrate-XXXXXX")
  GOBIN=$tmp CGO_ENABLED=0 go install -trimpath -tags mongodb -ldflags "-s -w -X main.Version=$MIGRATE_VERSION" \
    "github.com/golang-migrate/migrate/v4/cmd/migrate@$MIGRATE_VERSION"
  publish "$tmp" "$MIGRATE_DIR"
  log "migrate built in $((SECONDS - started)) s"
fi

BIN=$CACHE/gthulhu-deps-bin
mkdir -p "$BIN"
ln -sfn "$FERRETDB_DIR/ferretdb" "$BIN/ferretdb"
ln -sfn "$MIGRATE_DIR/migrate" "$BIN/migrate"
printf '%s\n' "$BIN"
