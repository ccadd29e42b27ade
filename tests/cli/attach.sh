#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# attach.sh - the commands that give functions to guests: xpci attach,
# detach, attached and prepare, and xl-pci (with its xl wrapper), on a
# generated host tree without Xen.  What needs a running Xen (the attach
# itself) is the VM suite's; here: argument handling and exit codes (0 ok,
# 1 failed, 2 usage, as xl), malformed specs named in the message, xl
# domain configs read and every pci entry resolved, and dry runs that
# change nothing.
. "$(dirname "$0")/lib.sh"
CFG="$top_srcdir/tests/data/prepare"

# lacks FILE DESCRIPTION FIXED-STRING
lacks() {
    if grep -qF -- "$3" "$work/$1"; then
        not_ok "$2: '$3' in std$1"
    else
        ok "$2"
    fi
}

# What a change would touch: the functions' drivers, pciback's slots, the
# state directory.
tree_state() {
    local d
    for d in "$work/host/sys/bus/pci/devices"/*; do
        printf '%s %s %s\n' "${d##*/}" \
            "$(readlink "$d/driver" 2>/dev/null)" \
            "$(cat "$d/driver_override" 2>/dev/null)"
    done
    cat "$work/host/sys/bus/pci/drivers/pciback/slots" 2>/dev/null
    find "$work/host/var" 2>/dev/null | sort
}

mkdir "$work/host"
"$MKTREE" host "$work/host" || not_ok "mktree host"
H=(--root "$work/host")
tree_state >"$work/before"

unchanged() {
    tree_state >"$work/after"
    if diff -u "$work/before" "$work/after" >"$work/diff"; then
        ok "$1: the host tree is unchanged"
    else
        not_ok "$1 changed the host tree"
        head -n 20 "$work/diff" | sed 's/^/#   /'
    fi
}

# ------------------------------------------------------------ xpci help
expect_exit 0 "help lists the new commands" "${XPCI[@]}" help
has out "help names attach, detach, attached, prepare" \
    " attach " " detach " " attached " " prepare "
expect_exit 0 "help attach" "${XPCI[@]}" help attach
has out "attach's usage" "DOMAIN SPEC..." "--timeout SEC" "--seize"

# ------------------------------------------------------------ attach
expect_exit 2 "attach without arguments" "${XPCI[@]}" attach
has err "attach without arguments says what is missing" "give a domain"
expect_exit 2 "attach with a domain and no spec" "${XPCI[@]}" attach dom1
expect_exit 2 "attach with an unknown option" \
    "${XPCI[@]}" attach --frob dom1 01:00.0
expect_exit 2 "attach -f (a detach option)" "${XPCI[@]}" attach -f dom1 01:00.0
for t in 0 -1 abc 1x 90000; do
    expect_exit 2 "attach --timeout $t" \
        "${XPCI[@]}" attach --timeout "$t" dom1 01:00.0
done
has err "a bad timeout is named" "--timeout '90000'"
expect_exit 2 "attach of a slot beyond 1f" "${XPCI[@]}" attach dom1 01:00.0@40
has err "the malformed spec is named" '"01:00.0@40"' "virtual slot"
expect_exit 2 "attach of a word that is no spec" "${XPCI[@]}" attach dom1 bogus
has err "the word is named" '"bogus"'
expect_exit 2 "attach of a spec with an unknown key" \
    "${XPCI[@]}" attach dom1 01:00.0,frob=1
has err "the unknown key is named" "frob"
expect_exit 2 "attach of a spec with both a BDF and a name" \
    "${XPCI[@]}" attach dom1 01:00.0,name=nic0
expect_exit 2 "attach: one bad spec among good ones refuses them all" \
    "${XPCI[@]}" attach dom1 01:00.0 02:00.0@zz 09:00.0
has err "the bad one of several specs is named" '"02:00.0@zz"'
lacks err "the good specs are not blamed" '"01:00.0"'

# Without Xen (a host tree) there is no domain to give anything to; a dry
# run must fail without touching the host.
expect_exit 1 "attach --dry-run without Xen" \
    "${XPCI[@]}" "${H[@]}" attach --dry-run dom1 09:00.0
unchanged "attach --dry-run"
expect_exit 1 "attach --dry-run --json without Xen" \
    "${XPCI[@]}" "${H[@]}" attach --dry-run --json --timeout 1.5 dom1 \
    09:00.0 name=nic0
has out "attach --json is an xpci-result/1 for op attach, dry run, failed" \
    '"schema": "xpci-result/1"' '"op": "attach"' '"dry_run": true' \
    '"ok": false'
lacks out "a failed attach has an error" '"error": null'
expect_exit 1 "attach --seize without Xen" \
    "${XPCI[@]}" "${H[@]}" attach --seize dom1 09:00.0
unchanged "attach --seize without Xen"
expect_exit 1 "options after the operands are options" \
    "${XPCI[@]}" "${H[@]}" attach dom1 09:00.0 --dry-run --json
has out "--json after the operands gives JSON" '"op": "attach"'

# ------------------------------------------------------------ detach
expect_exit 2 "detach without devices" "${XPCI[@]}" detach dom1
expect_exit 2 "detach --seize (an attach option)" \
    "${XPCI[@]}" detach --seize dom1 01:00.0
expect_exit 2 "detach of a malformed BDF" "${XPCI[@]}" detach dom1 01:00.8
has err "the malformed device is named" "'01:00.8'"
expect_exit 2 "detach of a malformed spec" \
    "${XPCI[@]}" detach dom1 01:00.0,frob=1
expect_exit 2 "detach --timeout with no value" \
    "${XPCI[@]}" detach dom1 01:00.0 --timeout
expect_exit 1 "detach -f --dry-run of a name, a slot and a BDF without Xen" \
    "${XPCI[@]}" "${H[@]}" detach -f --dry-run dom1 nic0 02:00.* 0000:09:00.0
unchanged "detach --dry-run"
expect_exit 1 "detach --force --json without Xen" \
    "${XPCI[@]}" "${H[@]}" detach --force --json dom1 09:00.0
has out "detach --json is an xpci-result/1 for op detach" '"op": "detach"' \
    '"ok": false'

# ------------------------------------------------------------ attached
expect_exit 2 "attached with two domains" "${XPCI[@]}" attached dom1 dom2
expect_exit 2 "attached with an unknown option" "${XPCI[@]}" attached --frob
expect_exit 0 "attached --help" "${XPCI[@]}" attached --help
has out "attached's usage names its schema" "xpci-attached/1"
# Without xenstore there is nothing to read: a failure (1) that names the
# domain asked about, or an empty list; never a usage error.
"${XPCI[@]}" "${H[@]}" attached dom1 --json >"$work/out" 2>"$work/err"
rc=$?
case $rc in
0) has out "attached DOMAIN --json (empty) is xpci-attached/1" \
       '"schema": "xpci-attached/1"' '"domain": "dom1"' ;;
1) has err "attached DOMAIN without xenstore names the domain" "dom1" ;;
*) not_ok "attached DOMAIN --json without xenstore: exit $rc" ;;
esac

# ------------------------------------------------------------ prepare
expect_exit 2 "prepare without a config" "${XPCI[@]}" prepare
expect_exit 2 "prepare with two configs" \
    "${XPCI[@]}" prepare "$CFG/pciback.cfg" "$CFG/pciback.cfg"
expect_exit 2 "prepare with an unknown option" \
    "${XPCI[@]}" prepare --frob "$CFG/pciback.cfg"
expect_exit 1 "prepare of a missing config" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$work/none.cfg"
has err "the missing config is named" "$work/none.cfg"
expect_exit 1 "prepare of a config with a syntax error" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/syntax-error.cfg"
has err "the broken config is named" "syntax-error.cfg"
# libxlutil's lexer aborts on a NUL inside a string (found by fuzz-xlcfg)
printf 'name = "guest"\npci = [ \x2709:00.0\x00x\x27 ]\n' >"$work/nul.cfg"
expect_exit 1 "prepare of a config holding a NUL byte" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$work/nul.cfg"
has err "says it is not text" "not a text file (a NUL byte at offset 31)"
expect_exit 1 "prepare of a config whose pci is not a list" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/pci-not-list.cfg"
has err "says pci is not a list" "pci is not a list"
expect_exit 0 "prepare of a config without pci" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/no-pci.cfg"
has out "nothing to do" "no pci entries"

# A function pciback already holds passes the checks without Xen.
expect_exit 0 "prepare --dry-run of a config listing a pciback function" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/pciback.cfg"
has out "the dry run lists the function, its entry, the plan" \
    "0000:09:00.0  pci[0] 09:00.0" "prepare would run" \
    "0000:09:00.0: xc_assign_device(DOMID_IO)" "would hide: 0000:09:00.0"
lacks out "no seize without seize=1" "(seize)"
unchanged "prepare --dry-run"
expect_exit 0 "prepare --dry-run --json" \
    "${XPCI[@]}" "${H[@]}" prepare "$CFG/pciback.cfg" --json --dry-run
has out "prepare --json: result, config, defaults, functions" \
    '"schema": "xpci-result/1"' '"op": "prepare"' '"ok": true' \
    '"dry_run": true' "\"config\": \"$CFG/pciback.cfg\"" \
    '"bdf": "0000:09:00.0"' '"entry": 0' '"seize": false' \
    '"already_assignable": false' '"rdm": "strategy=host,policy=relaxed"' \
    '"pci_permissive": true' '"permissive": true' '"power_mgmt": false'
unchanged "prepare --dry-run --json"

# A PV guest given a VF needs the host's memory map (e820_host=1).
expect_exit 1 "prepare of a PV config with a VF (refused without Xen)" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/vf-pv.cfg"
has err "a PV config with a VF and no e820_host is warned about" \
    "warning: $CFG/vf-pv.cfg" "0000:07:10.2" "e820_host=1"
"${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/vf-pv-e820.cfg" \
    >"$work/out" 2>"$work/err"
lacks err "no e820_host warning when the config sets it" "e820_host"
"${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/vf-hvm.cfg" \
    >"$work/out" 2>"$work/err"
lacks err "no e820_host warning for an HVM guest" "e820_host"
"${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/pciback.cfg" \
    >"$work/out" 2>"$work/err"
lacks err "no e820_host warning without a VF" "e820_host"

# msitranslate/power_mgmt: qemu-xen (HVM) ignores them, and prepare says
# so; qemu-xen-traditional and PV configs get no such note.
expect_exit 0 "prepare --dry-run of an HVM config with msitranslate=1" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/hvm-msi.cfg"
has out "prepare notes that qemu-xen ignores msitranslate and power_mgmt" \
    "note: 0000:09:00.0: msitranslate=1 (pci[0]) has no effect: qemu-xen" \
    "note: 0000:09:00.0: power_mgmt=1 (pci[0]) has no effect: qemu-xen"
expect_exit 0 "prepare --dry-run --json of that config" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run --json "$CFG/hvm-msi.cfg"
has out "prepare --json lists them as no_effect" \
    '"no_effect": [' '"msitranslate"' '"power_mgmt"'
expect_exit 0 "prepare --dry-run of a qemu-xen-traditional config" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/hvm-trad.cfg"
lacks out "no note for qemu-xen-traditional, which reads them" "no effect"
expect_exit 0 "prepare --dry-run of a PV config" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/pciback.cfg"
lacks out "no note for a PV guest" "no effect"

# All or nothing: one function the checks refuse (without Xen: every
# function not in pciback yet) and nothing is planned for the others.
expect_exit 1 "prepare of a config with a function the checks refuse" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/two.cfg"
has err "the refused function and the check are named" \
    "0000:01:00.0" "xen.iommu"
lacks out "nothing is planned when one function is refused" "would run"
lacks out "nothing is hidden when one function is refused" "would hide"
unchanged "a refused prepare"

# seize: per entry, or pci_seize=1 for all entries that don't say seize=0
"${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/seize.cfg" >"$work/out" \
    2>"$work/err"
has out "pci_seize=1 seizes entries that don't say otherwise" \
    "0000:09:00.0  pci[0] 09:00.0  (seize)" \
    "0000:02:00.0  pci[2] 02:00.0  (seize)"
if grep -F "0000:01:00.0  pci[1]" "$work/out" | grep -qF "(seize)"; then
    not_ok "seize=0 in an entry overrides pci_seize=1"
else
    ok "seize=0 in an entry overrides pci_seize=1"
fi
"${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/two.cfg" --force \
    >"$work/out" 2>"$work/err"
has out "--force seizes every function" \
    "0000:09:00.0  pci[0] 09:00.0  (seize)" \
    "0000:01:00.0  pci[1] 01:00.0,seize=1  (seize)"
"${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/two.cfg" >"$work/out" \
    2>"$work/err"
has out "seize=1 in an entry seizes that function" \
    "0000:01:00.0  pci[1] 01:00.0,seize=1  (seize)"
lacks out "seize=1 in one entry leaves the others" "09:00.0  (seize)"

# BB:DD.* is every function of the slot, once each
"${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/slot.cfg" >"$work/out" \
    2>"$work/err"
has out "a slot entry lists each function of the slot" \
    "0000:04:00.0  pci[0] 04:00.*@5" "0000:04:00.1  pci[0] 04:00.*@5" \
    ": 2 function(s) for pci passthrough"
has err "a slot entry is warned about: libxl adds only its last function" \
    "pci entry 0 '04:00.*@5': xl gives the guest only 0000:04:00.1" \
    "an entry of its own"
expect_exit 1 "prepare of a slot entry without a guest slot" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/slot-no-vslot.cfg"
has err "the entry and libxl's refusal are named" \
    "pci entry 0 '04:00.*'" "'04:00.*@5'" "Must specify a v-slot"

# Malformed entries are named with their index
expect_exit 1 "prepare of a config with a malformed pci entry" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/bad-entry.cfg"
has err "the bad entry is named with its index" "pci entry 1" '"01:00.0@40"'
lacks out "a bad entry stops everything" "would run"
expect_exit 1 "prepare of a config with an unknown key" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/bad-key.cfg"
has err "the unknown key's entry is named" "pci entry 0" "frob"
expect_exit 1 "prepare --json of a config with a malformed entry" \
    "${XPCI[@]}" "${H[@]}" prepare --json --dry-run "$CFG/bad-entry.cfg"
has out "the JSON result carries the entry's error" '"ok": false' \
    'pci entry 1'

# Named entries resolve through the assignable list
expect_exit 1 "prepare of a name nothing has" \
    "${XPCI[@]}" "${H[@]}" prepare --dry-run "$CFG/name.cfg"
has err "the unknown name and its entry are named" "pci entry 0" "'nic0'"
mkdir -p "$work/named/var/lib/xpci"
"$MKTREE" host "$work/named" || not_ok "mktree host (named)"
echo "0000:09:00.0 pci0000:00/05.0/00.0 - nic0" \
    >"$work/named/var/lib/xpci/assignable"
expect_exit 0 "prepare of a name the persistent set gives" \
    "${XPCI[@]}" --root "$work/named" prepare --dry-run "$CFG/name.cfg"
has out "the named function resolves and was assignable already" \
    "0000:09:00.0  pci[0] name=nic0  (already assignable)" \
    "already assignable: 0000:09:00.0"
lacks out "nothing to hide when all are assignable" "would hide"

# ------------------------------------------------------------ xl-pci
export XPCI_ROOT="$work/host"
expect_exit 1 "xl-pci without a command" "$XLPCI"
expect_exit 1 "xl-pci with an unknown command" "$XLPCI" create x.cfg
expect_exit 1 "xl-pci with an unknown global option" "$XLPCI" -z pci-list 1
expect_exit 1 "xl-pci -N (no pci command has a dry run)" \
    "$XLPCI" -N pci-list 1
expect_exit 0 "xl-pci help" "$XLPCI" help
expect_exit 0 "xl-pci pci-attach -h" "$XLPCI" pci-attach -h
has out "pci-attach's help is xl's synopsis" \
    "pci-attach <Domain> <PCI_SPEC_STRING>"
expect_exit 2 "xl-pci pci-attach with one operand" "$XLPCI" pci-attach 1
expect_exit 2 "xl-pci pci-attach with an unknown option" \
    "$XLPCI" pci-attach -f 1 01:00.0
expect_exit 2 "xl-pci pci-attach of a malformed spec" \
    "$XLPCI" pci-attach 1 01:00.0@40
has err "the malformed spec is named" '"01:00.0@40"'
expect_exit 2 "xl-pci pci-attach ignores operands beyond two" \
    "$XLPCI" pci-attach 1 bogus 01:00.0
expect_exit 1 "xl-pci pci-attach without Xen" "$XLPCI" pci-attach 1 09:00.0
expect_exit 2 "xl-pci pci-detach -f of a malformed spec" \
    "$XLPCI" pci-detach -f 1 01:00.0,frob=1
expect_exit 1 "xl-pci pci-detach by name without Xen" \
    "$XLPCI" pci-detach 0 name=nic0
expect_exit 1 "xl-pci: a domain name that can't be resolved" \
    "$XLPCI" pci-attach nosuchdomain 01:00.0@40
has err "the domain is named" "nosuchdomain"
expect_exit 0 "xl-pci pci-list of a domain id (not looked up, as xl)" \
    "$XLPCI" pci-list 7 extra
if [ -s "$work/out" ]; then
    not_ok "pci-list prints nothing when it lists nothing"
else
    ok "pci-list prints nothing when it lists nothing"
fi
expect_exit 2 "xl-pci pci-list without a domain" "$XLPCI" pci-list
expect_exit 2 "xl-pci pci-assignable-add without a BDF" \
    "$XLPCI" pci-assignable-add
expect_exit 2 "xl-pci pci-assignable-add -n without a name" \
    "$XLPCI" pci-assignable-add -n
for bdf in 01:00.8 01:20.0 01:00 01:00.0x 01:00.0@2 zz; do
    expect_exit 2 "xl-pci pci-assignable-add of malformed BDF $bdf" \
        "$XLPCI" pci-assignable-add "$bdf"
done
has err "the malformed BDF is named" '"zz"'
expect_exit 2 "xl-pci pci-assignable-remove of a malformed BDF" \
    "$XLPCI" pci-assignable-remove -r zz:zz
expect_exit 0 "xl-pci pci-assignable-list" "$XLPCI" pci-assignable-list
printf '0000:09:00.0 \n' >"$work/want"
if cmp -s "$work/want" "$work/out"; then
    ok "pci-assignable-list prints xl's line, trailing space included"
else
    not_ok "pci-assignable-list printed: $(cat -A "$work/out")"
fi
export XPCI_ROOT="$work/named"
expect_exit 0 "xl-pci pci-assignable-list --show-names" \
    "$XLPCI" pci-assignable-list --show-names
printf '0000:09:00.0 nic0\n' >"$work/want"
if cmp -s "$work/want" "$work/out"; then
    ok "pci-assignable-list -n shows the name"
else
    not_ok "pci-assignable-list -n printed: $(cat -A "$work/out")"
fi
expect_exit 0 "xl-pci pci-assignable-list without -n" \
    "$XLPCI" pci-assignable-list
printf '0000:09:00.0 \n' >"$work/want"
if cmp -s "$work/want" "$work/out"; then
    ok "pci-assignable-list without -n hides the name"
else
    not_ok "pci-assignable-list without -n printed: $(cat -A "$work/out")"
fi
unset XPCI_ROOT

# The wrapper: pci-* to xl-pci, the rest to the real xl, arguments intact.
cat >"$work/real-xl" <<'EOF'
#!/bin/sh
echo "real xl: $*"
EOF
cat >"$work/fake-xl-pci" <<'EOF'
#!/bin/sh
echo "xl-pci: $*"
EOF
chmod +x "$work/real-xl" "$work/fake-xl-pci"
wrap() {
    XPCI_REAL_XL="$work/real-xl" XPCI_XL_PCI="$work/fake-xl-pci" \
        "$XLWRAP" "$@" >"$work/out" 2>"$work/err"
}
wrap -vf pci-attach guest 01:00.0,seize=1
has out "the wrapper runs xl-pci for pci-attach, global options kept" \
    "xl-pci: -vf pci-attach guest 01:00.0,seize=1"
wrap pci-assignable-list -n
has out "the wrapper runs xl-pci for pci-assignable-list" \
    "xl-pci: pci-assignable-list -n"
wrap -v list -l
has out "the wrapper runs the real xl for list" "real xl: -v list -l"
wrap create -c guest.cfg pci-attach
has out "a pci word after the command is not the command" \
    "real xl: create -c guest.cfg pci-attach"
wrap -- pci-list 1
has out "the command after --" "xl-pci: -- pci-list 1"
XPCI_REAL_XL="$XLWRAP" "$XLWRAP" list >"$work/out" 2>"$work/err"
if [ $? = 1 ] && grep -q "is this wrapper" "$work/err"; then
    ok "the wrapper refuses to run itself as the real xl"
else
    not_ok "the wrapper as its own real xl: $(cat "$work/err")"
fi
expect_exit 2 "the wrapper runs the built xl-pci (usage error)" \
    env XPCI_XL_PCI="$XLPCI" "$XLWRAP" pci-attach 1

finish
