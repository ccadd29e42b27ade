# SPDX-License-Identifier: GPL-2.0-only
#
# lib.sh - what the CLI test scripts share, sourced by each: the programs
# under test, a private work directory, TAP-style "ok"/"not ok" lines with
# counters, and the checks most scripts make.  A script ends with
# `finish`, which prints "N passed, N failed" and sets its exit status.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
XPCI=("$top_builddir/tools/xpci/xpci")
XLPCI="$top_builddir/xl-plugin/xl-pci"
XLWRAP="$top_builddir/xl-plugin/xl"
MKTREE="$top_builddir/tests/unit/mktree"
export XPCI_PCI_IDS="$top_srcdir/tests/data/pci.ids"
unset XPCI_ROOT

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# expect_exit CODE DESCRIPTION CMD...: stdout in $work/out, stderr in
# $work/err
expect_exit() {
    local want=$1 what=$2 got
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" = "$want" ]; then
        ok "$what (exit $got)"
    else
        not_ok "$what: exit $got, expected $want"
        sed 's/^/#   /' "$work/err"
    fi
}

# has FILE DESCRIPTION FIXED-STRING...: every string is in std$FILE
# (out or err) of the last expect_exit
has() {
    local file=$1 what=$2 s
    shift 2
    for s in "$@"; do
        if ! grep -qF -- "$s" "$work/$file"; then
            not_ok "$what: no '$s' in std$file"
            sed 's/^/#   /' "$work/$file" | head -n 20
            return
        fi
    done
    ok "$what"
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
