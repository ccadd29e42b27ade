#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# state.sh - what the commands refuse to read or remember: names outside
# the strict set (xpci and xl-pci, before anything is opened), and a
# journal in a host tree whose paths lead out of the tree (xpci --root
# TREE recover).  Commands that change a tree say so on stderr.
. "$(dirname "$0")/lib.sh"

# stderr_has TEXT DESCRIPTION
stderr_has() {
    if grep -qF -- "$1" "$work/err"; then
        ok "$2"
    else
        not_ok "$2: stderr lacks '$1'"
        sed 's/^/#   /' "$work/err"
    fi
}

mkdir "$work/host"
"$MKTREE" host "$work/host" || not_ok "mktree host"
H=(--root "$work/host")
state="$work/host/var/lib/xpci"

# ------------------------------------------------------------ names
nl=$'uplink\n0000:03:00.0 pci0000:00/1e.0/00.0 nvme -'
for name in "$nl" "two words" "" "tab$(printf '\t')here" \
    "$(printf 'a%.0s' {1..65})"; do
    expect_exit 2 "xpci assignable-add -n refuses $(printf %q "$name")" \
        "${XPCI[@]}" "${H[@]}" assignable-add -n "$name" 0000:01:00.0
    stderr_has "invalid name" "its message says why"
    expect_exit 2 "xl-pci pci-assignable-add -n refuses $(printf %q "$name")" \
        env XPCI_ROOT="$work/host" "$XLPCI" pci-assignable-add -n "$name" \
        0000:01:00.0
done
if [ -e "$state/assignable" ]; then
    not_ok "a refused name left a persistent set"
else
    ok "a refused name changed nothing"
fi

# ------------------------------------------------------------ --root
echo precious >"$work/precious"
mkdir -p -m 0700 "$state"
printf 'xpci-journal 1\tassignable-add\t1\nintent\t0\t0000:01:00.0\twrite\tbus/pci/../../../../precious\tx\twrite\tbus/pci/../../../../precious\tgotcha\n' \
    >"$state/journal"
expect_exit 1 "recover refuses a journal leading out of the tree" \
    "${XPCI[@]}" "${H[@]}" recover
stderr_has "WARNING: acting on the tree" "recover under --root says so"
stderr_has "malformed" "the journal error names the problem"
if [ "$(cat "$work/precious")" = precious ]; then
    ok "the file outside the tree is untouched"
else
    not_ok "the file outside the tree was written"
fi
printf 'xpci-journal 1\tassignable-add\t1\nintent\t0\t0000:01:00.0\twrite\t%s\tx\twrite\t%s\tgotcha\n' \
    "$work/precious" "$work/precious" >"$state/journal"
expect_exit 1 "recover refuses an absolute journal path" \
    "${XPCI[@]}" "${H[@]}" recover
[ "$(cat "$work/precious")" = precious ] &&
    ok "absolute path: untouched" || not_ok "absolute path: written"
rm -f "$state/journal"
expect_exit 0 "recover with nothing pending" "${XPCI[@]}" "${H[@]}" recover
stderr_has "WARNING: acting on the tree" "even then it says so"
expect_exit 0 "a read-only command under --root" \
    "${XPCI[@]}" "${H[@]}" assignable-list
if grep -q WARNING "$work/err"; then
    not_ok "assignable-list warned about changing the tree"
else
    ok "a read-only command does not warn"
fi

finish
