#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/chroot/run.sh - build xpci and run `make check` for another Debian
# release (and so another Xen release) in a cached root of that release:
# debootstrap, then chroot with /proc, /sys, /dev and the source tree bound
# in.  The build happens in a copy inside the root, so the tree here (and
# its own build) is never touched.
#
# Usage: tests/chroot/run.sh CODENAME           build, check, stage
#        tests/chroot/run.sh CODENAME --root    print the root's path
#
# The root lives in $XPCI_CHROOT_CACHE/CODENAME (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/xpci-chroot) with the packages
# `run.sh packages CODENAME` names.  Each run asks the root's apt for the
# candidate versions of those packages; when any differs from what is
# installed (a point release, a security update), or the package list or
# the way the root is made changed, the root is built again.  After a passing check the
# build is installed into ROOT/build/_stage (prefix /usr, /etc, /var), and
# the release's Debian packages are built into ROOT/build/_deb (what a VM
# of that release installs in its dom0).
#
# Runs as root.  Mirror: XPCI_VM_MIRROR (default deb.debian.org).
# Exit status: that of `run.sh check` in the root; 1 when the root cannot
# be built.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
codename=$1
mode=${2:-check}
case "$codename" in *[!a-z]* | '') echo "chroot: bad release name '$codename'" >&2; exit 2 ;; esac
cache=${XPCI_CHROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xpci-chroot}
root=$cache/$codename
mirror=${XPCI_VM_MIRROR:-http://deb.debian.org/debian}
security=${XPCI_VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
if [ "$mode" = --root ]; then
    echo "$root"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "chroot: needs root (debootstrap, chroot)" >&2; exit 1; }

say() { echo "chroot[$codename]: $*"; }
pkgs=$("$top/run.sh" packages "$codename")
# What the root is made of; ROOT_FORMAT changes when build_root does.
ROOT_FORMAT=2
key=$(echo "$ROOT_FORMAT $codename $pkgs $mirror $security" | sha256sum | cut -c1-16)

mkdir -p "$cache"
exec 8> "$cache/$codename.lock"
flock 8

MOUNTS=()
umount_all() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTS[$i]}" 2> /dev/null || umount -l "${MOUNTS[$i]}" || true
    done
    MOUNTS=()
}
trap umount_all EXIT
bind() {
    mkdir -p "$2"
    mount --bind "$1" "$2"
    MOUNTS+=("$2")
}
in_root() { chroot "$root" "$@"; }

# "pkg version" per line of the packages installed in the root.
installed_versions() {
    in_root dpkg-query -W -f='${Package} ${Version}\n' $pkgs 2> /dev/null | sort
}
candidate_versions() {
    local p
    for p in $pkgs; do
        echo "$p $(in_root apt-cache policy "$p" 2> /dev/null |
            sed -n 's/^ *Candidate: //p')"
    done | sort
}

build_root() {
    local t0=$SECONDS new=$root.new
    say "building the root with debootstrap (packages: $pkgs)"
    command -v debootstrap > /dev/null || {
        apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends \
            debootstrap > /dev/null
    }
    rm -rf "$new"
    mkdir -p "$cache/debs-$codename"
    if ! debootstrap --variant=minbase --cache-dir="$cache/debs-$codename" \
            --include="${pkgs// /,}" "$codename" "$new" "$mirror" \
            > "$cache/$codename-debootstrap.log" 2>&1; then
        tail -n 30 "$cache/$codename-debootstrap.log"
        for m in proc sys dev/pts dev; do umount -l "$new/$m" 2> /dev/null || true; done
        rm -rf "$new"
        say "debootstrap failed (log: $cache/$codename-debootstrap.log)"
        return 1
    fi
    # The release as a machine of it has it: with its updates and security
    # fixes (the VM image's dom0 is upgraded the same way).
    cat > "$new/etc/apt/sources.list" << EOF
deb $mirror $codename main
deb $mirror $codename-updates main
deb $security $codename-security main
EOF
    cp /etc/resolv.conf "$new/etc/resolv.conf" 2> /dev/null || true
    mount -t proc proc "$new/proc"
    if ! { chroot "$new" apt-get -q update &&
        DEBIAN_FRONTEND=noninteractive chroot "$new" apt-get -q -y \
            -o Dpkg::Options::=--force-confold upgrade; } \
            > "$cache/$codename-upgrade.log" 2>&1; then
        umount "$new/proc"
        tail -n 20 "$cache/$codename-upgrade.log"
        rm -rf "$new"
        say "upgrading the root failed (log: $cache/$codename-upgrade.log)"
        return 1
    fi
    umount "$new/proc"
    echo "$key" > "$new/.xpci-key"
    rm -rf "$root"
    mv "$new" "$root"
    say "root built in $((SECONDS - t0)) s"
}

# Bring the package lists up to date and compare.
root_is_current() {
    [ -f "$root/.xpci-key" ] && [ "$(cat "$root/.xpci-key")" = "$key" ] ||
        return 1
    cp /etc/resolv.conf "$root/etc/resolv.conf" 2> /dev/null || true
    if ! in_root apt-get update -q > "$cache/$codename-apt.log" 2>&1; then
        say "apt-get update failed in the root: using it as it is"
        return 0
    fi
    local have want
    have=$(installed_versions)
    want=$(candidate_versions)
    [ "$have" = "$want" ] && return 0
    say "package versions changed:"
    diff <(echo "$have") <(echo "$want") | sed -n 's/^> /  now /p'
    return 1
}

t0=$SECONDS
if ! root_is_current; then
    build_root || exit 1
    cp /etc/resolv.conf "$root/etc/resolv.conf" 2> /dev/null || true
    in_root apt-get update -q > "$cache/$codename-apt.log" 2>&1 || true
fi
say "root $root ready after $((SECONDS - t0)) s:"
installed_versions | grep -E '^(libxen-dev|xen-utils-[0-9.]+|qemu-system-x86|libcmocka-dev) ' |
    sed 's/^/  /'

bind /proc "$root/proc"
bind /sys "$root/sys"
bind /dev "$root/dev"
bind "$top" "$root/mnt/src"
mount -o remount,bind,ro "$root/mnt/src"

# A copy into DIR (in the root): what git tracks (and new files it does
# not ignore), else the whole tree without build products.
copy_tree() {
    mkdir -p "$root$1"
    if [ -f "$root/build/files" ]; then
        in_root tar -C /mnt/src --null -T /build/files -cf - |
            in_root tar -C "$1" -xf -
    else
        in_root tar -C /mnt/src --exclude='*.o' --exclude='*.lo' \
            --exclude=.libs --exclude=Makefile --exclude=config.status \
            --exclude=configure -cf - . | in_root tar -C "$1" -xf -
    fi
}
rm -rf "$root/build"
mkdir -p "$root/build"
if git -C "$top" rev-parse --git-dir > /dev/null 2>&1; then
    git -C "$top" ls-files -z --cached --others --exclude-standard > "$root/build/files"
fi
copy_tree /build/xpci

t0=$SECONDS
rc=0
in_root env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    /bin/bash -c 'cd /build/xpci && ./run.sh check' || rc=$?
say "build and make check: exit $rc after $((SECONDS - t0)) s"
if [ $rc -eq 0 ]; then
    in_root /bin/bash -c 'cd /build/xpci && make -s install \
        DESTDIR=/build/_stage prefix=/usr sysconfdir=/etc localstatedir=/var' \
        > /dev/null || rc=$?
    say "installed into $root/build/_stage"
fi
# The release's Debian packages, from a clean copy (make check ran above),
# for its VM's dom0 to install.
if [ $rc -eq 0 ]; then
    t0=$SECONDS
    mkdir -p "$root/build/_deb"
    copy_tree /build/debsrc/xpci
    if in_root env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
            LANG=C.UTF-8 DEB_BUILD_OPTIONS=nocheck /bin/bash -c \
            'cd /build/debsrc/xpci && dpkg-buildpackage -us -uc -b' \
            > "$root/build/deb.log" 2>&1; then
        mv "$root"/build/debsrc/*.deb "$root/build/_deb/"
        say "Debian packages in $root/build/_deb after $((SECONDS - t0)) s:" \
            "$(cd "$root/build/_deb" && echo *.deb)"
    else
        rc=$?
        tail -n 30 "$root/build/deb.log"
        say "dpkg-buildpackage failed: exit $rc (log: $root/build/deb.log)"
    fi
fi
exit $rc
