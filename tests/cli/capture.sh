#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# capture.sh - xpci capture and --root ARCHIVE: this machine's own sysfs
# captured and replayed (the report on the live host and on the replay
# agree, but for what only the live host can say: Xen's view), a fake-kernel
# tree captured and replayed exactly (same reports, and capturing the
# replay gives the same archive byte for byte), MAC addresses left out
# unless asked, and hostile archives refused without a write outside the
# extraction directory.
. "$(dirname "$0")/lib.sh"

# What only a live host can say differs on a replay: Xen's header and the
# reasons of the checks that ask the hypervisor.
normalize() {
    awk '
        /^  "xen": \{/ { skip = 1; next }
        skip && /^  \},/ { skip = 0; next }
        skip { next }
        /"id": "(xen\.iommu|group\.xen|rmrr)"/ { hv = 1 }
        hv && /"reason":/ { print "          \"reason\": (hypervisor)"; hv = 0; next }
        { print }' "$1"
}

# same DESCRIPTION A B: files equal after normalize
same() {
    if diff -u <(normalize "$2") <(normalize "$3") >"$work/diff"; then
        ok "$1"
    else
        not_ok "$1"
        head -n 30 "$work/diff" | sed 's/^/#   /'
    fi
}

# ------------------------------------------------------------ this host
if [ -d /sys/bus/pci/devices ] &&
    [ -n "$(ls -A /sys/bus/pci/devices 2>/dev/null)" ]; then
    if "${XPCI[@]}" capture -o "$work/live.tar" 2>"$work/err"; then
        ok "capture of this host"
    else
        not_ok "capture of this host"
        sed 's/^/#   /' "$work/err"
    fi
    "${XPCI[@]}" check --all --json >"$work/live-check.json" 2>/dev/null
    "${XPCI[@]}" --root "$work/live.tar" check --all --json \
        >"$work/replay-check.json" 2>"$work/err"
    same "check --all on this host and on its capture agree" \
        "$work/live-check.json" "$work/replay-check.json"
    "${XPCI[@]}" list --json >"$work/live-list.json" 2>/dev/null
    "${XPCI[@]}" --root "$work/live.tar" list --json \
        >"$work/replay-list.json" 2>/dev/null
    same "list on this host and on its capture agree" \
        "$work/live-list.json" "$work/replay-list.json"
    if tar tf "$work/live.tar" | grep -qE '/net/[^/]+/(address|perm_addr)$'
    then
        not_ok "no MAC address in a capture without --with-mac"
    else
        ok "no MAC address in a capture without --with-mac"
    fi
else
    echo "ok - # SKIP no PCI functions in this machine's /sys"
fi

# ------------------------------------------------------------ fake kernel
mkdir "$work/host"
"$MKTREE" host "$work/host" || not_ok "mktree host"
"${XPCI[@]}" --root "$work/host" capture -o "$work/c1.tar" ||
    not_ok "capture of a fake-kernel tree"
for what in "check --all --json" "list --json"; do
    # shellcheck disable=SC2086
    "${XPCI[@]}" --root "$work/host" $what >"$work/tree.json" 2>/dev/null
    # shellcheck disable=SC2086
    "${XPCI[@]}" --root "$work/c1.tar" $what >"$work/replay.json" 2>/dev/null
    if cmp -s "$work/tree.json" "$work/replay.json"; then
        ok "$what: the fake tree and its capture give the same report"
    else
        not_ok "$what: the fake tree and its capture differ"
        diff -u "$work/tree.json" "$work/replay.json" | head -n 30 |
            sed 's/^/#   /'
    fi
done
# pciback's states come from sysfs, the command line and modprobe.d
mkdir "$work/states"
"$MKTREE" pciback_states "$work/states" || not_ok "mktree pciback_states"
"${XPCI[@]}" --root "$work/states" capture -o "$work/states.tar" ||
    not_ok "capture of the pciback states tree"
"${XPCI[@]}" --root "$work/states" check --all --json >"$work/tree.json" \
    2>/dev/null
"${XPCI[@]}" --root "$work/states.tar" check --all --json \
    >"$work/replay.json" 2>/dev/null
if cmp -s "$work/tree.json" "$work/replay.json" &&
    tar tf "$work/states.tar" | grep -q '^etc/modprobe.d/.*\.conf$'; then
    ok "boot-time hiding (cmdline, modprobe.d) replays from the capture"
else
    not_ok "boot-time hiding (cmdline, modprobe.d) replays from the capture"
    diff -u "$work/tree.json" "$work/replay.json" | head -n 30 |
        sed 's/^/#   /'
fi
"${XPCI[@]}" --root "$work/c1.tar" capture -o "$work/c2.tar" ||
    not_ok "capture of a replayed capture"
if cmp -s "$work/c1.tar" "$work/c2.tar"; then
    ok "a capture of the replay is the same archive, byte for byte"
else
    not_ok "a capture of the replay differs from the capture"
fi
if tar tf "$work/c1.tar" >"$work/list" 2>"$work/err"; then
    ok "GNU tar reads the capture"
else
    not_ok "GNU tar reads the capture"
fi
if grep -q 'net/enp1s0/address$' "$work/list"; then
    not_ok "the fake interface's MAC is left out"
else
    ok "the fake interface's MAC is left out"
fi
grep -q 'net/enp1s0/flags$' "$work/list" && ok "its flags are kept" ||
    not_ok "its flags are kept"
"${XPCI[@]}" --root "$work/host" capture --with-mac >"$work/mac.tar"
tar tf "$work/mac.tar" | grep -q 'net/enp1s0/address$' &&
    ok "--with-mac keeps it" || not_ok "--with-mac keeps it"
tar tvf "$work/c1.tar" | grep -q 'config$' && ! tar tf "$work/c1.tar" |
    grep -qE '/resource[0-9]+$' && ok "config kept, BAR contents never read" ||
    not_ok "config kept, BAR contents never read"

# ------------------------------------------------------------ hostile
# refused ARCHIVE DESCRIPTION: --root ARCHIVE fails, writes nothing outside
refused() {
    if "${XPCI[@]}" --root "$1" list >/dev/null 2>"$work/err"; then
        not_ok "$2: accepted"
    elif ! grep -q "not a capture xpci reads" "$work/err"; then
        not_ok "$2: no reason given"
        sed 's/^/#   /' "$work/err"
    elif [ -e "$work/escaped" ]; then
        not_ok "$2: wrote outside the tree"
    else
        ok "$2"
    fi
}
mkdir -p "$work/e1/etc" && echo x >"$work/e1/etc/passwd"
tar cf "$work/outside.tar" -C "$work/e1" etc
refused "$work/outside.tar" "a member outside sys/ and proc/ is refused"
mkdir -p "$work/e2/sys"
ln -s ../../escaped "$work/e2/sys/up"
tar cf "$work/link.tar" -C "$work/e2" sys
refused "$work/link.tar" "a link leaving the tree is refused"
mkdir -p "$work/e3/a/sys" "$work/e3/b/sys/x"
ln -s ../proc "$work/e3/a/sys/x"
echo x >"$work/e3/b/sys/x/f"
tar cf "$work/through.tar" -C "$work/e3/a" sys
tar rf "$work/through.tar" -C "$work/e3/b" sys/x/f
refused "$work/through.tar" "a file written through a link is refused"
head -c 700 "$work/c1.tar" >"$work/short.tar"
refused "$work/short.tar" "a truncated archive is refused"

finish
