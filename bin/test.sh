#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite (unit tests and tests against the real
# kernel, in namespaces the tests create). Must run as root.
# `bin/test.sh --vms` runs the scenarios on three booted Debian VMs instead (bin/vms.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--vms" ]; then
  bash bin/setup.sh --vms
  exec bash bin/vms.sh
fi
bash bin/setup.sh --test
npx tsc -p tsconfig.test.json --noEmit
report=$(mktemp /tmp/tnet-vitest-XXXXXX.json)
export TNET_TEST_LEAK_REPORT
TNET_TEST_LEAK_REPORT=$(mktemp /tmp/tnet-leaks-XXXXXX)
trap 'rm -f "$report" "$TNET_TEST_LEAK_REPORT"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@" || status=$?
if [ -s "$TNET_TEST_LEAK_REPORT" ]; then
  echo "FAILED: $(cat "$TNET_TEST_LEAK_REPORT")" >&2
  status=1
fi
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
exit "$status"
