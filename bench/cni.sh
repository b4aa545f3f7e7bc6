#!/usr/bin/env bash
# tnet's CNI plugin next to the reference plugins (bridge + host-local, bridge + portmap) and
# netavark, in the same run of the shared harness (../shared/bench-anchors, see its README):
# ADD/DEL latency at n already attached, the fill curve, and 20-way concurrency; optionally the
# cold start of VERSION. Every configuration runs in its own throwaway host netns.
# Usage: sudo bench/cni.sh [attach|coldstart|all]      (default: attach)
# Env:   PF_LEVELS (default 1,100,500), PF_TRIALS, PF_CONC, PF_ATTACH_CONFIGS, PF_PREFIX (default
#        pfc, so runs never touch another job's 'pf' objects), BENCH_ANCHORS (harness directory).
set -euo pipefail
cd "$(dirname "$0")/.."
anchors=${BENCH_ANCHORS:-$(cd .. && pwd)/shared/bench-anchors}
what=${1:-attach}
[ -f "$anchors/attach-bench.mjs" ] || { echo "bench: no harness at $anchors (set BENCH_ANCHORS)" >&2; exit 1; }
export PF_PREFIX=${PF_PREFIX:-pfc}

npm run --silent build
tmp=$(mktemp -d "/tmp/${PF_PREFIX}-tnet-cni-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The plugin as `tnet cni install` puts it; the harness adds its dir to CNI_PATH and uses
# TNET_CNI_PLUGIN's basename ("tnet") as the plugin type.
node dist/bin/tnet.cjs cni install --dir "$tmp/bin" >/dev/null
export TNET_CNI_PLUGIN="$tmp/bin/tnet"
# The plugin runs inside the harness's host netns (the default host), state in the harness's
# per-configuration data dir; the bridge and subnet the harness assigns are kept.
cat >"$tmp/tnet.conflist" <<'JSON'
{ "cniVersion": "1.0.0", "name": "@NAME@",
  "plugins": [ { "type": "tnet", "subnet": "@SUBNET@", "options": { "bridge.name": "@BRIDGE@" }, "stateDir": "@DATADIR@" } ] }
JSON
export TNET_CNI_CONFLIST="$tmp/tnet.conflist"

case "$what" in
  attach) node "$anchors/attach-bench.mjs" ;;
  coldstart) bash "$anchors/coldstart.sh" ;;
  all) node "$anchors/attach-bench.mjs"; bash "$anchors/coldstart.sh" ;;
  *) echo "usage: bench/cni.sh [attach|coldstart|all]" >&2; exit 2 ;;
esac
