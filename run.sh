#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - set up a Debian 12 or Debian 13 machine for xpci, build it and
# run it.  The Debian release decides the Xen release xpci is built for:
# Debian 12 (bookworm) ships Xen 4.17, Debian 13 (trixie) Xen 4.20.
#
#   ./run.sh          install what is missing, build, show `xpci check` on
#                     this host, then boot this release's Xen in QEMU and
#                     run the showcase there (XPCI_SHOWCASE_VM=0 skips it)
#   ./run.sh test     install, build and run every test suite, for both
#                     Xen releases: `make check` (unit + real xenstored)
#                     here and, for the other release, in a cached Debian
#                     root (tests/chroot/run.sh); `make check-vm` (real Xen
#                     in QEMU) on both releases' dom0 images, side by side
#                     and, on Debian 12, `make check-asan` (the same under
#                     ASan/UBSan) and `make fuzz` (a libFuzzer smoke)
#   ./run.sh check    install, build and `make check` (no VM)
#   ./run.sh build    install and build only
#   ./run.sh packages [CODENAME]   the packages a build needs there
#
# Runs as root or through sudo.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# Supported Debian releases and the Xen release each ships.
SUPPORTED="bookworm trixie"
xen_release_of() {
    case "$1" in
    bookworm) echo 4.17 ;;
    trixie) echo 4.20 ;;
    *) return 1 ;;
    esac
}

# The supported releases other than this machine's.
other_releases() {
    local r
    for r in $SUPPORTED; do [ "$r" = "$CODENAME" ] || echo "$r"; done
}

# This machine's release (VERSION_CODENAME of /etc/os-release).
host_codename() {
    (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-unknown}")
}

# BUILD_DEPS for a Debian release.  --no-install-recommends keeps the
# hypervisor and Xen's device model off a build machine: xen-utils is
# wanted for its libraries and xenstored only.  Plain qemu-system-x86 is
# wanted: `make check` talks QMP to it (tests/integration/test-qmp-qemu.c).
set_platform() {
    CODENAME=$1
    XEN_RELEASE=$(xen_release_of "$CODENAME") || {
        echo "run.sh: Debian '$CODENAME' is not supported; supported:" \
            "Debian 12 (bookworm, Xen 4.17), Debian 13 (trixie, Xen 4.20)" >&2
        exit 1
    }
    BUILD_DEPS=(build-essential autoconf automake libtool pkg-config
        libxen-dev libyajl-dev libcmocka-dev "xen-utils-$XEN_RELEASE"
        pciutils time qemu-system-x86)
}

# What `./run.sh test` adds on Debian 12: the sanitizer build and the
# fuzzers use its clang 14.
TEST_DEPS=(clang-14 libclang-rt-14-dev)

# What `make check-vm` adds: it builds the Debian packages (`make deb`,
# dpkg-buildpackage checks debian/control's Build-Depends) and dom0
# installs them.  `run.sh packages` names them too: the other release's
# root (tests/chroot/run.sh) builds that release's packages for its VM.
DEB_DEPS=(dpkg-dev debhelper bash-completion)

install_deps() {
    local missing=()
    for p in "${BUILD_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "run.sh: installing ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
}

build() {
    [ -x configure ] || { mkdir -p m4 && autoreconf -fi; }
    [ -f Makefile ] || ./configure --sysconfdir=/etc --localstatedir=/var
    # A tree configured for another Xen release (libxen-dev changed under
    # it) is configured again.
    if ! grep -q "^XEN_RELEASE = $XEN_RELEASE\$" Makefile; then
        echo "run.sh: the build was configured for another Xen release;" \
            "configuring for Xen $XEN_RELEASE"
        ./configure --sysconfdir=/etc --localstatedir=/var
        make clean
    fi
    make -j"$(nproc)"
}

# Every test log, so cmocka's summaries (written to stderr) are seen, then
# one closing line with the totals.
report_tests() {
    local passed=0 failed=0 n f
    while IFS= read -r f; do
        echo "=== $f"
        cat "$f"
        n=$(sed -n 's/^.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$f" | tail -n1)
        passed=$((passed + ${n:-0}))
        n=$(sed -n 's/^.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$f" | tail -n1)
        failed=$((failed + ${n:-0}))
        n=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed.*/\1/p' "$f" | tail -n1)
        passed=$((passed + ${n:-0}))
        n=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' "$f" | tail -n1)
        failed=$((failed + ${n:-0}))
    done < <(find tests -name '*.log' ! -name 'test-suite.log' | sort)
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
}

TOTAL_PASSED=0
TOTAL_FAILED=0

cmd=${1:-demo}
if [ "$cmd" = packages ]; then
    set_platform "${2:-$(host_codename)}"
    echo "${BUILD_DEPS[@]}" "${DEB_DEPS[@]}"
    exit 0
fi
set_platform "$(host_codename)"

case "$cmd" in
build)
    install_deps
    build
    ;;
demo)
    BUILD_DEPS+=("${DEB_DEPS[@]}")
    install_deps
    build
    echo
    echo "== xpci list (this host)"
    ./tools/xpci/xpci list
    echo
    echo "== xpci check --all (this host)"
    ./tools/xpci/xpci check --all || true
    if [ "${XPCI_SHOWCASE_VM:-1}" != 0 ] && [ -x tests/vm/run.sh ]; then
        echo "== the same on a real Xen $XEN_RELEASE dom0 booted in QEMU"
        make check-vm VM_SCENARIOS="${XPCI_SHOWCASE_SCENARIOS:-20 40}"
    fi
    ;;
check)
    install_deps
    build
    rc=0
    make -j"$(nproc)" check || rc=$?
    report_tests
    echo
    echo "unit+integration (Xen $XEN_RELEASE, Debian $CODENAME):" \
        "${TOTAL_PASSED} passed, ${TOTAL_FAILED} failed (see above)"
    exit $rc
    ;;
test)
    [ "$CODENAME" != bookworm ] || BUILD_DEPS+=("${TEST_DEPS[@]}")
    BUILD_DEPS+=("${DEB_DEPS[@]}")
    install_deps
    build
    results=()
    rc=0
    t0=$SECONDS
    make -j"$(nproc)" check || rc=$?
    report_tests
    results+=("unit+integration, Xen $XEN_RELEASE (Debian $CODENAME, this host): ${TOTAL_PASSED} passed, ${TOTAL_FAILED} failed, exit $rc, $((SECONDS - t0)) s")
    if [ "$CODENAME" = bookworm ]; then
        echo
        echo "== the same under AddressSanitizer and UBSan (make check-asan)"
        asan_rc=0
        t0=$SECONDS
        make check-asan || asan_rc=$?
        (cd build-asan/obj && TOTAL_PASSED=0 && TOTAL_FAILED=0 &&
            report_tests &&
            echo "check-asan: ${TOTAL_PASSED} passed, ${TOTAL_FAILED} failed")
        [ $rc -ne 0 ] || rc=$asan_rc
        results+=("check-asan (ASan+UBSan), Xen $XEN_RELEASE: exit $asan_rc, $((SECONDS - t0)) s")
        echo
        echo "== fuzz smoke (make fuzz)"
        fuzz_rc=0
        t0=$SECONDS
        make fuzz || fuzz_rc=$?
        [ $rc -ne 0 ] || rc=$fuzz_rc
        results+=("fuzz smoke: exit $fuzz_rc, $((SECONDS - t0)) s")
    fi
    # The other releases: built and checked in a Debian root of their own,
    # which also builds the Debian packages their VM's dom0 installs.
    declare -A debs=() aptroot=()
    for other in $(other_releases); do
        t0=$SECONDS
        crc=0
        tests/chroot/run.sh "$other" || crc=$?
        [ $rc -ne 0 ] || rc=$crc
        results+=("unit+integration, Xen $(xen_release_of "$other") (Debian $other, chroot): exit $crc, $((SECONDS - t0)) s (totals above)")
        if [ $crc -eq 0 ]; then
            debs[$other]=$(tests/chroot/run.sh "$other" --root)/build/_deb
            aptroot[$other]=$(tests/chroot/run.sh "$other" --root)
        fi
    done
    # The other releases' VM suites run beside this host's: each QEMU is
    # one TCG thread, so two boots share two cores with little loss.  Each
    # has a cache of its own (a cache's lock lets one QEMU run at a time),
    # and its output is printed whole once this host's suite is done.
    declare -A vmout=() vmpid=()
    for p in $(other_releases); do
        if [ -z "${debs[$p]:-}" ]; then
            results+=("VM suite, Xen $(xen_release_of "$p") (Debian $p): not run, its build failed")
            continue
        fi
        vmout[$p]=$(mktemp)
        (
            t0=$SECONDS
            vrc=0
            # The scenarios make check-vm runs by default, with that
            # release's packages, built in its root; the HVM scenario
            # runs once, with this host's release.
            XPCI_VM_SKIP=${XPCI_VM_SKIP-60} \
            XPCI_VM_PLATFORM=$p XPCI_VM_APT_ROOT=${aptroot[$p]} \
                XPCI_VM_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/xpci-vm-$p" \
                XPCI_VM_DEBS=${debs[$p]} \
                tests/vm/run.sh || vrc=$?
            [ $vrc -ne 77 ] || vrc=0
            echo "$vrc $((SECONDS - t0))" > "${vmout[$p]}.rc"
        ) > "${vmout[$p]}" 2>&1 &
        vmpid[$p]=$!
    done
    t0=$SECONDS
    vrc=0
    make check-vm || vrc=$?
    [ $rc -ne 0 ] || rc=$vrc
    results+=("VM suite, Xen $XEN_RELEASE (Debian $CODENAME dom0): exit $vrc, $((SECONDS - t0)) s")
    for p in "${!vmpid[@]}"; do
        wait "${vmpid[$p]}" || true
        echo
        echo "== VM suite, Xen $(xen_release_of "$p") (Debian $p dom0), run beside the one above"
        cat "${vmout[$p]}"
        read -r vrc secs < "${vmout[$p]}.rc" 2>/dev/null || vrc=1 secs=?
        rm -f "${vmout[$p]}" "${vmout[$p]}.rc"
        [ $rc -ne 0 ] || rc=$vrc
        results+=("VM suite, Xen $(xen_release_of "$p") (Debian $p dom0): exit $vrc, $secs s")
    done
    echo
    for l in "${results[@]}"; do echo "run.sh: $l"; done
    exit $rc
    ;;
*)
    sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
