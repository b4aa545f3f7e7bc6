#!/usr/bin/env bash
# Builds the libvirt box `debian/bookworm64` for the Vagrantfile without downloading a box: a
# Debian 12 root filesystem from Debian's mirror (mmdebstrap), with everything the machines need
# already inside (etcd, nftables, node from this machine), a `vagrant` user with Vagrant's
# insecure key, and the kernel and initrd beside the disk for a direct boot (no bootloader).
# Adds it to $VAGRANT_HOME when that box is missing or was built from another recipe.
# Usage: bin/vm-box.sh CACHE_DIR   (bin/vms.sh calls it; root; the cache must be outside /root,
# which libvirt's qemu user cannot enter)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${1:?usage: bin/vm-box.sh CACHE_DIR}
: "${VAGRANT_HOME:?VAGRANT_HOME must be set}"
box_name=debian/bookworm64

node_bin=$(command -v node)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
# What the guests run tnet with; node 20 is not in Debian 12, so this machine's node goes in
# (it needs only libc6, libstdc++6 and libgcc-s1).
packages=(linux-image-amd64 systemd-sysv dbus openssh-server sudo rsync ifupdown isc-dhcp-client
  iproute2 iputils-ping nftables libnftables1 socat etcd-server ca-certificates netbase kmod procps
  libstdc++6)
# The box is rebuilt whenever its recipe changes: this script, the package list, or node.
recipe=$( (cat "$0"; echo "${packages[*]}"; "$node_bin" --version) | sha256sum | cut -d' ' -f1)
stamp="$VAGRANT_HOME/tnet-box-recipe"
if vagrant box list 2>/dev/null | grep -q "^$box_name " && [ "$(cat "$stamp" 2>/dev/null)" = "$recipe" ]; then
  echo "vm-box: $box_name is there (recipe ${recipe:0:12})"
  exit 0
fi

start=$(date +%s)
work="$cache/box-build"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
root="$work/root"
key=$( (find /usr/share/rubygems-integration /usr/lib/ruby -name vagrant.pub -path '*keys*' 2>/dev/null || true) | head -1)
[ -n "$key" ] || { echo "vm-box: Vagrant's insecure public key (keys/vagrant.pub) not found" >&2; exit 1; }

echo "vm-box: building $box_name from Debian's mirror (mmdebstrap)"
# The hooks run on this machine with the new root as $1.
mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  --customize-hook='echo tnet-vm > "$1/etc/hostname"' \
  --customize-hook='printf "/dev/vda / ext4 defaults 0 1\n" > "$1/etc/fstab"' \
  --customize-hook='printf "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n" > "$1/etc/network/interfaces"' \
  --customize-hook='chroot "$1" useradd -m -s /bin/bash vagrant' \
  --customize-hook='mkdir -p "$1/home/vagrant/.ssh" && chmod 700 "$1/home/vagrant/.ssh"' \
  --customize-hook="cp '$key' \"\$1/home/vagrant/.ssh/authorized_keys\"" \
  --customize-hook='chmod 600 "$1/home/vagrant/.ssh/authorized_keys" && chroot "$1" chown -R vagrant:vagrant /home/vagrant/.ssh' \
  --customize-hook='echo "vagrant ALL=(ALL) NOPASSWD: ALL" > "$1/etc/sudoers.d/vagrant" && chmod 440 "$1/etc/sudoers.d/vagrant"' \
  --customize-hook='echo "UseDNS no" > "$1/etc/ssh/sshd_config.d/tnet.conf"' \
  --customize-hook="cp '$node_bin' \"\$1/usr/local/bin/node\"" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$npm_dir' \"\$1/usr/local/lib/node_modules/npm\"" \
  --customize-hook='ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
  --customize-hook='mkdir -p "$1/usr/local/share/ca-certificates" && cp -a /usr/local/share/ca-certificates/. "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates >/dev/null' \
  --customize-hook='rm -f "$1/etc/machine-id" && touch "$1/etc/machine-id"' \
  bookworm "$root"

# Debian's kernel boots directly (libvirt's kernel/initrd/cmdline); the disk is one ext4
# filesystem without a partition table.
cp "$(readlink -f "$root/vmlinuz")" "$work/vmlinuz"
cp "$(readlink -f "$root/initrd.img")" "$work/initrd.img"
mkfs.ext4 -q -F -L root -d "$root" "$work/root.raw" 4G
rm -rf "$root"
qemu-img convert -O qcow2 "$work/root.raw" "$work/box.img"
rm -f "$work/root.raw"
size_gb=4
printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %s}\n' "$size_gb" > "$work/metadata.json"
cat > "$work/Vagrantfile" <<'EOF'
# Direct kernel boot: the kernel and initrd ship beside the disk image in this box.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.join(__dir__, "vmlinuz")
    lv.initrd = File.join(__dir__, "initrd.img")
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0 biosdevname=0"
    lv.disk_bus = "virtio"
  end
end
EOF
tar -C "$work" -cf "$work/bookworm64.box" metadata.json Vagrantfile box.img vmlinuz initrd.img
vagrant box remove --force --all "$box_name" >/dev/null 2>&1 || true
vagrant box add --force --name "$box_name" "$work/bookworm64.box" >/dev/null
echo "$recipe" > "$stamp"
# The previous box's base volume (vagrant-libvirt uploads it into the pool once per box) is stale now.
rm -f "$cache/pool/"debian-VAGRANTSLASH-bookworm64_vagrant_box_image_*
# libvirt's qemu (user libvirt-qemu) reads the kernel and initrd from the box directory.
chmod -R a+rX "$VAGRANT_HOME"
echo "vm-box: built and added $box_name in $(( $(date +%s) - start )) s"
