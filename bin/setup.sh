#!/usr/bin/env bash
# Installs everything tnet needs on a Debian/Ubuntu machine, idempotently: system packages that
# are missing, npm dependencies when package-lock.json changed, and the compiled CLI.
# Usage: bin/setup.sh [--test] [--vms]
#   --test adds what the test suite needs; --vms what `bin/test.sh --vms` needs to boot the
#   Vagrantfile's machines here (QEMU, libvirt, vagrant-libvirt, and mmdebstrap for the box).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (tnet manages network namespaces, links and nftables)" >&2
  exit 1
fi

need_node_major=20
need_node_minor=19
if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js >= ${need_node_major}.${need_node_minor} is required and not installed" >&2
  exit 1
fi
node_version=$(node -p 'process.versions.node')
if ! node -e "const [a,b]=process.versions.node.split('.').map(Number); process.exit(a>${need_node_major}||(a===${need_node_major}&&b>=${need_node_minor})?0:1)"; then
  echo "setup: Node.js ${node_version} is too old; tnet needs >= ${need_node_major}.${need_node_minor}" >&2
  exit 1
fi

# Runtime: libnftables (through koffi); socat, through which the installed CNI plugin hands its
# calls to `tnet cni serve`. Tests and the demo: iproute2 and nftables to look at what tnet did,
# ping to show traffic.
packages=(libnftables1 socat iproute2 iputils-ping nftables)
test=false
vms=false
for arg in "$@"; do
  case "$arg" in
    --test) test=true ;;
    --vms) vms=true ;;
    *) echo "setup: unknown option $arg (allowed: --test, --vms)" >&2; exit 2 ;;
  esac
done
if $test; then
  # etcd-server: the store tests and the overlay lab (a 3-member cluster in namespaces);
  # iperf3: the overlay bench; vagrant: `vagrant validate -p` of the Vagrantfile (~14 MB of
  # Ruby, no hypervisor: nothing is booted). iproute2 already brings `bridge` for FDB checks.
  packages+=(etcd-server iperf3 vagrant)
  # CNI tests: real runtimes (Podman with runc: crun refuses this machine's hybrid cgroups;
  # containerd's ctr), a busybox that runs in any rootfs, and the reference plugins to chain with.
  packages+=(podman runc busybox-static containerd containernetworking-plugins)
  # systemd-socket-activate: `tnet cni serve` started by a socket the way a socket unit does it.
  packages+=(systemd)
  # Docker tests: dockerd 20.10 with tnet as its remote network and IPAM driver, and
  # docker-compose 1.29 (not started on install; see below).
  packages+=(docker.io docker-compose)
  # The DNS bench: dnsperf drives it, aardvark-dns (Podman's) is the server it is measured beside.
  packages+=(dnsperf aardvark-dns)
fi
if $vms; then
  # The VM scenarios (bin/vms.sh): vagrant with its libvirt provider, libvirt's daemons and
  # dnsmasq (DHCP on the machines' management network), QEMU (KVM when it boots the guest, TCG
  # otherwise), qemu-img, and mmdebstrap to build the offline Debian box from Debian's mirror.
  packages+=(vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
    dnsmasq-base iptables mmdebstrap e2fsprogs openssh-client rsync)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  # On a host with systemd, installing docker.io, containerd or libvirt would start them (dockerd
  # then sets FORWARD to drop); the tests start their own, by PID. policy-rc.d says "not now".
  guard=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=true
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  if $guard; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$status" -eq 0 ] || exit "$status"
fi

# npm dependencies: reinstall only when the lock file changed since the last install.
stamp=node_modules/.tnet-lock-hash
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

npm run --silent build
