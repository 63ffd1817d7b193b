#!/usr/bin/env bash
# `npm run demo` from a fresh clone: installs the npm packages if needed, then runs e2e/demo.ts
# (builds the pinned cluster binaries once, starts the local cluster, installs the chart, applies
# the sample GTP5GModule and prints its status as it converges).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
command -v openssl >/dev/null || { echo 'the local cluster needs openssl (apt-get install openssl)' >&2; exit 1; }
TS_NODE_TRANSPILE_ONLY=1 exec node --import @tapjs/typescript/import e2e/demo.ts "$@"
