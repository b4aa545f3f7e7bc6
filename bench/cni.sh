#!/usr/bin/env bash
# tnet's CNI plugin next to the reference plugins (bridge + host-local, bridge + portmap) and
# netavark, in the same run of the shared harness (../shared/bench-anchors, see its README):
# ADD/DEL latency at n already attached, the fill curve, and 20-way concurrency; optionally the
# cold start of VERSION. Every configuration runs in its own throwaway host netns.
#   attach: the plugin as runtimes exec it with no server: node starts for every call.
#   warm:   the same with `tnet cni serve` running, so the wrapper hands each call to it.
# Usage: sudo bench/cni.sh [attach|warm|coldstart|all]      (default: attach)
# Env:   TNET_BENCH_PORTS (default 1: the conflist declares portMappings, so tnet gets the same one
#        mapping per container as the bridge+portmap chain; 0: none, as ref-bridge),
#        PF_LEVELS (default 1,100,500), PF_TRIALS, PF_CONC, PF_ATTACH_CONFIGS, PF_PREFIX (default
#        pfc, so runs never touch another job's 'pf' objects), BENCH_ANCHORS (harness directory).
set -euo pipefail
cd "$(dirname "$0")/.."
anchors=${BENCH_ANCHORS:-$(cd .. && pwd)/shared/bench-anchors}
what=${1:-attach}
[ -f "$anchors/attach-bench.mjs" ] || { echo "bench: no harness at $anchors (set BENCH_ANCHORS)" >&2; exit 1; }
export PF_PREFIX=${PF_PREFIX:-pfc}

# The harness's own packages (reference plugins, netavark, hyperfine), idempotent.
bash "$anchors/setup.sh" >&2
npm run --silent build
tmp=$(mktemp -d "/tmp/${PF_PREFIX}-tnet-cni-XXXXXX")
server_pid=
cleanup() {
  [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
socket="$tmp/cni.sock"
# The plugin as `tnet cni install` puts it; the harness adds its dir to CNI_PATH and uses
# TNET_CNI_PLUGIN's basename ("tnet") as the plugin type. The socket is this run's own, so a
# server the machine may run elsewhere never answers for the cold runs.
node dist/bin/tnet.cjs cni install --dir "$tmp/bin" --socket "$socket" >/dev/null
export TNET_CNI_PLUGIN="$tmp/bin/tnet"
# State in the harness's per-configuration data dir; the bridge and subnet it assigns are kept.
# The exec'd plugin runs inside the harness's host netns (the default host); the server runs in
# this one, so its conflist names the harness's host netns (attach-bench: <prefix>-at-t-host).
conflist() {
  local extra=$1
  [ "${TNET_BENCH_PORTS:-1}" = 0 ] || extra+=', "capabilities": { "portMappings": true }'
  cat >"$tmp/tnet.conflist" <<JSON
{ "cniVersion": "1.0.0", "name": "@NAME@",
  "plugins": [ { "type": "tnet", "subnet": "@SUBNET@", "options": { "bridge.name": "@BRIDGE@" }, "stateDir": "@DATADIR@"$extra } ] }
JSON
}
export TNET_CNI_CONFLIST="$tmp/tnet.conflist"

warm() {
  conflist ", \"hostNetns\": \"/run/netns/${PF_PREFIX}-at-t-host\""
  node dist/bin/tnet.cjs cni serve --socket "$socket" 2>"$tmp/serve.log" &
  server_pid=$!
  for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
  [ -S "$socket" ] || { cat "$tmp/serve.log" >&2; exit 1; }
  node "$anchors/attach-bench.mjs"
  echo "tnet cni serve answered $(grep -c ': exit ' "$tmp/serve.log") calls"
  kill "$server_pid"; wait "$server_pid" || true; server_pid=
}

case "$what" in
  attach) conflist ""; node "$anchors/attach-bench.mjs" ;;
  warm) warm ;;
  coldstart) conflist ""; bash "$anchors/coldstart.sh" ;;
  all) conflist ""; node "$anchors/attach-bench.mjs"; warm; bash "$anchors/coldstart.sh" ;;
  *) echo "usage: bench/cni.sh [attach|warm|coldstart|all]" >&2; exit 2 ;;
esac
