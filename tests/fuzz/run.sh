#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh BINDIR SEEDDIR WORKDIR SECONDS SUPPRESSIONS - run every libFuzzer
# target in BINDIR for SECONDS each, starting from SEEDDIR/<target> (read
# only) and WORKDIR/<target>/corpus (what it found, kept between runs).
# Prints per target the executions, the corpus and the coverage
# (-print_final_stats); exits 1 if any target crashed, leaked, hung or had
# a sanitizer report (its log and reproducer stay in WORKDIR/<target>).
set -u

bindir=$1 seeds=$2 work=$3 secs=$4 supp=$5
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The targets build fake kernel trees and state files for every input: in
# memory when the machine has a tmpfs, many times faster than a disk.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
export LSAN_OPTIONS=suppressions=$supp:print_suppressions=0

failed=0
total=0
printf '%-14s %12s %10s %8s %8s %s\n' target execs exec/s corpus cov result
for bin in "$bindir"/fuzz-*; do
    [ -x "$bin" ] || continue
    t=${bin##*/}
    d=$work/$t
    mkdir -p "$d/corpus"
    extra=()
    # prepare prints a report per input
    [ "$t" = fuzz-xlcfg ] && extra=(-close_fd_mask=3)
    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=20 \
        -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$d/" \
        "${extra[@]}" "$d/corpus" "$seeds/$t" >"$d/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log")
    last=$(grep -E '^#[0-9]+' "$d/log" | tail -n1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    result=ok
    if [ $rc -ne 0 ] || grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|==ERROR|deadly signal' "$d/log"; then
        result="FAILED (exit $rc, see $d/log)"
        failed=$((failed + 1))
    fi
    total=$((total + ${execs:-0}))
    printf '%-14s %12s %10s %8s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" \
        "${corp:-?}" "${cov:-?}" "$result"
    if [ "$result" != ok ]; then
        grep -E -A25 'ERROR|runtime error|deadly signal' "$d/log" | head -n 40 |
            sed 's/^/#   /'
    fi
done
echo "fuzz: $total executions in all, $failed target(s) failed"
[ $failed -eq 0 ]
