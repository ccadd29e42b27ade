#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - the VM suite: boots a real Xen (Debian's: 4.17 on Debian 12,
# 4.20 on Debian 13) in QEMU with an emulated IOMMU and PCI devices, one
# boot per scenario, runs the scenario in dom0 and reports its TAP output.
#
# Usage: tests/vm/run.sh [SCENARIO...]
#   SCENARIO: a file of tests/vm/scenarios, or a unique prefix of one (10);
#   default: all of them, in name order.
#
# Environment:
#   XPCI_VM_PLATFORM   the dom0's Debian release: bookworm (Xen 4.17,
#                      Linux 6.1) or trixie (Xen 4.20, Linux 6.12); default
#                      this host's release, else bookworm
#   XPCI_VM_APT_ROOT   a root of that release whose apt finds its packages,
#                      when this host's apt does not (tests/chroot/run.sh
#                      makes one); default: this host's apt
#   XPCI_VM_DEBS       a directory with the xpci and libxpci0 packages
#                      (`make deb` writes them to _deb/), built for the
#                      platform's Xen: dom0 installs them with dpkg -i;
#                      preferred to XPCI_STAGE
#   XPCI_STAGE         an installed xpci tree (DESTDIR of `make install`
#                      with prefix=/usr), built for the platform's Xen,
#                      laid over dom0's root instead; neither set:
#                      scenarios needing xpci skip
#   XPCI_VM_PROBES     test programs dom0 gets in /usr/libexec/xpci-vm
#                      (space-separated paths; make check-vm: xen-perms)
#   XPCI_VM_CACHE      images, packages, results
#                      (default ${XDG_CACHE_HOME:-$HOME/.cache}/xpci-vm)
#   XPCI_VM_RESULTS    results directory (default $XPCI_VM_CACHE/results/<time>)
#   XPCI_VM_IOMMU      intel (VT-d, default) or amd (AMD-Vi, about 2x slower)
#   XPCI_VM_ACCEL      tcg (default) or kvm (only where KVM can run Xen)
#   XPCI_VM_TCG_THREAD single (default) or multi: one host thread for all
#                      vCPUs, or one each (faster, but QEMU 7.2 crashes at
#                      random in VT-d unmaps; see README.md)
#   XPCI_VM_TIMEOUT    hard limit per boot in seconds (default 600; a
#                      scenario may ask for more, see below)
#   XPCI_VM_SUITE_TIMEOUT  limit for all boots together (default 5400);
#                      scenarios left when it is spent count as failed
#   XPCI_VM_SLOW       factor for the scenarios' deadlines (default 1, 2 for amd)
#   XPCI_VM_HVM_CYCLES attach/detach cycles of 60-xpci-hvm with each tool
#                      (default 1)
#   XPCI_VM_OPTIONAL   1 also runs the scenarios marked optional
#                      when none are named
#   XPCI_VM_SKIP       scenarios left out when none are named
#                      (space-separated prefixes, e.g. "60 80")
#   XPCI_VM_SVM_VCPUS  vCPUs of an SVM boot (default 1; see README.md,
#                      "An interrupt delivered twice")
#   XPCI_VM_LOAD       0 leaves out the load section of 70-xpci-crash (the
#                      PV handshake with the guest starved of CPU; default 1)
#   XPCI_VM_KERNEL_PKG the kernel package (default: what linux-image-amd64
#                      depends on)
#   XPCI_VM_MIRROR, XPCI_VM_SECURITY_MIRROR   Debian mirrors for the image
#
# A scenario's line "# xpci-vm: cpu=svm timeout=SECONDS" asks for the SVM
# CPU model with nested paging (HVM guests under Xen), the HVM machine's
# extra devices and a longer limit for its boot.
#
# Exit status: 0 all passed (or skipped), 1 a failure or a time limit,
# 2 usage, 77 the suite cannot run on this machine (reason printed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${XPCI_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xpci-vm}
IOMMU=${XPCI_VM_IOMMU:-intel}
ACCEL=${XPCI_VM_ACCEL:-tcg}
TCG_THREAD=${XPCI_VM_TCG_THREAD:-single}
SVM_VCPUS=${XPCI_VM_SVM_VCPUS:-1}
BOOT_TIMEOUT=${XPCI_VM_TIMEOUT:-600}
SUITE_TIMEOUT=${XPCI_VM_SUITE_TIMEOUT:-5400}
HOST_PKGS=(qemu-system-x86 debootstrap zstd cpio busybox-static kmod xz-utils)
APT_ROOT=${XPCI_VM_APT_ROOT:-}

say() { echo "vm: $*"; }
skip() { say "SKIP: $*"; exit 77; }
die() { say "ERROR: $*" >&2; exit 1; }
usage() { sed -n '3,57p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

# ---------------------------------------------------------------- platform
# A platform is a Debian release; it decides the Xen release of the dom0.
PLATFORM=${XPCI_VM_PLATFORM:-$( (. /etc/os-release 2> /dev/null &&
    echo "${VERSION_CODENAME:-}") )}
case "$PLATFORM" in
bookworm | '') PLATFORM=bookworm XEN_REL=4.17 ;;
trixie) XEN_REL=4.20 ;;
*) die "XPCI_VM_PLATFORM must be bookworm or trixie, not '$PLATFORM'" ;;
esac
XEN_PKG=xen-hypervisor-$XEN_REL-amd64
if [ -n "$APT_ROOT" ]; then
    [ -x "$APT_ROOT/usr/bin/apt-get" ] ||
        die "XPCI_VM_APT_ROOT=$APT_ROOT has no usr/bin/apt-get"
    APT_ROOT=$(cd "$APT_ROOT" && pwd)
fi

case "$IOMMU" in
intel) SLOW=${XPCI_VM_SLOW:-1} ;;
amd) SLOW=${XPCI_VM_SLOW:-2} ;;
*) die "XPCI_VM_IOMMU must be intel or amd, not '$IOMMU'" ;;
esac
case "$ACCEL" in tcg | kvm) ;; *) die "XPCI_VM_ACCEL must be tcg or kvm" ;; esac
case "$TCG_THREAD" in single | multi) ;; *) die "XPCI_VM_TCG_THREAD must be single or multi" ;; esac
case "$SVM_VCPUS" in [1-8]) ;; *) die "XPCI_VM_SVM_VCPUS must be 1-8" ;; esac

# ---------------------------------------------------------------- scenarios
# XPCI_VM_SCENARIO_DIR picks another directory of scenarios (the
# benchmarks in tests/vm/bench); XPCI_VM_NVME_VFS the number of VFs the
# NVMe controller offers (each with 2 queues and 1 interrupt vector).
sdir=$(cd "${XPCI_VM_SCENARIO_DIR:-$here/scenarios}" && pwd)
NVME_VFS=${XPCI_VM_NVME_VFS:-2}
case "$NVME_VFS" in [1-9] | [1-9][0-9]) ;; *) die "XPCI_VM_NVME_VFS must be 1-99" ;; esac
scenarios=()
for a in "$@"; do
    case "$a" in -h | --help) usage ;; -*) usage ;; esac
    # A name, a path, or a unique prefix (10, 10-xl).
    n=$(basename "$a")
    if [ ! -f "$sdir/$n" ]; then
        m=("$sdir/$n"*.sh)
        [ ${#m[@]} -eq 1 ] && [ -f "${m[0]}" ] ||
            die "no single scenario matches '$a' in $sdir"
        n=$(basename "${m[0]}")
    fi
    scenarios+=("$n")
done
# Without names: every scenario but those marked optional (an
# "# xpci-vm: ... optional" line), unless XPCI_VM_OPTIONAL=1, and but
# those XPCI_VM_SKIP names (space-separated unique prefixes: 60).
skipped()
{
    local s
    for s in ${XPCI_VM_SKIP:-}; do
        case "$1" in "$s"*) return 0 ;; esac
    done
    return 1
}
if [ ${#scenarios[@]} -eq 0 ]; then
    while IFS= read -r f; do
        if skipped "$(basename "$f")"; then
            say "$(basename "$f"): not run (XPCI_VM_SKIP)"
            continue
        fi
        if [ "${XPCI_VM_OPTIONAL:-0}" != 1 ] &&
            grep -qm1 '^# xpci-vm:.* optional' "$f"; then
            say "$(basename "$f"): optional, not run (XPCI_VM_OPTIONAL=1 or its name runs it)"
            continue
        fi
        scenarios+=("$(basename "$f")")
    done < <(find "$sdir" -maxdepth 1 -name '*.sh' | LC_ALL=C sort)
fi
[ ${#scenarios[@]} -gt 0 ] || die "no scenarios in $sdir"

# How dom0 gets xpci: the packages (one xpci and one libxpci0 .deb), or
# a stage laid over its root, or not at all.
DEBS=()
if [ -n "${XPCI_VM_DEBS:-}" ]; then
    for p in xpci libxpci0; do
        m=("$XPCI_VM_DEBS/${p}_"*_amd64.deb)
        [ ${#m[@]} -eq 1 ] && [ -f "${m[0]}" ] ||
            die "XPCI_VM_DEBS=$XPCI_VM_DEBS must hold exactly one ${p}_*_amd64.deb"
        DEBS+=("$(cd "$(dirname "${m[0]}")" && pwd)/$(basename "${m[0]}")")
    done
    [ -z "${XPCI_STAGE:-}" ] || say "XPCI_VM_DEBS given: XPCI_STAGE is not used"
    XPCI_STAGE=
    say "xpci from the packages: ${DEBS[*]##*/}"
elif [ -n "${XPCI_STAGE:-}" ]; then
    [ -x "$XPCI_STAGE/usr/sbin/xpci" ] || [ -x "$XPCI_STAGE/usr/bin/xpci" ] ||
        die "XPCI_STAGE=$XPCI_STAGE has no usr/sbin/xpci or usr/bin/xpci"
    XPCI_STAGE=$(cd "$XPCI_STAGE" && pwd)
    say "xpci from the stage $XPCI_STAGE"
else
    say "XPCI_VM_DEBS and XPCI_STAGE unset: scenarios that need xpci will SKIP"
fi
PROBES=()
for f in ${XPCI_VM_PROBES:-}; do
    [ -f "$f" ] && [ -x "$f" ] || die "XPCI_VM_PROBES: $f is not a program"
    PROBES+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done

# ---------------------------------------------------------------- host tools
SUDO=
if [ "$(id -u)" != 0 ]; then
    if command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
        SUDO=sudo
    else
        SUDO=none
    fi
fi
as_root()
{
    [ "$SUDO" != none ] || return 1
    $SUDO "$@"
}

installed() { dpkg-query -W -f='${Status}' "$1" 2> /dev/null | grep -q 'ok installed'; }
missing=()
for p in "${HOST_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    { as_root apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q \
            --no-install-recommends "${missing[@]}"; } > "${TMPDIR:-/tmp}/xpci-vm-apt.log" 2>&1 ||
        say "apt-get failed (log: ${TMPDIR:-/tmp}/xpci-vm-apt.log)"
fi
command -v qemu-system-x86_64 > /dev/null ||
    skip "qemu-system-x86_64 is missing and could not be installed; nothing was run"
qemu-system-x86_64 --version > /dev/null 2>&1 ||
    skip "qemu-system-x86_64 does not run on this machine; nothing was run"
if [ "$ACCEL" = kvm ] && [ ! -w /dev/kvm ]; then
    skip "XPCI_VM_ACCEL=kvm but /dev/kvm is not usable; nothing was run"
fi
case "$CACHE" in
*,* | *' '*) die "XPCI_VM_CACHE must not contain commas or spaces (QEMU's module list): $CACHE" ;;
esac
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# ---------------------------------------------------------------- images
# apt of the platform: this host's, or the one in XPCI_VM_APT_ROOT.
apt_run()
{
    if [ -n "$APT_ROOT" ]; then
        as_root chroot "$APT_ROOT" "$@"
    else
        "$@"
    fi
}

# Candidate version of a package, or nothing.
candidate()
{
    apt_run apt-cache policy "$1" 2> /dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' || true
}

resolve_packages()
{
    KERNEL_PKG=${XPCI_VM_KERNEL_PKG:-$(apt_run apt-cache depends linux-image-amd64 2> /dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)}
    XEN_VER=$(candidate "$XEN_PKG")
    KERNEL_VER=
    [ -n "$KERNEL_PKG" ] && KERNEL_VER=$(candidate "$KERNEL_PKG")
    [ -n "$XEN_VER" ] && [ -n "$KERNEL_VER" ]
}

if ! resolve_packages; then
    apt_run apt-get update -q > /dev/null 2>&1 || true
    resolve_packages || true
fi

IMG=
if [ -n "$XEN_VER" ] && [ -n "$KERNEL_VER" ]; then
    key=$( {
        cat "$here/build-image.sh" "$here/image/dom0-init" "$here/image/guest-init"
        echo "$PLATFORM $XEN_PKG=$XEN_VER $KERNEL_PKG=$KERNEL_VER"
    } | sha256sum | cut -c1-16)
    IMG=$CACHE/images/$PLATFORM-$key
else
    # No package lists (offline?): fall back to the newest image built.
    IMG=$(ls -dt "$CACHE"/images/"$PLATFORM"-*/ 2> /dev/null | head -n1)
    IMG=${IMG%/}
    [ -n "$IMG" ] && [ -f "$IMG/ok" ] ||
        skip "cannot resolve $XEN_PKG / the kernel package with apt-cache and no image is cached"
    say "apt-cache cannot resolve the packages: using the cached image $IMG"
fi

build_image()
{
    local debs=$CACHE/debs/$PLATFORM t0=$SECONDS
    [ "$SUDO" != none ] ||
        skip "building the VM image needs root (debootstrap); run as root once"
    for p in debootstrap zstd cpio busybox-static kmod; do
        installed "$p" || skip "$p is missing and could not be installed; nothing was run"
    done
    say "building the image $IMG ($XEN_PKG $XEN_VER, $KERNEL_PKG $KERNEL_VER)"
    mkdir -p "$debs"
    download "$debs" "$XEN_PKG=$XEN_VER" "$KERNEL_PKG=$KERNEL_VER" \
        > "$CACHE/download.log" 2>&1 || {
        tail -n 20 "$CACHE/download.log"
        skip "could not download $XEN_PKG / $KERNEL_PKG; nothing was run"
    }
    local xen_deb kernel_deb
    xen_deb=$(ls "$debs/${XEN_PKG}_"*"${XEN_VER//:/%3a}"_amd64.deb | head -n1)
    kernel_deb=$(ls "$debs/${KERNEL_PKG}_"*"${KERNEL_VER//:/%3a}"_amd64.deb | head -n1)
    rm -rf "$IMG.tmp"
    # A stuck mirror must not hang the suite: 15 minutes at most.
    if ! as_root env XPCI_VM_SUITE="$PLATFORM" XPCI_VM_XEN="$XEN_REL" \
            timeout 900 "$here/build-image.sh" "$IMG.tmp" "$xen_deb" \
            "$kernel_deb" "$CACHE/debootstrap" > "$CACHE/build.log" 2>&1; then
        tail -n 40 "$CACHE/build.log"
        rm -rf "$IMG.tmp"
        die "image build failed (log: $CACHE/build.log)"
    fi
    [ -z "$SUDO" ] || as_root chown -R "$(id -u):$(id -g)" "$IMG.tmp" "$debs"
    cp "$CACHE/build.log" "$IMG.tmp/build.log"
    touch "$IMG.tmp/ok"
    rm -rf "$IMG"
    mv "$IMG.tmp" "$IMG"
    # Keep only this image of the platform and the packages it came from.
    find "$CACHE/images" -mindepth 1 -maxdepth 1 -name "$PLATFORM-*" \
        ! -path "$IMG" -exec rm -rf {} +
    find "$debs" -name '*.deb' ! -path "$xen_deb" ! -path "$kernel_deb" -delete
    say "image built in $((SECONDS - t0)) s: $(tail -n1 "$IMG/versions")"
}

# Download packages (NAME=VERSION...) into DIR with the platform's apt.
download()
{
    local dir=$1 tmp
    shift
    if [ -z "$APT_ROOT" ]; then
        (cd "$dir" && as_root apt-get download -q "$@")
        return
    fi
    tmp=$(as_root mktemp -d "$APT_ROOT/tmp/xpci-debs.XXXXXX")
    as_root chroot "$APT_ROOT" sh -c 'cd "$1" && shift && apt-get download -q "$@"' \
        sh "${tmp#"$APT_ROOT"}" "$@" &&
        as_root mv "$tmp"/*.deb "$dir/"
    local rc=$?
    as_root rm -rf "$tmp"
    return $rc
}

mkdir -p "$CACHE/images"
exec 9> "$CACHE/lock"
flock 9
[ -f "$IMG/ok" ] || build_image
touch "$IMG" # the image used last is kept longest

# ---------------------------------------------------------------- boots
RESULTS=${XPCI_VM_RESULTS:-$CACHE/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
case "$RESULTS" in
*,* | *' '*) die "the results path must not contain commas or spaces: $RESULTS" ;;
esac
# Old results: keep the last 10 runs.
if [ -z "${XPCI_VM_RESULTS:-}" ]; then
    ls -dt "$CACHE"/results/*/ 2> /dev/null | tail -n +11 | xargs -r rm -rf
fi
say "results: $RESULTS"

XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M"
XEN_ARGS="$XEN_ARGS iommu=verbose,debug loglvl=all guest_loglvl=all conring_size=1M"
DOM0_ARGS="console=hvc0"

# The machine: one IOMMU (created before the PCI devices it translates
# for), each passthrough candidate behind its own root port:
#   rp1 e1000e (8086:10d3), rp2 NVMe with 2 SR-IOV VFs (1b36:0010),
#   rp3 e1000, a conventional PCI device (8086:100e).
#
# An SVM boot (a scenario with HVM guests) has an AMD CPU model with nested
# paging, which TCG emulates and Xen's HVM needs (Debian's Xen has no
# shadow paging, so HAP it is), a user-mode network behind the e1000e
# (restrict=on: nothing leaves QEMU; its DHCP server and gateway answer
# the guest) and rp4, a two-function slot of e1000s (8086:100e, legacy
# INTx, an I/O BAR).  QEMU 7.2's AMD IOMMU translates DMA from a device
# behind a root port with the wrong device-table entry (the bus number is
# read as 0 at startup), so with amd the e1000e sits on pcie.0 there.
# Their option ROMs are left out (romfile=): the HVM guest's SeaBIOS
# would run iPXE from a passed-through NIC, for many minutes under TCG.
qemu_cmd()
{
    local share=$1 serial=$2 cpu=$3 nic=rp1 vcpus=2
    [ "$cpu" = svm ] && vcpus=$SVM_VCPUS
    QEMU=(qemu-system-x86_64)
    if [ "$ACCEL" = kvm ]; then
        QEMU+=(-accel kvm -cpu host)
    else
        QEMU+=(-accel "tcg,thread=$TCG_THREAD")
        [ "$cpu" = svm ] && QEMU+=(-cpu qemu64,+svm,+npt)
    fi
    if [ "$IOMMU" = intel ]; then
        QEMU+=(-machine q35,kernel-irqchip=split
            -device intel-iommu,intremap=on,caching-mode=on)
    else
        QEMU+=(-machine q35 -device amd-iommu)
    fi
    QEMU+=(-smp "$vcpus" -m 3072 -nic none -no-reboot -display none -monitor none
        -serial "file:$serial"
        -device pcie-root-port,id=rp1,chassis=1,slot=1)
    if [ "$cpu" = svm ]; then
        [ "$IOMMU" = amd ] && nic=pcie.0
        QEMU+=(-netdev user,id=n0,restrict=on
            -device "e1000e,bus=$nic,netdev=n0,romfile=")
    else
        QEMU+=(-device e1000e,bus=rp1)
    fi
    QEMU+=(-device pcie-root-port,id=rp2,chassis=2,slot=2
        -device nvme-subsys,id=nvs0,nqn=xpci-nvm
        -device "nvme,bus=rp2,serial=xpci-nvme0,subsys=nvs0,sriov_max_vfs=$NVME_VFS,sriov_vq_flexible=$((2 * NVME_VFS)),sriov_vi_flexible=$NVME_VFS,max_ioqpairs=$((2 * NVME_VFS + 2)),msix_qsize=$((NVME_VFS + 2))"
        -device pcie-root-port,id=rp3,chassis=3,slot=3
        -device e1000,bus=rp3)
    [ "$cpu" = svm ] && QEMU+=(-device pcie-root-port,id=rp4,chassis=4,slot=4
        -device e1000,bus=rp4,addr=00.0,multifunction=on,mac=52:54:00:12:34:41,romfile=
        -device e1000,bus=rp4,addr=00.1,mac=52:54:00:12:34:42,romfile=)
    QEMU+=(-virtfs "local,path=$share,mount_tag=xpcishare,security_model=none"
        -kernel "$IMG/xen" -append "$XEN_ARGS dom0_max_vcpus=$vcpus"
        -initrd "$IMG/vmlinuz $DOM0_ARGS,$IMG/dom0.cpio.zst")
}

# The scenario's "# xpci-vm: cpu=svm timeout=SECONDS" line: VM_CPU,
# VM_LIMIT (empty when not asked for).
scenario_wants()
{
    local line w
    VM_CPU=default VM_LIMIT=
    line=$(grep -m1 '^# xpci-vm:' "$1" || true)
    for w in ${line#\# xpci-vm:}; do
        case "$w" in
        cpu=svm) VM_CPU=svm ;;
        timeout=[1-9]*[0-9]) VM_LIMIT=${w#timeout=} ;;
        optional) ;;
        *) die "$1: unknown xpci-vm setting '$w'" ;;
        esac
    done
}

QPID=
on_exit()
{
    if [ -n "$QPID" ] && kill -0 "$QPID" 2> /dev/null; then
        kill "$QPID" 2> /dev/null || true
        wait "$QPID" 2> /dev/null || true
    fi
}
trap on_exit EXIT
trap 'say "interrupted"; exit 130' INT TERM

# Print the complete lines of FILE not shown yet (count in SHOWN).
SHOWN=0
show_new()
{
    local n
    [ -f "$1" ] || return 0
    n=$(wc -l < "$1")
    if [ "$n" -gt "$SHOWN" ]; then
        sed -n "$((SHOWN + 1)),${n}p" "$1"
        SHOWN=$n
    fi
}

failures=0
total_pass=0
total_fail=0
summary=()

run_scenario()
{
    local name=$1 limit=$2 cpu=$3 dir share out serial t0 qrc rc verdict p f
    dir=$RESULTS/${name%.sh}
    share=$dir/share
    out=$share/out
    serial=$dir/serial.log
    mkdir -p "$share/in/scenarios" "$out"
    cp "$here/lib.sh" "$here/dom0-run.sh" "$share/in/"
    # The Ansible collection and the playbooks that drive it.
    mkdir -p "$share/in/ansible" "$share/in/playbooks"
    cp -a "$here/../../ansible/ansible_collections" "$share/in/ansible/"
    cp "$here"/../ansible/*.yml "$share/in/playbooks/"
    cp "$sdir/$name" "$share/in/scenarios/"
    echo "$name" > "$share/in/scenarios.list"
    local have_xpci=0 xpci_from=none
    if [ ${#DEBS[@]} -gt 0 ]; then
        mkdir -p "$share/in/debs"
        cp "${DEBS[@]}" "$share/in/debs/"
        have_xpci=1 xpci_from=deb
    elif [ -n "${XPCI_STAGE:-}" ]; then
        cp -a "$XPCI_STAGE" "$share/in/stage"
        have_xpci=1 xpci_from=stage
    fi
    if [ ${#PROBES[@]} -gt 0 ]; then
        mkdir -p "$share/in/probes"
        cp "${PROBES[@]}" "$share/in/probes/"
    fi
    cat > "$share/in/env" <<EOF
export XPCI_VM_IN=/mnt/share/in XPCI_VM_OUT=/mnt/share/out
export XPCI_VM_HAVE_XPCI=$have_xpci XPCI_VM_IOMMU=$IOMMU XPCI_VM_SLOW=$SLOW
export XPCI_VM_SCENARIO_TIMEOUT=$((limit - 90)) XPCI_VM_CPU=$cpu
export XPCI_VM_HVM_CYCLES=${XPCI_VM_HVM_CYCLES:-1} XPCI_VM_LOAD=${XPCI_VM_LOAD:-1}
export XPCI_VM_XPCI_FROM=$xpci_from
EOF
    qemu_cmd "$share" "$serial" "$cpu"
    printf '%q ' "${QEMU[@]}" > "$dir/qemu-cmdline"
    echo >> "$dir/qemu-cmdline"

    local how=$ACCEL
    [ "$ACCEL" = tcg ] && how="tcg $TCG_THREAD-threaded"
    [ "$cpu" = svm ] && how="$how, SVM CPU"
    say "=== $name: booting Xen $XEN_REL, Debian $PLATFORM dom0 ($IOMMU IOMMU, $how, limit ${limit}s)"
    t0=$SECONDS
    timeout -k 10 "$limit" "${QEMU[@]}" > "$dir/qemu.log" 2>&1 &
    QPID=$!
    SHOWN=0
    while kill -0 "$QPID" 2> /dev/null; do
        show_new "$out/$name.tap"
        sleep 1
    done
    qrc=0
    wait "$QPID" || qrc=$?
    QPID=
    show_new "$out/$name.tap"
    local secs=$((SECONDS - t0))
    # What dom0 saw: `xl info`'s xen_version and its kernel.
    [ -s "$out/xen-version" ] && say "$(cat "$out/xen-version")"

    rc=$(cat "$out/$name.rc" 2> /dev/null || echo none)
    p=0 f=0
    if [ -f "$out/$name.tap" ]; then
        p=$(grep -c '^ok ' "$out/$name.tap" || true)
        f=$(grep '^not ok ' "$out/$name.tap" | grep -vc '# TODO' || true)
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
        verdict="TIME LIMIT (${limit}s)"
    elif [ "$rc" = none ] && [ "$qrc" -gt 128 ]; then
        verdict="QEMU CRASHED (signal $((qrc - 128)))"
    elif [ "$rc" = none ]; then
        verdict="NO RESULT (QEMU exit $qrc)"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        verdict="TIME LIMIT in dom0 ($((limit - 90))s)"
    elif [ "$rc" = 0 ]; then
        verdict=PASS
        grep -q '^1\.\.0 # SKIP' "$out/$name.tap" 2> /dev/null && verdict=SKIP
    else
        verdict="FAIL (exit $rc)"
    fi
    summary+=("$(printf '%-8s %-28s %-28s %4ss  %s passed, %s failed' "$PLATFORM" "$name" "$verdict" "$secs" "$p" "$f")")
    say "=== $name: $verdict after ${secs}s"
    case "$verdict" in
    PASS | SKIP) ;;
    *)
        failures=$((failures + 1))
        if [ -f "$out/dom0-run.log" ]; then
            say "--- tail of $out/dom0-run.log"
            tail -n 15 "$out/dom0-run.log"
        fi
        say "--- tail of $serial"
        tail -n 40 "$serial" 2> /dev/null | grep -v '^(XEN)    [0-9a-f]\{16\} ' || true
        [ -s "$dir/qemu.log" ] && { say "--- $dir/qemu.log"; tail -n 10 "$dir/qemu.log"; }
        ;;
    esac
}

suite_start=$SECONDS
for s in "${scenarios[@]}"; do
    left=$((SUITE_TIMEOUT - (SECONDS - suite_start)))
    if [ "$left" -lt 120 ]; then
        say "=== $s: NOT RUN: the suite's time limit (${SUITE_TIMEOUT}s) is spent"
        summary+=("$(printf '%-8s %-28s %-28s' "$PLATFORM" "$s" "NOT RUN (suite time limit)")")
        failures=$((failures + 1))
        continue
    fi
    scenario_wants "$sdir/$s"
    limit=$BOOT_TIMEOUT
    [ -z "$VM_LIMIT" ] || [ "$VM_LIMIT" -le "$limit" ] || limit=$VM_LIMIT
    [ "$left" -lt "$limit" ] || left=$limit
    run_scenario "$s" "$left" "$VM_CPU"
done

say "=== summary: Debian $PLATFORM dom0, Xen $XEN_REL ($RESULTS)"
for l in "${summary[@]}"; do say "$l"; done
xv=$(cat "$RESULTS"/*/share/out/xen-version 2> /dev/null | sed -n 's/^\(xen_version [^ ]*\).*/\1/p' | sort -u | tr '\n' ' ')
echo "$PLATFORM: ${xv:-xen_version unknown }$total_pass passed, $total_fail failed"
[ "$failures" -eq 0 ]
