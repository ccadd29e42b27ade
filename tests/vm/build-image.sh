#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-image.sh - build the boot files of the VM suite into one directory:
#
#   xen             the hypervisor (multiboot ELF, gunzipped)
#   vmlinuz         the Linux kernel, used for dom0 and for the guests
#   dom0.cpio.zst   dom0's initramfs: a trimmed Debian (12 with Xen 4.17's
#                   tools, or 13 with Xen 4.20's: XPCI_VM_SUITE and
#                   XPCI_VM_XEN, default bookworm and 4.17),
#                   the kernel modules dom0 needs, image/dom0-init as /init
#                   and the guest's kernel and initramfs under /opt/xpci-vm
#   versions        what went in
#
# Usage: build-image.sh OUTDIR XEN_DEB KERNEL_DEB DEBOOTSTRAP_CACHE
#
# Called by run.sh, which decides when a rebuild is needed.  Runs as root
# (debootstrap, chroot).  Mirrors: XPCI_VM_MIRROR, XPCI_VM_SECURITY_MIRROR.
set -euo pipefail

[ $# -eq 4 ] || { sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
out=$1
xen_deb=$2
kernel_deb=$3
db_cache=$4
here=$(cd "$(dirname "$0")" && pwd)
mirror=${XPCI_VM_MIRROR:-http://deb.debian.org/debian}
security=${XPCI_VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=${XPCI_VM_SUITE:-bookworm}
xen_rel=${XPCI_VM_XEN:-4.17}

# Packages of the dom0 root.  xen-utils brings xl, xenstored, xenconsoled
# and libxenctrl; jq validates JSON in the scenarios; nvme-cli manages the
# NVMe SR-IOV secondary controllers; qemu-system-xen is the device model
# libxl starts for HVM guests (/usr/libexec/xen-qemu-system-i386, with
# seabios; xen-utils brings hvmloader); ansible-core (with python3) runs the
# xpci.passthrough collection's playbooks against the real xpci.
dom0_pkgs=xen-utils-$xen_rel,xenstore-utils,pciutils,kmod,busybox,procps
dom0_pkgs=$dom0_pkgs,libyajl2,jq,nvme-cli,iproute2,qemu-system-xen
# Installed with apt-get after debootstrap, whose resolver knows no
# virtual packages (python3-cryptography needs python3-cffi-backend-api-*).
dom0_apt_pkgs="ansible-core"

# Kernel modules, each with its dependencies.  Everything Xen needs in a
# dom0 is a module in Debian's kernel except the xenbus/hvc core.
dom0_mods="xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-pciback
    e1000e e1000 nvme 9p 9pnet_virtio virtio_pci"
guest_mods="xen-pcifront e1000e e1000 nvme"

log() { echo "build-image: $*"; }

work=$(mktemp -d "${out%/}.work.XXXXXX")
cleanup() {
    # debootstrap may leave proc/sys mounted in the root on failure.
    local m
    for m in proc sys dev/pts dev; do
        mountpoint -q "$work/root/$m" 2>/dev/null && umount -l "$work/root/$m"
    done
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$out" "$db_cache"

# ---------------------------------------------------------------- Xen, Linux
log "unpacking $(basename "$xen_deb") and $(basename "$kernel_deb")"
dpkg -x "$xen_deb" "$work/xen"
dpkg -x "$kernel_deb" "$work/kernel"
# Debian 13's kernel package ships its modules in /usr/lib/modules.
[ -d "$work/kernel/lib/modules" ] || ln -s usr/lib "$work/kernel/lib"
xen_gz=$(find "$work/xen/boot" -name 'xen-*-amd64.gz' | head -n1)
[ -n "$xen_gz" ] || { log "no xen-*.gz in $xen_deb"; exit 1; }
zcat "$xen_gz" > "$out/xen"
kver=$(basename "$(find "$work/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)")
cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz"
depmod -b "$work/kernel" "$kver"

# Print the module files (relative to lib/modules/KVER) of the given modules
# and of everything they depend on, dependencies first.
module_files()
{
    local m
    for m in "$@"; do
        modprobe -d "$work/kernel" -S "$kver" --show-depends "$m" |
            sed -n "s|^insmod $work/kernel/lib/modules/$kver/||p" |
            sed 's/ *$//'
    done | awk '!seen[$0]++'
}

# Copy modules into a root (lib/modules/KVER/...), keeping their paths.
# Debian 13's modules are xz-compressed (.ko.xz): they are stored plain,
# since the guest's busybox insmod reads only plain ones.
copy_modules()
{
    local root=$1 f d
    shift
    d=$root/lib/modules/$kver
    mkdir -p "$d"
    cp "$work/kernel/lib/modules/$kver/modules.order" \
       "$work/kernel/lib/modules/$kver/modules.builtin" \
       "$work/kernel/lib/modules/$kver/modules.builtin.modinfo" \
       "$d/"
    for f in $(module_files "$@"); do
        mkdir -p "$d/$(dirname "$f")"
        case "$f" in
        *.ko.xz) xz -dc "$work/kernel/lib/modules/$kver/$f" > "$d/${f%.xz}" ;;
        *.ko.zst) zstd -qdc "$work/kernel/lib/modules/$kver/$f" > "$d/${f%.zst}" ;;
        *) cp "$work/kernel/lib/modules/$kver/$f" "$d/$f" ;;
        esac
    done
    depmod -b "$root" "$kver"
}

# ---------------------------------------------------------------- guest
# A busybox-only initramfs: xen-pcifront and the drivers of the devices
# passed through, and image/guest-init reporting the guest's PCI devices
# on its console.
log "guest initramfs"
g=$work/guest
mkdir -p "$g/bin" "$g/proc" "$g/sys" "$g/dev" "$g/tmp"
cp /bin/busybox "$g/bin/busybox"
copy_modules "$g" $guest_mods
# Load order for busybox insmod (no modprobe needed in the guest).
module_files $guest_mods | sed 's/\.ko\.\(xz\|zst\)$/.ko/' > "$g/modules.load"
cp "$here/image/guest-init" "$g/init"
chmod 755 "$g/init"
(cd "$g" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
    zstd -q -19 -T0 > "$work/guest.cpio.zst"

# ---------------------------------------------------------------- dom0
log "debootstrap $suite ($mirror) into the dom0 root"
r=$work/root
debootstrap --variant=minbase --cache-dir="$db_cache" \
    --include="$dom0_pkgs" "$suite" "$r" "$mirror" > "$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log"
    [ -f "$r/debootstrap/debootstrap.log" ] && tail -n 30 "$r/debootstrap/debootstrap.log"
    exit 1
}

# The hypervisor comes from the security suite when it has a newer one:
# bring dom0's Xen tools to the same level.
log "updating the dom0 root from $suite-security and $suite-updates, adding $dom0_apt_pkgs"
cat > "$r/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$r/proc"
chroot "$r" apt-get -q update > "$work/apt.log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get -q -y \
        -o Dpkg::Options::=--force-confold upgrade >> "$work/apt.log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get -q -y \
        --no-install-recommends install $dom0_apt_pkgs >> "$work/apt.log" 2>&1 || {
    tail -n 30 "$work/apt.log"
    exit 1
}
umount "$r/proc"
chroot "$r" dpkg-query -W -f='${Package} ${Version}\n' \
    xen-utils-$xen_rel libxenmisc$xen_rel jq nvme-cli qemu-system-xen \
    ansible-core python3 \
    > "$work/dom0-versions"

# Trim what a dom0 that lives for a few minutes never reads.  Python
# stays (ansible-core), with its compiled modules: importing Ansible from
# source under TCG would cost seconds per task.
log "trimming"
rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* \
    "$r"/usr/share/locale/* "$r"/usr/share/lintian "$r"/usr/share/zoneinfo \
    "$r"/var/cache/apt/* "$r"/var/lib/apt/lists/* "$r"/var/cache/debconf/*-old \
    "$r"/usr/lib/udev/hwdb.bin "$r"/usr/lib/udev/hwdb.d \
    "$r"/usr/lib/xen-$xen_rel/lib/python* \
    "$r"/usr/lib/python3/dist-packages/ansible_test \
    "$r"/var/log/* "$r"/debootstrap
rm -f "$r/etc/resolv.conf"

copy_modules "$r" $dom0_mods

# /var/run is an absolute link to /run: never create through it here.
mkdir -p "$r/opt/xpci-vm" "$r/mnt/share" "$r/var/log/xen" "$r/var/lib/xen"
cp "$out/vmlinuz" "$r/opt/xpci-vm/vmlinuz"
cp "$work/guest.cpio.zst" "$r/opt/xpci-vm/guest.cpio.zst"
cp "$here/image/dom0-init" "$r/init"
chmod 755 "$r/init"
echo xpci-dom0 > "$r/etc/hostname"

log "packing dom0 initramfs"
(cd "$r" && find . -xdev | LC_ALL=C sort | cpio -o -H newc --quiet) |
    zstd -q -3 -T0 > "$out/dom0.cpio.zst"

{
    echo "xen $(basename "$xen_deb")"
    echo "kernel $(basename "$kernel_deb") ($kver)"
    sed 's/^/dom0 /' "$work/dom0-versions"
    echo "dom0 root $(du -sh "$r" | cut -f1), initramfs $(du -h "$out/dom0.cpio.zst" | cut -f1)"
} > "$out/versions"
cat "$out/versions"
