#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# xpci-vm: cpu=svm timeout=2400
#
# 60-xpci-hvm - xpci with an HVM guest on a real Xen (SVM with nested
# paging under TCG; one HVM guest for every check, it takes a minute or
# two to boot): xpci prepare + xl create with pci=[...] (cold-plug of the
# e1000e and of a two-function slot as BB:DD.*); the guest's own sysfs
# sees them, e1000e binds, takes interrupts and does DMA (a DHCP lease
# and pings through QEMU's user-mode network).  An NVMe SR-IOV VF is
# hot-plugged: xpci attach (QMP device_add xen-pci-passthrough; the
# guest's nvme runs it: DMA, MSI-X) and xpci detach (device_del: the
# guest sees it go, Xen quarantines it, the guest's iomem/irq permissions
# are gone, read back from Xen by xen-perms); interop with xl
# pci-attach/pci-detach both ways; attach/detach cycles with xpci and
# with xl.  The slot (legacy INTx, an I/O BAR): detached, hot-plugged
# again (on Xen 4.17 attach says its IRQ becomes the guest's pirq) and
# detached again, the guest's serial port alive throughout.  A device
# model that answers an error and one that does not answer (stopped):
# nothing left.  The e1000e: xl pci-detach, then xpci attach hot-plugs it
# back (DHCP and pings again), and xl destroy of the guest holding it
# leaves it quarantined and attachable.  Every TAP line starts with
# "HVM:".  Needs the xpci stage and a boot with the SVM CPU (the line
# above).
#
# XPCI_VM_HVM_CYCLES (default 1): attach/detach cycles with each tool.
# Every command's output is kept in $XPCI_VM_OUT/60-*.txt.
. "$XPCI_VM_IN/lib.sh"

E1000E_ID=8086:10d3
E1000_ID=8086:100e
NVME_ID=1b36:0010
PLATFORM_ID=5853:0001
H=xpci-hvm
P=xpci-pv
PERMS=/usr/libexec/xpci-vm/xen-perms
CYCLES=${XPCI_VM_HVM_CYCLES:-1}
T_START=$(now_s)
trap 'kill -CONT $DM 2>/dev/null; guest_destroy_all' EXIT

if [ "${XPCI_VM_HAVE_XPCI:-0}" != 1 ]; then
    tap_skip_all "no xpci stage (XPCI_STAGE unset on the host)"
    exit 0
fi
if [ "${XPCI_VM_CPU:-}" != svm ]; then
    tap_skip_all "this boot has no SVM CPU (run.sh reads the xpci-vm line)"
    exit 0
fi

# ---------------------------------------------------------------- helpers
# run NAME CMD...: CMD's output in $XPCI_VM_OUT/60-NAME.txt and OUTPUT,
# its exit status in RC (and as the status).
run()
{
    local name=$1
    shift
    "$@" > "$XPCI_VM_OUT/60-$name.txt" 2>&1
    RC=$?
    OUTPUT=$(cat "$XPCI_VM_OUT/60-$name.txt")
    return "$RC"
}

evidence()
{
    echo "last command's exit status: $RC, output:"
    echo "$OUTPUT"
    echo "xl dmesg (end):"
    xl dmesg | tr -d '\r' | grep -v '^(XEN)    [0-9a-f]\{16\} ' | tail -n 12
    echo "qemu-dm log (end):"
    tail -n 8 "/var/log/xen/qemu-dm-$H.log" 2>&1
    echo "serial console of $H (end):"
    guest_console "$H" | tail -n 12
    guest_died
}

# stuck_once: the first time the guest does not report, what it does
# (hvm_stuck_report; in $XPCI_VM_OUT/60-stuck.txt too).
stuck_once()
{
    [ ! -f "$XPCI_VM_OUT/60-stuck.txt" ] || return 0
    hvm_stuck_report "$H" | tee "$XPCI_VM_OUT/60-stuck.txt"
}

# guest_died: the guest kernel's first fatal fault or panic and where it
# came from (the process, the interrupted contexts), status 1 when there
# is none (a soft-lockup warning under load is not a death).
guest_died()
{
    local c
    c=$(guest_console "$H" | grep -m1 -E \
        'Kernel panic|Oops|BUG: (unable to handle|kernel NULL|ENTRY_TRAMP)') ||
        return 1
    echo "the guest's kernel died: $c"
    guest_console "$H" | grep -m1 'Comm:'
    guest_console "$H" |
        grep -E '^\[ *[0-9.]+\]  *(RIP: 0033|[a-z_]*sysvec[a-z_]*\+)' |
        head -n 4
}

# check_run DESC NAME CMD...: a test point, CMD must exit 0.
check_run()
{
    local desc=$1 name=$2 t0
    shift 2
    t0=$(now_s)
    if run "$name" "$@"; then
        tap_ok "HVM: $desc [$(since "$t0") s]"
        RUN_OK=1
    else
        tap_fail "HVM: $desc [$(since "$t0") s]" "command: $*" "$(evidence)"
        RUN_OK=0
    fi
}

# check_wait SECONDS DESC CMD...: wait for CMD (fails at once after a
# check_run that failed).
check_wait()
{
    local secs=$1 desc=$2 t0
    shift 2
    t0=$(now_s)
    if [ "${RUN_OK:-1}" = 0 ]; then
        RUN_OK=1
        tap_fail "HVM: $desc" "not waited for: the command before failed"
    elif wait_for "$secs" "$desc" "$@"; then
        tap_ok "HVM: $desc [$(since "$t0") s]"
    else
        tap_fail "HVM: $desc" "last PCI report of $H:" "$(guest_pci "$H")" \
            "$(evidence)" "$(stuck_once)"
    fi
}

# (Not "local d": sh's locals are seen by the functions called, and the
# checks read the guest's domid from the global d.)
hcheck() { local desc=$1; shift; tap_check "HVM: $desc" "$@"; }

driver_is() { [ "$(dev_driver "$1")" = "$2" ]; }
no_domid() { ! xenstore-exists "/libxl/pci/$(bdf_key "$1")/domid"; }
domid_is() {
    [ "$(xenstore-read "/libxl/pci/$(bdf_key "$1")/domid" 2>/dev/null)" = "$2" ]
}
quarantined()
{
    xl_assignable "$1" && xen_owner_is "$1" io && driver_is "$1" pciback &&
        no_domid "$1"
}
held_by()
{
    local d
    d=$(guest_domid "$2") || return 1
    xen_owner_is "$1" "$d" && domid_is "$1" "$d" && xl_pci_has "$2" "$1"
}
sees() { guest_has "$H" " $1 driver=$2"; }
sees_id() { guest_has "$H" " $1 "; }
lacks() { guest_lacks "$H" " $1 "; }
count_id() { guest_pci "$H" | grep -c " $1 "; }
# The guest address of the function with this ID ("0000:00:04.0").
gaddr() { guest_pci "$H" | awk -v id="$1" '$2 == id { print $1; exit }'; }
# Network tests the guest reported so far.
net_tests() { guest_console "$H" | grep -c 'xpci-guest: net '; }
# A network test newer than the first $1 passed: lease, pings, interrupts.
net_ok()
{
    local since=$1 l
    [ "$(net_tests)" -gt "$since" ] || return 1
    l=$(guest_console "$H" | grep 'xpci-guest: net ' | tail -n 1)
    echo "$l"
    echo "$l" | grep -q 'dhcp=[0-9]' && echo "$l" | grep -q 'ping=ok' &&
        ! echo "$l" | grep -q 'irqs=0$'
}
# The guest runs: listed, not crashed (on_crash="preserve" keeps a
# panicked guest listed, state "c"), no triple fault, no kernel death;
# otherwise says which.
alive()
{
    local st
    st=$(xl list "$H" 2>/dev/null | awk 'NR == 2 { print $5 }')
    case "$st" in
    "") echo "xl list does not list $H"; return 1 ;;
    *c*) echo "$H crashed (xl list: $st)" ;;
    esac
    if xl dmesg | grep -q 'Triple fault'; then
        echo "Xen logged a triple fault"
        return 1
    fi
    ! guest_died && [ "${st#*c}" = "$st" ]
}

# The BAR frames (iomem, hex), I/O ports (ioport, hex) and legacy IRQ of
# a function, as "iomem S E" / "ioport S E" / "irq N" lines.
# (Numbers in decimal; dom0's awk is mawk, so shell arithmetic.)
grants_of()
{
    local d=/sys/bus/pci/devices/$1 s e f irq
    while read -r s e f; do
        [ $((s)) -ne 0 ] || continue
        if [ $((f & 0x100)) -ne 0 ]; then
            echo "ioport $((s)) $((e))"
        elif [ $((f & 0x200)) -ne 0 ]; then
            echo "iomem $((s >> 12)) $((e >> 12))"
        fi
    done < "$d/resource"
    irq=$(cat "$d/irq" 2>/dev/null)
    [ "${irq:-0}" -gt 0 ] && [ "$irq" != 255 ] && echo "irq $irq"
}
# perms_of DOMID BDF: the function's grants that Xen lists for the domain
# (xen-perms), one a line; status 2 when xen-perms itself failed.
perms_of()
{
    local sets kind s e k r lo hi
    sets=$("$PERMS" "$1") || return 2
    grants_of "$2" | while read -r kind s e; do
        e=${e:-$s}
        printf '%s\n' "$sets" | while read -r k r; do
            [ "$k" = "$kind" ] || continue
            lo=${r%-*} hi=${r#*-}
            if [ "$k" != irq ]; then lo=$((0x$lo)) hi=$((0x$hi)); fi
            if [ "$lo" -le "$e" ] && [ "$s" -le "$hi" ]; then
                echo "$k $r"
                break
            fi
        done
    done
}
perms_gone()
{
    local left
    left=$(perms_of "$1" "$2") || return 1
    [ -z "$left" ] || { echo "still granted: $left"; return 1; }
}
perms_there()
{
    local got
    got=$(perms_of "$1" "$2") || return 1
    [ -n "$got" ] || { echo "no grant of $2 in: $("$PERMS" "$1")"; return 1; }
    echo "$got"
}
# The JSON of xpci attached lists BDF with the guest address ADDR.
attached_vdev()
{
    local bdf=$1 addr=$2 slot fn want
    # (An empty or odd address would end the whole scenario in $((...)).)
    case "$addr" in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f].[0-7]) ;;
    *) echo "no guest address for $bdf in the guest's report: '$addr'"
       return 1 ;;
    esac
    run attached xpci attached "$H" --json || return 1
    slot=$(echo "$addr" | cut -d: -f3 | cut -d. -f1)
    fn=${addr##*.}
    want=$(( (0x$slot << 3) | fn ))
    printf '%s' "$OUTPUT" | jq -e --arg b "$bdf" --argjson v "$want" \
        '[.. | objects | select(.bdf? == $b and .vdevfn == $v and
            (.state_name // "") != "initialised")] | length == 1' \
        > /dev/null || { echo "$OUTPUT"; return 1; }
}
iface_down()
{
    local i
    for i in $(dev_netif "$1"); do ip link set "$i" down; done
}

# ---------------------------------------------------------------- the rig
hcheck "Xen runs HVM guests with HAP (SVM, nested paging)" \
    sh -c "xl info | grep '^virt_caps' | grep -w hvm | grep -qw hap"
# hvmloader comes with the tools of the running Xen's release
# (/usr/lib/xen-4.17/boot, /usr/lib/xen-4.20/boot): where libxl looks.
xen_rel=$(xl info | awk '$1 == "xen_major" { a = $3 }
    $1 == "xen_minor" { b = $3 } END { if (a != "") print a "." b }')
HVMLOADER=/usr/lib/xen-${xen_rel:-?}/boot/hvmloader
hcheck "dom0 has the device model and $HVMLOADER" \
    test -x /usr/libexec/xen-qemu-system-i386 -a -f "$HVMLOADER"
hcheck "xen-perms reads dom0's rangesets" "$PERMS" 0

bdf=$(find_bdf "$E1000E_ID")
mf0=$(find_bdf "$E1000_ID" 2)
mf1=$(find_bdf "$E1000_ID" 3)
pf=$(find_bdf "$NVME_ID")
slot=${mf0%.*}
if [ -z "$bdf" ] || [ -z "$pf" ] || [ -z "$mf0" ] ||
        [ "$mf1" != "$slot.1" ]; then
    tap_fail "HVM: the e1000e, the NVMe PF and a two-function e1000 slot" \
        "$(lspci -n)"
    tap_done
    exit 1
fi
tap_ok "HVM: e1000e at $bdf, NVMe PF at $pf, two-function slot $slot.*"
wait_for 30 "dom0's e1000e interface" dev_netif "$bdf"
iface_down "$bdf"
if nvme_vfs_up "$pf"; then
    vf=${NVME_VFS%% *}
    tap_ok "HVM: NVMe VFs live on dom0's nvme: $NVME_VFS"
else
    vf=
    tap_fail "HVM: NVMe VFs live on dom0's nvme" "VFs: '$NVME_VFS'"
fi

# ---------------------------------------------------------------- cold-plug
# msitranslate and power_mgmt mean nothing to qemu-xen: prepare says so.
# The two-function slot of e1000s (legacy INTx) is given at creation too,
# a function an entry (libxl 4.17 adds only function 1 of a 'BB:DD.*@5'
# entry to a guest it creates; xpci attach takes the slot whole later):
# its IRQ then becomes the guest's pirq before the guest's kernel numbers
# its own (see xpci(8), detach: a hot-plugged legacy IRQ may be one of
# them, and the device model's unmap at the detach would silence it).
hvm_cfg "$H" "$bdf,msitranslate=1,power_mgmt=1" "$mf0" "$mf1"
check_run "xpci prepare /tmp/$H.cfg (pci = ['$bdf,msitranslate=1,...', '$mf0', '$mf1'])" \
    prepare xpci prepare "/tmp/$H.cfg"
diag "$OUTPUT"
hcheck "xpci prepare notes that msitranslate/power_mgmt do nothing with qemu-xen" \
    sh -c "grep -i 'msitranslate' $XPCI_VM_OUT/60-prepare.txt |
        grep -qi 'qemu-xen'"
hcheck "xpci prepare notes that $mf0's bus reset is refused (shared bus)" \
    sh -c "grep -q '$mf0.*bus reset' $XPCI_VM_OUT/60-prepare.txt"
hcheck "$bdf quarantined after prepare" quarantined "$bdf"
both_quarantined() { quarantined "$mf0" && quarantined "$mf1"; }
hcheck "$mf0 and $mf1 quarantined after prepare" both_quarantined
t0=$(now_s)
# A firmware that hung (hvm_boot's status 2: the rig's fault, see
# tests/vm/README.md) gets up to two more boots, each said.
tries=1
hvm_boot "$H"
rc=$?
while [ "$rc" -eq 2 ] && [ "$tries" -lt 3 ]; do
    diag "HVM guest $H: its firmware hung (boot $tries): destroyed, created again"
    xl destroy "$H" > /dev/null 2>&1
    mv "$CONSOLE_DIR/hvm-$H.log" "$CONSOLE_DIR/hvm-$H.boot$tries.log" 2>/dev/null
    tries=$((tries + 1))
    hvm_boot "$H"
    rc=$?
done
if [ "$rc" -eq 0 ]; then
    BOOT_S=$(since "$t0")
    tap_ok "HVM: xl create with pci=['$bdf', '$mf0', '$mf1'] and the guest's first report [$BOOT_S s, boot $tries]"
else
    tap_fail "HVM: xl create with pci=['$bdf', '$mf0', '$mf1']" \
        "$(tail -n 20 "/var/log/xen/xl-$H.log" 2>&1)" "$(evidence)"
    tap_done
    exit 1
fi
d=$(guest_domid "$H")
DM=$(dm_pid "$d")
diag "HVM guest $H is domain $d, device model pid ${DM:-?}"
diag "booted to the first report in $BOOT_S s"
check_wait 120 "the guest's e1000e driver binds the cold-plugged $bdf" \
    sees "$E1000E_ID" e1000e
addr=$(gaddr "$E1000E_ID")
diag "guest report: $(guest_pci "$H" | tr '\n' ';')"
check_wait 120 "DMA and interrupts: DHCP lease, pings, /proc/interrupts" \
    net_ok 0
diag "$(net_ok 0)"
hcheck "xl pci-list $H shows $bdf" xl_pci_has "$H" "$bdf"
hcheck "$bdf held by $H (Xen, libxl's domid record)" held_by "$bdf" "$H"
hcheck "xpci attached: guest address $addr (vdevfn) and a real state" \
    attached_vdev "$bdf" "$addr"
diag "xpci attached:" "$(xpci attached "$H" 2>&1)"
xenstore-ls -fp "$(pci_backend "$d")" "/libxl/$d/device/pci" \
    > "$XPCI_VM_OUT/60-xenstore-coldplug.txt" 2>&1
hcheck "Xen lists $bdf's BARs in $H's iomem permissions" \
    perms_there "$d" "$bdf"
both_fns() { [ "$(guest_pci "$H" | grep -c " $E1000_ID driver=e1000")" -eq 2 ]; }
check_wait 120 "the guest's e1000 binds both cold-plugged functions of $slot" \
    both_fns
both_listed() { xl_pci_has "$H" "$mf0" && xl_pci_has "$H" "$mf1"; }
hcheck "xl pci-list $H shows $mf0 and $mf1" both_listed
hcheck "Xen lists $mf0's grants (I/O ports, BARs, IRQ) for $H" \
    perms_there "$d" "$mf0"
diag "$(perms_of "$d" "$mf0" | tr '\n' ' ')"
# Which pirq carries each of the guest's own interrupt lines (the guest
# prints them at boot): the slot's IRQ, given at creation, is none of them.
mf_irq=$(cat "/sys/bus/pci/devices/$mf0/irq" 2>/dev/null)
diag "the guest's pirqs: $(guest_console "$H" | sed -n 's/^xpci-guest: pirq=//p' | tr '\n' ' ')"
not_guests_pirq()
{
    ! guest_console "$H" | grep -q "^xpci-guest: pirq=$mf_irq -> "
}
hcheck "$slot's IRQ $mf_irq is none of the guest's own pirqs" not_guests_pirq

# ---------------------------------------------------------------- hot-plug
# The cold-plugged e1000e stays in the guest (its network is tested again
# at the end): hot-plug, detach, interop and the cycles go with an NVMe
# VF, whose nvme driver does DMA (the admin queue) and takes MSI-X
# interrupts.  vf_live: the guest's nvme runs a VF.
vf_live() { guest_has "$H" " $NVME_ID driver=nvme nvme=nvme[0-9]+:live"; }
not_listed() { ! xl pci-list "$H" | grep -q "$1"; }
if [ -n "$vf" ]; then
    check_run "xpci assignable-add $vf (an NVMe VF)" vf-add \
        xpci assignable-add "$vf"
    check_run "xpci attach $H $vf (QMP device_add xen-pci-passthrough)" \
        vf-attach xpci attach "$H" "$vf"
    check_wait 120 "the guest sees the hot-plugged VF ($NVME_ID)" \
        sees_id "$NVME_ID"
    vaddr=$(gaddr "$NVME_ID")
    if [ "$XPCI_VM_IOMMU" = amd ]; then
        tap_todo "HVM: the guest's nvme runs the VF (DMA)" \
            "QEMU 7.2's AMD IOMMU: wrong device-table entry behind a root port" \
            wait_for 60 "nvme live" vf_live
    else
        check_wait 120 "the guest's nvme runs the VF (admin queue: DMA, MSI-X)" \
            vf_live
    fi
    hcheck "xl pci-list $H shows $vf" xl_pci_has "$H" "$vf"
    hcheck "$vf held by $H (Xen, libxl's domid record)" held_by "$vf" "$H"
    hcheck "xpci attached: $vf at guest address $vaddr" \
        attached_vdev "$vf" "$vaddr"
    hcheck "Xen lists $vf's BARs in $H's iomem permissions" \
        perms_there "$d" "$vf"

    # ------------------------------------------------------------ detach
    check_run "xpci detach $H $vf (QMP device_del)" vf-detach \
        xpci detach "$H" "$vf"
    check_wait 60 "the guest sees $vf go" lacks "$NVME_ID"
    hcheck "$vf back in quarantine (Xen's IOMMU log, no domid record)" \
        quarantined "$vf"
    hcheck "$H's permissions for $vf are gone (xen-perms)" \
        perms_gone "$d" "$vf"
    hcheck "xl pci-list $H: no $vf" not_listed "$vf"
    hcheck "the guest lives" alive

    # ------------------------------------------------------------ interop
    check_run "xl pci-attach $H $vf" xl-attach xl pci-attach "$H" "$vf"
    check_wait 120 "the guest's nvme runs it (xl's hot-plug)" vf_live
    vaddr=$(gaddr "$NVME_ID")
    hcheck "xpci attached lists xl's hot-plug at $vaddr" \
        attached_vdev "$vf" "$vaddr"
    check_run "xpci detach $H $vf (attached by xl)" detach-xl \
        xpci detach "$H" "$vf"
    check_wait 60 "the guest sees it go" lacks "$NVME_ID"
    hcheck "$vf back in quarantine" quarantined "$vf"
    hcheck "$H's permissions for $vf are gone" perms_gone "$d" "$vf"
    check_run "xpci attach $H $vf (for xl pci-detach)" attach-for-xl \
        xpci attach "$H" "$vf"
    check_wait 120 "the guest's nvme runs it" vf_live
    check_run "xl pci-detach $H $vf (attached by xpci)" xl-detach \
        xl pci-detach "$H" "$vf"
    check_wait 60 "the guest sees it go" lacks "$NVME_ID"
    hcheck "$vf back in quarantine" quarantined "$vf"
    diag "xl 4.17 leaves $H these grants of $vf: $(perms_of "$d" "$vf" | tr '\n' ' ')"

    # ------------------------------------------------------------ cycles
    # Attach and detach in a row, as a user would: the guest must live
    # through each, with xpci as with xl.
    cycle()
    {
        local tool=$1 i=$2 ta td
        ta=$(now_s)
        # xpci attach / xl pci-attach, xpci detach / xl pci-detach
        set -- xpci ""
        [ "$tool" = xpci ] || set -- xl pci-
        run "cycle-$tool-$i-a" "$1" "${2}attach" "$H" "$vf" ||
            { echo "attach: $OUTPUT"; return 1; }
        wait_for 120 "nvme in the guest" vf_live || return 1
        ta=$(since "$ta")
        td=$(now_s)
        run "cycle-$tool-$i-d" "$1" "${2}detach" "$H" "$vf" ||
            { echo "detach: $OUTPUT"; return 1; }
        wait_for 60 "the VF gone" lacks "$NVME_ID" || return 1
        echo "attach to nvme live $ta s, detach to gone $(since "$td") s"
        alive && quarantined "$vf"
    }
    for tool in xpci xl; do
        i=1
        while [ "$i" -le "$CYCLES" ]; do
            hcheck "$tool attach/detach cycle $i of $vf: the guest lives, quarantined" \
                cycle "$tool" "$i"
            i=$((i + 1))
        done
    done
else
    tap_fail "HVM: an NVMe VF to hot-plug into the guest" "no VF came up"
fi

# ---------------------------------------------------------------- slot
# The slot the guest had from boot: detached with its BB:DD.* spec, then
# hot-plugged again and detached again.  Every time the guest must go on
# reporting on its serial port, whose interrupt a device model's unmap of
# the wrong pirq would have silenced.
mf_round()
{
    local what=$1
    check_run "xpci detach $H $slot.* ($what)" "mf-detach-$what" \
        xpci detach "$H" "$slot.*"
    check_wait 60 "the guest sees both functions of $slot go ($what)" \
        lacks "$E1000_ID"
    hcheck "$mf0 and $mf1 back in quarantine ($what)" both_quarantined
    hcheck "$H's permissions for $mf0 (ports, IRQ) are gone ($what)" \
        perms_gone "$d" "$mf0"
    hcheck "$H's permissions for $mf1 are gone ($what)" perms_gone "$d" "$mf1"
    hcheck "the guest lives ($what)" alive
}
mf_round cold-plugged
check_run "xpci attach $H $slot.* (hot-plug: two functions, legacy INTx, I/O BAR)" \
    mf-attach xpci attach "$H" "$slot.*"
diag "$OUTPUT"
check_wait 120 "the guest sees both functions of $slot again" both_fns
hcheck "xl pci-list $H shows $mf0 and $mf1 again" both_listed
if [ "$xen_rel" = 4.17 ]; then
    # Xen up to 4.18 gives HVM guests event-channel interrupts (pirqs).
    hcheck "xpci attach says the slot's IRQ $mf_irq becomes the guest's pirq $mf_irq" \
        sh -c "grep -q 'IRQ $mf_irq becomes d$d.s pirq $mf_irq' $XPCI_VM_OUT/60-mf-attach.txt"
fi
mf_round hot-plugged

# ---------------------------------------------------------------- failures
# Nothing of a failed attach of the VF is left: quarantined, not listed by
# xl, not in the guest, no permissions, no pending journal.
nothing_left()
{
    quarantined "$vf" || { echo "not quarantined"; return 1; }
    ! xl pci-list "$H" | grep -q "$vf" || { echo "xl lists it"; return 1; }
    lacks "$NVME_ID" || { echo "the guest has it"; return 1; }
    perms_gone "$d" "$vf" || return 1
    [ ! -e /var/lib/xpci/journal ] ||
        { echo "a journal is pending: $(cat /var/lib/xpci/journal)"; return 1; }
}
if [ -n "$vf" ]; then
    # An error from the device model: a guest slot its platform device
    # holds.
    pslot=$(gaddr "$PLATFORM_ID" | cut -d: -f3 | cut -d. -f1)
    run dm-error xpci attach "$H" "$vf@${pslot:-02}"
    if [ "$RC" -eq 1 ] && printf '%s' "$OUTPUT" | grep -q "$vf"; then
        tap_ok "HVM: attach to an occupied guest slot ${pslot:-02}: exit 1, names $vf"
    else
        tap_fail "HVM: attach to an occupied guest slot: exit 1" "exit $RC" \
            "$OUTPUT"
    fi
    diag "$OUTPUT"
    hcheck "nothing left of it (quarantine, xl, guest, permissions, journal)" \
        nothing_left
fi

# A device model that does not answer: stopped while xpci waits.
if [ -n "$DM" ] && [ -n "$vf" ]; then
    kill -STOP "$DM"
    t0=$(now_s)
    run dm-stopped xpci attach --timeout 3 "$H" "$vf"
    el=$(since "$t0")
    kill -CONT "$DM"
    if [ "$RC" -eq 1 ]; then
        tap_ok "HVM: attach with the device model stopped: exit 1 after $el s"
    else
        tap_fail "HVM: attach with the device model stopped: exit 1" \
            "exit $RC after $el s" "$OUTPUT"
    fi
    diag "$OUTPUT"
    hcheck "nothing left of it after the device model resumed" nothing_left
    hcheck "the guest lives" alive
    # detach while stopped: refused, the function stays usable
    check_run "xpci attach $H $vf (for a detach against a stopped model)" \
        attach-4 xpci attach "$H" "$vf"
    check_wait 120 "the guest's nvme runs it" vf_live
    kill -STOP "$DM"
    run dm-stopped-detach xpci detach --timeout 3 "$H" "$vf"
    rc=$RC
    kill -CONT "$DM"
    if [ "$rc" -eq 1 ] && ! printf '%s' "$OUTPUT" | grep -q 'UNDO FAILED'; then
        tap_ok "HVM: detach with the device model stopped: exit 1, undone"
    else
        tap_fail "HVM: detach with the device model stopped: exit 1, undone" \
            "exit $rc" "$OUTPUT"
    fi
    diag "$OUTPUT"
    hcheck "$vf still $H's" held_by "$vf" "$H"
    hcheck "the guest still has the VF" sees_id "$NVME_ID"
    run vf-detach-2 xpci detach "$H" "$vf"
    wait_for 60 "the VF gone" lacks "$NVME_ID"
else
    tap_fail "HVM: the device model's pid and a VF" "DM '${DM:-}' VF '$vf'" \
        "$(pgrep -af qemu)"
fi
hcheck "the guest lives through it all (no triple fault)" alive

# ---------------------------------------------------------------- e1000e
# The e1000e the guest had from boot: xl pci-detach, then xpci attach
# hot-plugs it into the running guest (QMP device_add): the guest's e1000e
# binds it, and DMA and interrupts work again (a new DHCP lease, pings).
check_run "xl pci-detach $H $bdf (cold-plugged)" cold-detach \
    xl pci-detach "$H" "$bdf"
check_wait 60 "the guest sees the cold-plugged $bdf go" lacks "$E1000E_ID"
hcheck "$bdf back in quarantine" quarantined "$bdf"
hcheck "the guest lives" alive
n_net=$(net_tests)
check_run "xpci attach $H $bdf (hot-plug of the e1000e)" e1000e-attach \
    xpci attach "$H" "$bdf"
diag "$OUTPUT"
check_wait 120 "the guest's e1000e driver binds the hot-plugged $bdf" \
    sees "$E1000E_ID" e1000e
check_wait 120 "DMA and interrupts through the hot-plugged $bdf: DHCP lease, pings" \
    net_ok "$n_net"
diag "$(net_ok "$n_net")"
hcheck "xl pci-list $H shows $bdf" xl_pci_has "$H" "$bdf"
hcheck "$bdf held by $H (Xen, the domid record)" held_by "$bdf" "$H"
cp "/var/log/xen/qemu-dm-$H.log" "$XPCI_VM_OUT/60-qemu-dm.log" 2>/dev/null
xl dmesg > "$XPCI_VM_OUT/60-xl-dmesg.txt" 2>&1

# ---------------------------------------------------------------- destroy
check_run "xl destroy $H (holding $bdf)" destroy xl destroy "$H"
hcheck "$bdf quarantined, no domid record" quarantined "$bdf"
if guest_create "$P"; then
    check_run "xpci attach a PV guest $bdf (attachable again)" attach-pv \
        xpci attach "$P" "$bdf"
    check_wait 120 "the PV guest's e1000e binds it" \
        guest_has "$P" " $E1000E_ID driver=e1000e"
else
    tap_fail "HVM: a PV guest to attach to after the destroy" \
        "$(guest_console "$P" | tail -n 10)"
fi

diag "HVM guest boot (xl create to the first report): ${BOOT_S:-?} s"
diag "scenario: $(since "$T_START") s"
tap_done
