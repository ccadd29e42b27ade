#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# select.sh - command-line habits and selectors on generated host trees:
# options before or after operands ("--" ends them), --root after the
# command, --match/--expect on list, check and the mutating commands
# (a selector that picks nothing is refused, a wrong count is refused,
# a malformed one is a usage error), and the exit status of check --all,
# where the platform's bridges do not count.
. "$(dirname "$0")/lib.sh"

# same DESCRIPTION FILE FILE
same() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        not_ok "$1"
        diff -u "$2" "$3" | head -n 20 | sed 's/^/#   /'
    fi
}

for topo in host host_bridge; do
    mkdir "$work/$topo"
    "$MKTREE" "$topo" "$work/$topo" || not_ok "mktree $topo"
done
H=(--root "$work/host")

# ------------------------------------------------------------ options
"${XPCI[@]}" "${H[@]}" check --json 0000:01:00.0 >"$work/before" 2>&1
expect_exit 0 "check: --json after the device" \
    "${XPCI[@]}" "${H[@]}" check 0000:01:00.0 --json
same "check: options after operands give the same output" \
    "$work/before" "$work/out"
expect_exit 0 "check: --root after the command" \
    "${XPCI[@]}" check --json --root "$work/host" 0000:01:00.0
same "check: --root after the command reads the same tree" \
    "$work/before" "$work/out"
expect_exit 0 "check: --root=DIR after the device" \
    "${XPCI[@]}" check 0000:01:00.0 --root="$work/host" --json
expect_exit 2 "check: -- ends the options" \
    "${XPCI[@]}" "${H[@]}" check -- --json
has err "check: after --, --json is an operand" "'--json' is neither"
expect_exit 0 "list: --json after --root after the command" \
    "${XPCI[@]}" list --root "$work/host" --json
has out "list: JSON" '"schema": "xpci-list/1"'
expect_exit 2 "assignable-list takes no --match" \
    "${XPCI[@]}" "${H[@]}" assignable-list --match vendor=8086
expect_exit 2 "assignable-add: an unknown option after a device" \
    "${XPCI[@]}" "${H[@]}" assignable-add 0000:01:00.0 --bogus

# ------------------------------------------------------------ check --all
expect_exit 0 "check --all: a host bridge failing does not count" \
    "${XPCI[@]}" --root "$work/host_bridge" check --all
has out "check --all: the host bridge still shows its failure" \
    "host bridge: part of the platform"
expect_exit 1 "check of the host bridge by name still fails" \
    "${XPCI[@]}" --root "$work/host_bridge" check 0000:00:00.0
expect_exit 1 "check --all: an endpoint failing still counts" \
    "${XPCI[@]}" "${H[@]}" check --all

# ------------------------------------------------------------ list --match
expect_exit 0 "list --match pf=: the VFs of a PF" \
    "${XPCI[@]}" "${H[@]}" list --match pf=0000:07:00.0 --json
n=$(grep -c '"bdf"' "$work/out")
[ "$n" = 2 ] && ok "list --match pf= picks 2 functions" ||
    not_ok "list --match pf= picks $n functions"
has out "list --match pf= lists the VFs" '"0000:07:10.0"' '"0000:07:10.2"'
expect_exit 0 "list: two --match are a union" \
    "${XPCI[@]}" "${H[@]}" list --match class=0108 --match 'address=07:10.*'
has out "list: the union" 0000:03:00.0 0000:07:10.0 0000:07:10.2
expect_exit 0 "list --match that picks nothing is an answer" \
    "${XPCI[@]}" "${H[@]}" list --match vendor=1234 --json
tr -d ' \n' <"$work/out" >"$work/out.flat"
grep -qF '"devices":[]' "$work/out.flat" && ok "list: an empty device list" ||
    not_ok "list: not an empty device list"
expect_exit 0 "list --expect with the right count" \
    "${XPCI[@]}" "${H[@]}" list --match 'location=pci0000:00/03.0/*' \
    --expect 3
expect_exit 1 "list --expect with a wrong count" \
    "${XPCI[@]}" "${H[@]}" list --match 'location=pci0000:00/03.0/*' \
    --expect 2
has err "list --expect: names the count and the functions" \
    "picks 3 functions, --expect says 2" 0000:07:00.0
expect_exit 2 "list --expect without --match" \
    "${XPCI[@]}" "${H[@]}" list --expect 1
expect_exit 2 "list --expect not a count" \
    "${XPCI[@]}" "${H[@]}" list --match vendor=8086 --expect -1
expect_exit 2 "list: a malformed selector is a usage error" \
    "${XPCI[@]}" "${H[@]}" list --match 'vendor=8086,colour=blue'
has err "list: the message names the selector and the key" \
    "selector 'vendor=8086,colour=blue'" "unknown key 'colour'"

# ------------------------------------------------------------ check --match
expect_exit 0 "check --match on an endpoint that passes" \
    "${XPCI[@]}" "${H[@]}" check --match 'location=pci0000:00/1c.0/00.0'
has out "check --match reports the function" 0000:01:00.0
expect_exit 1 "check --match that picks nothing" \
    "${XPCI[@]}" "${H[@]}" check --match vendor=1234
has err "check: the empty selector is named" \
    "--match 'vendor=1234' picks no function"
expect_exit 2 "check: --all with --match" \
    "${XPCI[@]}" "${H[@]}" check --all --match vendor=8086

# ------------------------------------------------------------ mutating
for cmd in assignable-add assignable-remove; do
    expect_exit 1 "$cmd: a selector that picks nothing is refused" \
        "${XPCI[@]}" "${H[@]}" $cmd --dry-run --match vendor=1234
    has err "$cmd: names the selector" "--match 'vendor=1234' picks no"
    expect_exit 1 "$cmd: --expect with a wrong count is refused" \
        "${XPCI[@]}" "${H[@]}" $cmd --dry-run --match pf=07:00.0 --expect 1
    expect_exit 2 "$cmd: a malformed selector" \
        "${XPCI[@]}" "${H[@]}" $cmd --match 'address=07:1x.0'
done
# The selector's functions reach the library: without a hypervisor
# (--root) the IOMMU check refuses, naming the function picked.
expect_exit 1 "assignable-add --match reaches the checks" \
    "${XPCI[@]}" "${H[@]}" assignable-add --dry-run \
    --match 'pf=0000:07:00.0,driver=' --expect 1
has err "assignable-add --match: the function picked is named" \
    "0000:07:10.2"
expect_exit 1 "detach DOMAIN --match that picks nothing" \
    "${XPCI[@]}" "${H[@]}" detach --dry-run guest --match vendor=1234
expect_exit 1 "attach DOMAIN --match that picks nothing" \
    "${XPCI[@]}" "${H[@]}" attach --match class=ff guest
expect_exit 2 "attach without a domain" \
    "${XPCI[@]}" "${H[@]}" attach --match class=02

finish
