#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# golden.sh - the xpci command on generated host trees: its JSON output is
# compared with tests/data/golden/*.json, and its exit codes with xl's
# conventions (0 ok, 1 failed, 2 usage).
#
# XPCI_UPDATE_GOLDEN=1 rewrites the golden files from the current output
# (review the diff before committing it).
. "$(dirname "$0")/lib.sh"
GOLDEN="$top_srcdir/tests/data/golden"

# golden NAME CMD...: stdout must equal tests/data/golden/NAME.json.  The
# Xen release xpci is built for (4.17, 4.20) reads as X.Y, so the same
# files serve every build.
golden() {
    local name=$1
    shift
    "$@" 2>"$work/err" |
        sed -e 's/"built_for": "[0-9]*\.[0-9]*"/"built_for": "X.Y"/' \
            -e 's/built for Xen [0-9]*\.[0-9]*/built for Xen X.Y/' \
            >"$work/$name.json"
    if [ "${XPCI_UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$work/$name.json" "$GOLDEN/$name.json"
        ok "$name rewritten"
    elif diff -u "$GOLDEN/$name.json" "$work/$name.json" >"$work/diff"; then
        ok "$name matches its golden file"
    else
        not_ok "$name differs from its golden file"
        head -n 40 "$work/diff" | sed 's/^/#   /'
    fi
}

for topo in host_bridge nic nic_default_route nvme_root gpu_audio \
    pcie_to_pci sriov no_reset pciback malformed nvme_multipath btrfs_root \
    stacked bridge bond_vlan nfs_root lpc reset_disabled pciback_states \
    gpu_large_bar; do
    mkdir "$work/$topo"
    "$MKTREE" "$topo" "$work/$topo" || { not_ok "mktree $topo"; continue; }
    golden "check-$topo" "${XPCI[@]}" --root "$work/$topo" check --all --json
done

golden "list-pciback_states" "${XPCI[@]}" --root "$work/pciback_states" \
    list --json

mkdir "$work/host"
"$MKTREE" host "$work/host" || not_ok "mktree host"
golden "list-host" "${XPCI[@]}" --root "$work/host" list --json
golden "check-host-text" env NO_COLOR=1 "${XPCI[@]}" --root "$work/host" \
    check 0000:04:00.0 0000:07:00.0

# Exit codes
H=(--root "$work/host")
expect_exit 0 "check of an assignable-looking function" \
    "${XPCI[@]}" "${H[@]}" check 0000:01:00.0
expect_exit 0 "check by location path" \
    "${XPCI[@]}" "${H[@]}" check pci0000:00/1c.0/00.0
expect_exit 1 "check of a function holding the root filesystem" \
    "${XPCI[@]}" "${H[@]}" check 0000:03:00.0
expect_exit 1 "check --all when some function fails" \
    "${XPCI[@]}" "${H[@]}" check --all
expect_exit 0 "check --all: an LPC bridge is the platform, not a failure" \
    "${XPCI[@]}" --root "$work/lpc" check --all
expect_exit 1 "check of the LPC bridge itself" \
    "${XPCI[@]}" --root "$work/lpc" check 0000:00:1f.0
expect_exit 1 "check of a port of the default route's bridge" \
    "${XPCI[@]}" --root "$work/bridge" check 0000:0f:00.0
expect_exit 1 "check of a missing function" \
    "${XPCI[@]}" "${H[@]}" check 0000:55:00.0
expect_exit 2 "check of a malformed BDF" \
    "${XPCI[@]}" "${H[@]}" check 0000:01:00.8
expect_exit 2 "check with neither --all nor devices" \
    "${XPCI[@]}" "${H[@]}" check
expect_exit 2 "check with both --all and devices" \
    "${XPCI[@]}" "${H[@]}" check --all 0000:01:00.0
expect_exit 2 "unknown command" "${XPCI[@]}" frobnicate
expect_exit 2 "unknown option" "${XPCI[@]}" list --frob
expect_exit 2 "no command" "${XPCI[@]}"
expect_exit 0 "help" "${XPCI[@]}" help check
expect_exit 1 "a root without sys" "${XPCI[@]}" --root "$work/none" list
expect_exit 0 "XPCI_ROOT selects the tree" \
    env XPCI_ROOT="$work/host" "${XPCI[@]}" check 0000:01:00.0

# The malformed BDF's message names the argument.
"${XPCI[@]}" "${H[@]}" check 0000:01:00.8 2>"$work/err" >/dev/null
if grep -q "'0000:01:00.8' is neither a BDF" "$work/err"; then
    ok "malformed BDF error names the argument"
else
    not_ok "malformed BDF error: $(cat "$work/err")"
fi

finish
