#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite (unit tests and tests against the real
# kernel, in namespaces the tests create). Must run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bin/setup.sh --test
npx tsc -p tsconfig.test.json --noEmit
report=$(mktemp /tmp/tnet-vitest-XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
exit "$status"
