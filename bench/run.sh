#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - how long xpci takes to scan and judge a large host, next to
# lspci reading the same tree.  `make bench` runs it with top_builddir set.
#
# The tree is the "bench" topology of tests/unit/mktree (16 SR-IOV PFs with
# 255 VFs each, 4,113 functions), built in a temporary directory on tmpfs
# when there is one (sysfs lives in memory too), or in $XPCI_BENCH_DIR,
# which is kept and reused on the next run.
#
# Each command runs once to warm the caches, then XPCI_BENCH_RUNS times
# (default 5); the median wall-clock time is reported.  Peak RSS comes from
# one more run under GNU time.  This is a benchmark, not a test: it exits 0
# whatever the figures, and 1 only when something could not be run.
set -u
export LC_ALL=C # EPOCHREALTIME and awk agree on the decimal point

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
RUNS=${XPCI_BENCH_RUNS:-5}
MKTREE=$top_builddir/tests/unit/mktree
XPCI_WRAPPER=$top_builddir/tools/xpci/xpci
GNU_TIME=/usr/bin/time

# Targets
CHECK_RATIO_MAX=1.0      # xpci check --all vs lspci, wall clock
RSS_MAX_KIB=10240        # 10 MiB, for each xpci command

die() {
    echo "bench: $*" >&2
    exit 1
}

# need CMD PACKAGE: install PACKAGE with apt-get when CMD is missing.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    [ -x "$1" ] && return 0
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    command -v apt-get >/dev/null 2>&1 ||
        die "$1 is missing and there is no apt-get to install $2"
    echo "bench: installing $2 for $1" >&2
    $sudo apt-get install -y --no-install-recommends "$2" >/dev/null ||
        die "could not install $2"
}

case $RUNS in
'' | *[!0-9]* | 0) die "XPCI_BENCH_RUNS must be a positive integer" ;;
esac
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 or later is needed (EPOCHREALTIME)"
[ -x "$MKTREE" ] || die "$MKTREE not built (make check_PROGRAMS or make bench)"
[ -e "$XPCI_WRAPPER" ] || die "$XPCI_WRAPPER not built (make)"
need lspci pciutils
need "$GNU_TIME" time

# The CLI as libtool leaves it is a shell wrapper; time the real binary so
# the wrapper's shell start-up is not counted.
XPCI=$XPCI_WRAPPER
XPCI_ENV=()
for real in "$top_builddir/tools/xpci/.libs/lt-xpci" \
    "$top_builddir/tools/xpci/.libs/xpci"; do
    if [ -x "$real" ]; then
        XPCI=$real
        libs=$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        XPCI_ENV=(env "LD_LIBRARY_PATH=$libs")
        break
    fi
done

# ---------------------------------------------------------------- tree
cleanup=
if [ -n "${XPCI_BENCH_DIR:-}" ]; then
    tree=$XPCI_BENCH_DIR
else
    base=${TMPDIR:-/tmp}
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        base=/dev/shm
    fi
    tree=$(mktemp -d "$base/xpci-bench.XXXXXX") || die "mktemp failed"
    cleanup=$tree
fi
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT

if [ -d "$tree/sys/bus/pci/devices" ]; then
    gen="reused"
else
    mkdir -p "$tree" || die "cannot create $tree"
    t0=$EPOCHREALTIME
    "$MKTREE" bench "$tree" || die "mktree bench $tree failed"
    t1=$EPOCHREALTIME
    gen=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "built in %.2f s", b - a }')
fi
nfunc=$(find "$tree/sys/bus/pci/devices" -mindepth 1 -maxdepth 1 | wc -l)

# ---------------------------------------------------------------- runs
# Each command: a label, the exit codes that mean "it ran", and argv.
LABELS=(
    "lspci -D -k"
    "xpci list --json"
    "xpci check --all --json"
)
OKCODES=(
    "0"
    "0"
    "0 1"  # check exits 1 when some function fails its checks
)
# run_cmd INDEX [PREFIX...]: run command INDEX, under PREFIX if given.
run_cmd() {
    local i=$1
    shift
    case $i in
    0) "$@" lspci -D -k -A linux-sysfs -O "sysfs.path=$tree/sys/bus/pci" ;;
    1) "$@" "${XPCI_ENV[@]}" "$XPCI" --root "$tree" list --json ;;
    2) "$@" "${XPCI_ENV[@]}" "$XPCI" --root "$tree" check --all --json ;;
    esac
}

# ran_ok INDEX CODE
ran_ok() {
    local c
    for c in ${OKCODES[$1]}; do
        [ "$2" = "$c" ] && return 0
    done
    return 1
}

errfile=$(mktemp) || die "mktemp failed"
rssfile=$(mktemp) || die "mktemp failed"
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"; rm -f "$errfile" "$rssfile"' EXIT

declare -a MEDIAN RSS
failed=0
for i in "${!LABELS[@]}"; do
    # warm-up, which also shows whether the command works at all
    run_cmd "$i" >/dev/null 2>"$errfile"
    rc=$?
    if ! ran_ok "$i" "$rc"; then
        echo "bench: '${LABELS[$i]}' failed (exit $rc):" >&2
        sed 's/^/    /' "$errfile" | head -n 10 >&2
        MEDIAN[i]=
        RSS[i]=
        failed=1
        continue
    fi
    times=()
    for ((r = 0; r < RUNS; r++)); do
        t0=$EPOCHREALTIME
        run_cmd "$i" >/dev/null 2>&1
        t1=$EPOCHREALTIME
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
    done
    MEDIAN[i]=$(printf '%s\n' "${times[@]}" | sort -g |
        awk '{ v[NR] = $1 }
             END { m = int((NR + 1) / 2)
                   if (NR % 2) print v[m]
                   else printf "%.6f\n", (v[m] + v[m + 1]) / 2 }')
    # GNU time reports the peak RSS of the process it starts (env execs
    # the binary, so that is the command itself)
    run_cmd "$i" "$GNU_TIME" -f '%M' -o "$rssfile" >/dev/null 2>&1
    RSS[i]=$(tail -n 1 "$rssfile")
    case ${RSS[$i]} in
    '' | *[!0-9]*) RSS[i]= ;;
    esac
done

# ---------------------------------------------------------------- report
lspci_t=${MEDIAN[0]}
echo "xpci benchmark: $nfunc PCI functions, tree $tree ($gen)"
echo "median of $RUNS runs after one warm-up; output to /dev/null"
echo
printf '%-26s %10s %14s %10s\n' "command" "median s" "peak RSS KiB" "vs lspci"
for i in "${!LABELS[@]}"; do
    if [ -z "${MEDIAN[$i]}" ]; then
        printf '%-26s %10s %14s %10s\n' "${LABELS[$i]}" "failed" "-" "-"
        continue
    fi
    ratio=-
    if [ -n "$lspci_t" ]; then
        ratio=$(awk -v a="${MEDIAN[$i]}" -v b="$lspci_t" \
            'BEGIN { printf "%.2fx", a / b }')
    fi
    printf '%-26s %10.3f %14s %10s\n' "${LABELS[$i]}" "${MEDIAN[$i]}" \
        "${RSS[$i]:--}" "$ratio"
done

echo
echo "targets:"
if [ -n "${MEDIAN[2]}" ] && [ -n "$lspci_t" ]; then
    verdict=$(awk -v a="${MEDIAN[2]}" -v b="$lspci_t" \
        -v m="$CHECK_RATIO_MAX" 'BEGIN { r = a / b
            printf "%s (%.2fx)", r <= m ? "met" : "not met", r }')
else
    verdict="not measured"
fi
printf '  %-40s %s\n' "check --all time <= ${CHECK_RATIO_MAX}x lspci" "$verdict"
for i in 1 2; do
    if [ -n "${RSS[$i]}" ]; then
        if [ "${RSS[$i]}" -le "$RSS_MAX_KIB" ]; then
            verdict="met (${RSS[$i]} KiB)"
        else
            verdict="not met (${RSS[$i]} KiB)"
        fi
    else
        verdict="not measured"
    fi
    printf '  %-40s %s\n' "${LABELS[$i]#xpci } peak RSS <= 10 MiB" "$verdict"
done

exit "$failed"
