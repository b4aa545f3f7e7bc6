#!/usr/bin/env bash
# Runs every scenario (scenarios/*.scn) on the three Debian machines of the Vagrantfile, booted
# here with vagrant-libvirt, offline: `bash bin/test.sh --vms` (which runs bin/setup.sh --vms
# first). It builds the box debian/bookworm64 when it is missing (bin/vm-box.sh, cached in
# $TNET_VM_CACHE, default /var/cache/tnet-vm, outside the clone), uses KVM when KVM boots Debian's
# kernel and QEMU's TCG otherwise, boots the machines, runs the scenarios over one ssh connection
# per machine, and removes everything it started: machines, their libvirt networks, volumes and
# pool, and the libvirt daemons it started (by PID). It never skips: when the machines cannot be
# started it says why and fails. Must run as root.
# Environment: TNET_VM_CACHE, TNET_VM_ACCEL=kvm|tcg (skips the KVM probe), TNET_VM_KEEP=1 (leave
# the machines running afterwards, for a look with `vagrant ssh`; the next run removes them).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

fail() {
  echo "vms: FAILED: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "run as root (libvirt's system instance, network namespaces in the guests)"
for cmd in vagrant virsh qemu-system-x86_64 qemu-img mmdebstrap ssh; do
  command -v "$cmd" >/dev/null || fail "$cmd is not installed; bin/setup.sh --vms installs it"
done

cache=${TNET_VM_CACHE:-/var/cache/tnet-vm}
prefix=tnetvm-
export VAGRANT_HOME="$cache/vagrant.d"
# The machines' state (ids, keys) outside the clone, where an interrupted run's next run finds it.
export VAGRANT_DOTFILE_PATH="$cache/machines"
export VAGRANT_DEFAULT_PROVIDER=libvirt VAGRANT_NO_COLOR=1 VAGRANT_CHECKPOINT_DISABLE=1
export TNET_VM_TREE="$cache/tree" TNET_VM_PREFIX=$prefix
export LIBVIRT_DEFAULT_URI=qemu:///system
pool=${prefix}pool
pool_dir="$cache/pool"
logs="$cache/logs"
# libvirt's qemu runs as libvirt-qemu and must reach the box's kernel and the pool: no /root.
case "$cache" in /root|/root/*) fail "TNET_VM_CACHE=$cache: libvirt's qemu cannot enter /root; use a directory outside it" ;; esac
mkdir -p "$VAGRANT_HOME" "$pool_dir" "$logs"
chmod 755 "$cache" "$pool_dir"
run=$(mktemp -d /run/tnet-vm.XXXXXX)
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 )) s"; }

# Long steps run in the background and are waited for: bash handles INT/TERM only between
# commands, and `wait` returns at once on a signal; finish then stops that step first.
step_pid=""
step() {
  "$@" &
  step_pid=$!
  local s=0
  wait "$step_pid" || s=$?
  step_pid=""
  return "$s"
}

# What this run started or changed, undone on exit in reverse order.
our_daemons=()
kvm_mode=""
removed=false
remove_machines() {
  # vagrant knows its machines; virsh catches what an interrupted run left behind.
  vagrant destroy -f >>"$logs/destroy.log" 2>&1 || true
  local d n
  for d in $(virsh list --all --name 2>/dev/null | grep "^$prefix" || true); do
    virsh destroy "$d" >/dev/null 2>&1 || true
    virsh undefine --nvram --remove-all-storage "$d" >/dev/null 2>&1 || virsh undefine "$d" >/dev/null 2>&1 || true
  done
  for n in $(virsh net-list --all --name 2>/dev/null | grep "^$prefix" || true); do
    virsh net-destroy "$n" >/dev/null 2>&1 || true
    virsh net-undefine "$n" >/dev/null 2>&1 || true
  done
  rm -f "$pool_dir/$prefix"h*.img
}
finish() {
  local status=$?
  if $removed; then return; fi
  removed=true
  if [ -n "$step_pid" ]; then
    kill -INT "$step_pid" 2>/dev/null || true
    wait "$step_pid" 2>/dev/null || true
  fi
  if [ "${TNET_VM_KEEP:-0}" = 1 ] && [ "$status" -eq 0 ]; then
    echo "vms: TNET_VM_KEEP=1: the machines and libvirt stay up (VAGRANT_HOME=$VAGRANT_HOME VAGRANT_DOTFILE_PATH=$VAGRANT_DOTFILE_PATH)"
    return
  fi
  if virsh version >/dev/null 2>&1; then
    remove_machines
    # The pool's definition goes; its directory (with the box's base volume) stays as the cache.
    virsh pool-destroy "$pool" >/dev/null 2>&1 || true
    virsh pool-undefine "$pool" >/dev/null 2>&1 || true
  fi
  local i pid
  for (( i=${#our_daemons[@]}-1; i>=0; i-- )); do
    pid=${our_daemons[$i]}
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  if [ -n "$kvm_mode" ]; then
    chown "${kvm_mode%%|*}" /dev/kvm 2>/dev/null || true
    chmod "${kvm_mode##*|}" /dev/kvm 2>/dev/null || true
  fi
  rm -rf "$run"
}
trap finish EXIT
trap 'echo "vms: interrupted; removing what this run started" >&2; exit 130' INT TERM
# Whatever else stops this script says where (set -e alone would end it without a word).
trap 'echo "vms: FAILED at bin/vms.sh line $LINENO: $BASH_COMMAND" >&2' ERR

# libvirt checks that its qemu user can open /dev/kvm; without udev (no systemd here) the node is
# root-only, and libvirt then probes QEMU again on every call (seconds each). Debian's udev rule
# gives it to group kvm (of which libvirt-qemu is a member); done here, undone on exit.
if [ -e /dev/kvm ] && ! runuser -u libvirt-qemu -- test -r /dev/kvm -a -w /dev/kvm 2>/dev/null; then
  kvm_mode="$(stat -c '%U:%G|%a' /dev/kvm)"
  chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
fi

# libvirt's daemons: used as they are when they answer; else started here (no systemd as PID 1
# on this machine kind), and stopped by their PIDs on exit.
if ! virsh version >/dev/null 2>&1; then
  if [ -d /run/systemd/system ]; then
    systemctl start libvirtd || fail "systemctl start libvirtd failed"
  else
    for d in virtlogd virtlockd libvirtd; do
      "$d" --daemon --pid-file "$run/$d.pid" || fail "$d did not start (see /var/log/libvirt)"
      our_daemons+=("$(cat "$run/$d.pid")")
    done
  fi
  for _ in $(seq 100); do virsh version >/dev/null 2>&1 && break; sleep 0.1; done
  virsh version >/dev/null 2>&1 || fail "libvirtd does not answer on qemu:///system"
fi
echo "vms: libvirt $(virsh version | sed -n 's/^Using library: libvirt //p') ($(elapsed))"

# An interrupted earlier run's machines and networks go first.
remove_machines

box_start=$(date +%s)
step bash bin/vm-box.sh "$cache" || fail "could not build the box (bin/vm-box.sh above)"
echo "vms: box ready in $(( $(date +%s) - box_start )) s"
box_dir="$VAGRANT_HOME/boxes/debian-VAGRANTSLASH-bookworm64/0/libvirt"

# KVM when it boots Debian's kernel: here /dev/kvm may be PVM, under which it aborts or stalls.
accel=${TNET_VM_ACCEL:-}
if [ -z "$accel" ]; then
  accel=tcg
  if [ -w /dev/kvm ]; then
    # (a subshell: its shell, not this one, reports qemu's abort)
    (timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nographic -no-reboot -nodefaults -serial stdio \
      -kernel "$box_dir/vmlinuz" -initrd "$box_dir/initrd.img" -append "console=ttyS0 panic=-1 rdinit=/bin/true" \
      >"$logs/kvm-probe.log" 2>&1 || true) 2>/dev/null
    grep -q 'Run /bin/true as init process' "$logs/kvm-probe.log" && accel=kvm
  fi
fi
case "$accel" in
  kvm) export TNET_VM_LIBVIRT_DRIVER=kvm ;;
  tcg) export TNET_VM_LIBVIRT_DRIVER=qemu ;;
  *) fail "TNET_VM_ACCEL=$accel: expected kvm or tcg" ;;
esac
echo "vms: accelerator $accel$([ "$accel" = tcg ] && [ -e /dev/kvm ] && echo " (KVM does not boot Debian's kernel here: $logs/kvm-probe.log)")"

# Three guests of 1 GiB: ~2.1 GiB of host memory each under TCG (its translation cache), less with KVM.
need_mb=$([ "$accel" = tcg ] && echo 6800 || echo 3600)
avail_mb=$(( $(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024 ))
[ "$avail_mb" -ge "$need_mb" ] || fail "three machines need ~$need_mb MiB of memory and only $avail_mb MiB are available"

# The storage pool for the machines' disks; its directory keeps the box's base volume between runs.
virsh pool-info "$pool" >/dev/null 2>&1 || virsh pool-define-as "$pool" dir --target "$pool_dir" >/dev/null
virsh pool-start "$pool" >/dev/null 2>&1 || true
virsh pool-refresh "$pool" >/dev/null

# The guests read a copy of this built checkout over 9p: libvirt's qemu may not read the clone
# itself (under /root, say), and the copy stays the same while the scenarios run.
[ -f dist/scenarios/lab/cli.js ] && [ -f dist/bin/tnet.cjs ] || fail "dist/ is not built; run bin/setup.sh --vms"
rsync -a --delete --exclude=/.git --exclude=/.vagrant ./ "$TNET_VM_TREE/"
chmod -R a+rX "$TNET_VM_TREE"

up_start=$(date +%s)
echo "vms: booting h1 h2 h3 (log: $logs/up.log)"
if ! step vagrant up --provider libvirt >"$logs/up.log" 2>&1; then
  tr '\r' '\n' <"$logs/up.log" | grep -v 'Progress:' | tail -25 >&2
  fail "vagrant up failed (above; full log $logs/up.log)"
fi
echo "vms: machines up and provisioned in $(( $(date +%s) - up_start )) s"

status=0
scn_start=$(date +%s)
step node dist/scenarios/lab/cli.js --backend vagrant --check-timeout 60 scenarios/*.scn 2>"$logs/scenarios.log" >"$logs/result.log" || status=$?
cat "$logs/result.log"
echo "vms: scenarios ran in $(( $(date +%s) - scn_start )) s (step log: $logs/scenarios.log); host memory used by the machines: $(ps -C qemu-system-x86_64 -o rss= | awk '{s+=$1} END {printf "%d MiB", s/1024}')"
echo "vms: total $(elapsed)"
# The count last, alone on its line, as bin/test.sh ends.
grep '^scenarios: ' "$logs/result.log" | tail -1 || echo "scenarios: 0 passed, 1 failed"
exit "$status"
