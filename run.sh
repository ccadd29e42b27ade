#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - set up a Debian 12 machine for xpci, build it and run it.
#
#   ./run.sh          install what is missing, build, show `xpci check` on
#                     this host, then boot a real Xen 4.17 in QEMU and run
#                     the showcase there (XPCI_SHOWCASE_VM=0 skips the VM)
#   ./run.sh test     install, build and run every test suite:
#                     `make check` (unit + real xenstored + stress),
#                     `make check-asan` (the same under ASan/UBSan),
#                     `make fuzz` (a short libFuzzer smoke per target) and
#                     `make check-vm` (real Xen in QEMU)
#   ./run.sh build    install and build only
#
# Runs as root or through sudo.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

BUILD_DEPS=(build-essential autoconf automake libtool pkg-config
    libxen-dev libyajl-dev libcmocka-dev xen-utils-4.17 pciutils time
    qemu-system-x86 clang-14 libclang-rt-14-dev)

install_deps() {
    local missing=()
    for p in "${BUILD_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "run.sh: installing ${missing[*]}"
    $SUDO apt-get update -q
    # --no-install-recommends keeps the hypervisor and Xen's device model
    # off a build machine: xen-utils is wanted for its libraries and
    # xenstored only.  Plain qemu-system-x86 is wanted: `make check` talks
    # QMP to it (tests/integration/test-qmp-qemu.c).
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
}

build() {
    [ -x configure ] || { mkdir -p m4 && autoreconf -fi; }
    [ -f Makefile ] || ./configure --sysconfdir=/etc --localstatedir=/var
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

case "${1:-demo}" in
build)
    install_deps
    build
    ;;
demo)
    install_deps
    build
    echo
    echo "== xpci list (this host)"
    ./tools/xpci/xpci list
    echo
    echo "== xpci check --all (this host)"
    ./tools/xpci/xpci check --all || true
    if [ "${XPCI_SHOWCASE_VM:-1}" != 0 ] && [ -x tests/vm/run.sh ]; then
        echo "== the same on a real Xen 4.17 dom0 booted in QEMU"
        make check-vm VM_SCENARIOS="${XPCI_SHOWCASE_SCENARIOS:-20 40}"
    fi
    ;;
test)
    install_deps
    build
    rc=0
    make -j"$(nproc)" check || rc=$?
    report_tests
    echo
    echo "== the same under AddressSanitizer and UBSan (make check-asan)"
    asan_rc=0
    SECONDS=0
    make check-asan || asan_rc=$?
    asan_s=$SECONDS
    (cd build-asan/obj && TOTAL_PASSED=0 && TOTAL_FAILED=0 && report_tests
     echo "check-asan: ${TOTAL_PASSED} passed, ${TOTAL_FAILED} failed")
    echo
    echo "== fuzz smoke (make fuzz)"
    fuzz_rc=0
    make fuzz || fuzz_rc=$?
    vm_rc=0
    make check-vm || vm_rc=$?
    for r in $asan_rc $fuzz_rc $vm_rc; do
        [ $rc -ne 0 ] || rc=$r
    done
    echo
    echo "unit+integration: ${TOTAL_PASSED} passed, ${TOTAL_FAILED} failed (see above); check-asan exit ${asan_rc} (${asan_s} s); fuzz smoke exit ${fuzz_rc}; VM suite exit ${vm_rc}"
    exit $rc
    ;;
*)
    sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
