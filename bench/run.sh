#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh - how long xpci takes to scan and judge a large host, next to
# lspci reading the same tree.  `make bench` runs it with top_builddir set.
#
# The tree is the "bench" topology of tests/unit/mktree (16 SR-IOV PFs with
# 255 VFs each, 4,113 functions, every attribute the kernel shows, the
# bound VFs with their network interfaces), built in a temporary directory
# on tmpfs when there is one (sysfs lives in memory too), or in
# $XPCI_BENCH_DIR, which is kept and reused on the next run.
#
# Each command runs once to warm the caches, then XPCI_BENCH_RUNS times
# (default 5), the commands taking turns; the median wall-clock and CPU
# times and the peak RSS come from GNU time, system calls per function
# from strace -c.  This is a benchmark, not a test: it exits 0 whatever
# the figures, and 1 only when something could not be run.
set -u
export LC_ALL=C # EPOCHREALTIME and awk agree on the decimal point

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
RUNS=${XPCI_BENCH_RUNS:-5}
MKTREE=$top_builddir/tests/unit/mktree
XPCI_WRAPPER=$top_builddir/tools/xpci/xpci
GNU_TIME=/usr/bin/time

# Targets
CHECK_RATIO_MAX=0.7      # xpci check --all vs lspci, wall clock and CPU
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

# Descriptors inherited from the caller (a job server's pipe, a harness's
# stray fd) would sit among the ones the scan opens and split its
# close_range(2) runs: the commands start with 0, 1 and 2 only, as from a
# login shell.
for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    case $fd in
    '' | *[!0-9]*) continue ;;
    esac
    # 255 and up: where bash keeps this script open
    [ "$fd" -gt 2 ] && [ "$fd" -lt 255 ] && eval "exec $fd>&-" 2>/dev/null
done

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
timefile=$(mktemp) || die "mktemp failed"
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"; rm -f "$errfile" "$timefile"' EXIT

# median of the numbers on stdin
median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (!NR) exit
              m = int((NR + 1) / 2)
              if (NR % 2) printf "%.6f\n", v[m]
              else printf "%.6f\n", (v[m] + v[m + 1]) / 2 }'
}

declare -a OK WALLS CPUS RSS
failed=0
for i in "${!LABELS[@]}"; do
    # warm-up, which also shows whether the command works at all
    run_cmd "$i" >/dev/null 2>"$errfile"
    rc=$?
    OK[i]=1
    if ! ran_ok "$i" "$rc"; then
        echo "bench: '${LABELS[$i]}' failed (exit $rc):" >&2
        sed 's/^/    /' "$errfile" | head -n 10 >&2
        OK[i]=
        failed=1
    fi
    WALLS[i]=
    CPUS[i]=
    RSS[i]=0
done

# The commands take turns, run after run, so a machine that gets busier
# or quieter during the benchmark weighs on all of them alike.  Each run
# gives its wall clock, its CPU time (user + system: what the command
# itself cost, whatever else runs on the machine) and, from GNU time, its
# peak RSS (env execs the binary, so that is the command itself).
# bash's `times` gives the CPU time of a subshell's children in
# milliseconds (GNU time's %U and %S stop at hundredths).
cpu_of() { # the output of `times`: its second line, user and system
    awk 'NR == 2 { n = split($0, f, /[ms]+/); u = f[1] * 60 + f[2]
                   s = f[3] * 60 + f[4]; printf "%.3f", u + s }'
}
for ((r = 0; r < RUNS; r++)); do
    for i in "${!LABELS[@]}"; do
        [ -n "${OK[$i]}" ] || continue
        t0=$EPOCHREALTIME
        cpu=$( (run_cmd "$i" "$GNU_TIME" -f '%M' -o "$timefile" \
            >/dev/null 2>&1; times) | cpu_of)
        t1=$EPOCHREALTIME
        m=$(tail -n 1 "$timefile")
        case "$cpu$m" in
        '' | *[!0-9.]*) continue ;;
        esac
        WALLS[i]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }') "
        CPUS[i]+="$cpu "
        [ "$m" -gt "${RSS[$i]}" ] && RSS[i]=$m
    done
done

declare -a WALL CPU
for i in "${!LABELS[@]}"; do
    WALL[i]=$(printf '%s\n' ${WALLS[$i]} | median)
    CPU[i]=$(printf '%s\n' ${CPUS[$i]} | median)
    [ "${RSS[$i]}" = 0 ] && RSS[i]=
done

# System calls per function, one run each under strace -c when strace is
# there (XPCI_BENCH_STRACE=0 skips it): the floor the scan is built for.
declare -a SYSC
if [ "${XPCI_BENCH_STRACE:-1}" != 0 ] && command -v strace >/dev/null; then
    for i in "${!LABELS[@]}"; do
        [ -n "${OK[$i]}" ] || continue
        run_cmd "$i" strace -f -c -o "$timefile" >/dev/null 2>&1
        SYSC[i]=$(awk -v n="$nfunc" '$NF == "total" { printf "%.1f", $(NF-2) / n }' \
            "$timefile")
    done
fi

# ---------------------------------------------------------------- report
ratio() {
    [ -n "$1" ] && [ -n "$2" ] || { echo -; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b
                                     else print "-" }'
}

echo "xpci benchmark: $nfunc PCI functions, tree $tree ($gen)"
echo "median of $RUNS runs after one warm-up, commands in turn; output to /dev/null"
echo "wall: elapsed time; cpu: user + system time of the command"
echo
printf '%-26s %8s %8s %9s %9s %10s %9s\n' "command" "wall s" "cpu s" \
    "wall/lspci" "cpu/lspci" "peak KiB" "syscalls"
for i in "${!LABELS[@]}"; do
    if [ -z "${OK[$i]}" ] || [ -z "${WALL[$i]}" ]; then
        printf '%-26s %8s\n' "${LABELS[$i]}" "failed"
        continue
    fi
    printf '%-26s %8.3f %8.3f %9s %9s %10s %9s\n' "${LABELS[$i]}" \
        "${WALL[$i]}" "${CPU[$i]}" "$(ratio "${WALL[$i]}" "${WALL[0]}")" \
        "$(ratio "${CPU[$i]}" "${CPU[0]}")" "${RSS[$i]:--}" \
        "${SYSC[$i]:+${SYSC[$i]}/fn}"
done

echo
echo "targets:"
target() { # LABEL VALUE LIMIT
    if [ -z "$2" ] || [ "$2" = - ]; then
        printf '  %-44s %s\n' "$1" "not measured"
        return
    fi
    awk -v l="$1" -v v="${2%x}" -v m="$3" 'BEGIN {
        printf "  %-44s %s (%.2fx)\n", l, v <= m ? "met" : "not met", v }'
}
target "check --all wall time <= ${CHECK_RATIO_MAX}x lspci" \
    "$(ratio "${WALL[2]}" "${WALL[0]}")" "$CHECK_RATIO_MAX"
target "check --all cpu time <= ${CHECK_RATIO_MAX}x lspci" \
    "$(ratio "${CPU[2]}" "${CPU[0]}")" "$CHECK_RATIO_MAX"
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
    printf '  %-44s %s\n' "${LABELS[$i]#xpci } peak RSS <= 10 MiB" "$verdict"
done

exit "$failed"
