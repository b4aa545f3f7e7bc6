#!/usr/bin/env bash
# The tnet demo: a bridge network with two "containers" (network namespaces) that ping each
# other and reach an "outside" namespace through masquerade, then a clean-up. It runs inside a
# throwaway host namespace of its own, so the machine's own network is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bin/setup.sh

host=tnd-host outside=tnd-outside c1=tnd-c1 c2=tnd-c2
state=$(mktemp -d /tmp/tnet-demo-XXXXXX)
export TNET_STATE_DIR=$state TNET_HOST_NETNS=$host
tnet() { echo "+ tnet $*" >&2; node dist/bin/tnet.cjs "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

dns=
cleanup() {
  if [ -n "$dns" ]; then kill "$dns" 2>/dev/null || true; fi
  node dist/bin/tnet.cjs rm --force demo >/dev/null 2>&1 || true
  for ns in $c1 $c2 $outside $host; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT
cleanup

step "A host namespace with an uplink to an 'outside' namespace (203.0.113.0/24)"
for ns in $host $outside $c1 $c2; do ip netns add "$ns"; done
ip link add tnd-up netns $host type veth peer name tnd-out netns $outside
ip -n $host addr add 203.0.113.1/24 dev tnd-up && ip -n $host link set tnd-up up && ip -n $host link set lo up
ip -n $outside addr add 203.0.113.2/24 dev tnd-out && ip -n $outside link set tnd-out up && ip -n $outside link set lo up

step "Create a bridge network (tnet picks a free subnet) and connect two containers"
tnet create --driver bridge demo
tnet connect demo --netns $c1
tnet connect demo --netns $c2
tnet ls

ip1=$(node dist/bin/tnet.cjs inspect demo --json | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(r[0].endpoints.find(e=>e.netns.endsWith("/'$c1'")).ipv4)')
ip2=$(node dist/bin/tnet.cjs inspect demo --json | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(r[0].endpoints.find(e=>e.netns.endsWith("/'$c2'")).ipv4)')

step "Container $c1 ($ip1) pings container $c2 ($ip2)"
ip netns exec $c1 ping -c 3 -i 0.2 "$ip2"

step "Container $c1 reaches the outside (203.0.113.2) through masquerade"
ip netns exec $c1 ping -c 3 -i 0.2 203.0.113.2
ip netns exec $outside node -e '
  const s = require("net").createServer((c) => { console.log(`outside saw a connection from ${c.remoteAddress} (the host, not ${process.argv[1]})`); c.end(); s.close(); });
  s.listen(8080, "203.0.113.2", () => process.send?.("up"));
  setTimeout(() => process.exit(1), 5000).unref();
' "$ip1" &
server=$!
sleep 0.5
ip netns exec $c1 node -e 'require("net").connect(8080, "203.0.113.2").on("close", () => process.exit(0)).on("error", (e) => { console.error(e.message); process.exit(1); })'
wait $server

step "Containers find each other by name: tnet's DNS server answers on the gateway"
node dist/bin/tnet.cjs dns serve --resolv-conf /dev/null 2>"$state/dns.log" &
dns=$!
for _ in $(seq 50); do grep -q started "$state/dns.log" && break; sleep 0.1; done
cat "/etc/netns/$c1/resolv.conf"
echo "+ ip netns exec $c1 getent hosts $c2"
ip netns exec $c1 getent hosts $c2
kill "$dns" && wait "$dns" || true
dns=

step "What tnet made in the host namespace"
ip -n $host -br link show type bridge
ip netns exec $host nft list table inet tnet

step "Clean up: disconnect, remove the network"
tnet disconnect demo --netns $c1
tnet disconnect demo --netns $c2
tnet rm demo
echo "links left in the host namespace: $(ip -n $host -br link | grep -c "tnbr-\|tnv" || true) (expected 0)"
