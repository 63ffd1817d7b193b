#!/usr/bin/env bash
# Runs every test of the project from a fresh machine: installs what it needs (npm packages,
# Debian packages, the cached installer and hook server images, the VM files), then
# type-checks, lints and runs the tap suites (hooks and their image, contract, installer with a
# real kbuild and a real kernel in qemu).
# Also builds the local cluster's pinned upstream binaries (cached by version) and runs the e2e
# suites against a real kube-apiserver and the real Metacontroller, and the scheduling suite against
# the real Gthulhu Manager (GTHULHU_MANAGER_DIR, see e2e/README.md), and the suite with a real node
# (kubelet and containerd in a qemu VM, e2e/node/, components and disk cached; E2E_REAL_NODE=0
# leaves it out). A missing prerequisite is reported with its reason (a failure under CI=true).
# Ends with one line: "N passed, N failed, N skipped" (N counts tap assertions plus the static checks).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
skipped=0
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

finish () {
  echo "${passed} passed, ${failed} failed, ${skipped} skipped"
  [[ $failed -eq 0 ]]
  exit
}

# One static check: counts as one pass or one failure, output shown only when it fails.
check () {
  local name=$1; shift
  if "$@" >"$log_dir/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "ok - $name"
  else
    failed=$((failed + 1)); echo "not ok - $name"; tail -n 60 "$log_dir/$name.log"
  fi
}

# Set-up steps abort the run: nothing after them can be trusted without them.
setup () {
  local name=$1; shift
  echo "# setup: $name"
  if ! "$@"; then
    failed=$((failed + 1)); echo "not ok - setup: $name"
    finish
  fi
}

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json || ${CI:-} == true ]]; then
  setup 'npm ci' npm ci --no-audit --no-fund
fi
setup 'installer test dependencies' bash scripts/installer-test-deps.sh
setup 'hook server image' bash scripts/hook-image.sh
setup 'local cluster binaries' bash e2e/cluster/build.sh
# Not a set-up failure: without it the suites that need Metacontroller say why (and fail in CI).
bash scripts/metacontroller.sh || echo '# Metacontroller unavailable: the suites that need it report why'
setup 'Gthulhu Manager dependencies (FerretDB, golang-migrate)' bash e2e/cluster/build-gthulhu-deps.sh
if [[ ${E2E_REAL_NODE:-1} != 0 ]]; then
  setup 'real node (kubelet, containerd, runc, CNI, crictl; its guest disk)' bash e2e/node/guest-disk.sh "${GTP5G_REAL_NODE_KERNEL:-6.12}"
fi

check typecheck npm run --silent typecheck
check lint npm run --silent lint
check shellcheck shellcheck .ci/run scripts/*.sh scripts/lib/*.sh test/installer/fixtures/*.sh test/installer/fixtures/guest/*.sh bench/guest/*.sh e2e/cluster/*.sh e2e/kind/*.sh e2e/node/*.sh e2e/node/guest/*.sh
check build npm run --silent build

npx tap --reporter=tap 2>&1 | tee "$log_dir/tap.log"
tap_status=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: [0-9]+' "$log_dir/tap.log" | tail -n 1)
count () { sed -nE "s/.*[{ ]$1: ([0-9]+).*/\1/p" <<<"$summary"; }
tap_pass=$(count pass); tap_fail=$(count fail); tap_skip=$(count skip)
passed=$((passed + ${tap_pass:-0}))
failed=$((failed + ${tap_fail:-0}))
skipped=$((skipped + ${tap_skip:-0}))
if [[ $tap_status -ne 0 && ${tap_fail:-0} -eq 0 ]]; then
  # tap failed without a failing assertion (a crashed file, a timeout): still a failure.
  failed=$((failed + 1))
fi
[[ -n $summary ]] || { echo 'not ok - tap printed no summary'; failed=$((failed + 1)); }
# Every skip, file by file, with its reason (a count alone hides which suite never ran).
awk '
  /^# Subtest: / { file = substr($0, 12) }
  /^ *ok [0-9]+ - .* # SKIP/ {
    line = $0; sub(/^ *ok [0-9]+ - /, "", line)
    name = line; sub(/ # SKIP.*$/, "", name)
    reason = line; sub(/^.* # SKIP ?/, "", reason)
    print "skipped: " (name == file ? file : file " > " name) ": " (reason == "" ? "(no reason given)" : reason)
  }' "$log_dir/tap.log"
finish
