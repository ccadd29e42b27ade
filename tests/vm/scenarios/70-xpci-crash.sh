#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# xpci-vm: timeout=1200
#
# 70-xpci-crash - xpci killed mid-operation on a real Xen, and the PV
# handshake with the host loaded.
#
# Crash matrix: `xpci assignable-add` of the e1000e and the e1000 together,
# and `xpci attach` of the e1000e to a running PV guest, are stopped after
# a chosen journal record (XPCI_TEST_CRASH_AFTER=N with
# XPCI_TEST_CRASH_SIGNAL=19: the process stops itself with SIGSTOP right
# after writing its Nth record), what they did so far is looked at, then
# they are killed with kill -9; one attach is killed from outside while
# its PV handshake runs.  `xpci recover` must put every function back
# where it started, as the kernel (driver links, pciback's slots), Xen
# (its IOMMU log, xl pci-assignable-list, xl pci-list), xenstore (libxl's
# records, pciback's backend) and the guest's pcifront see it.  Record N
# is picked from the --dry-run plan: the header is record 1 and a step k
# (from 0) that runs on its own, not in a batch of binds, unbinds or
# resets, writes records 2k+2 (intent) and 2k+3 (done); every stop checks
# that the journal's last record is the one meant.
#
# Under load: a CPU hog in dom0 pinned to the physical CPU of the guest's
# vCPU (the guest with a low scheduler weight), and a short --timeout:
# several attach/detach cycles, each outcome (attached, undone, left
# attaching, left detaching) checked for guest, xenstore, pciback and Xen
# agreeing; a detach that says to run it again is run again until it
# finishes.
#
# Every command's output is kept in $XPCI_VM_OUT/70-*.txt.
. "$XPCI_VM_IN/lib.sh"

E1000E_ID=8086:10d3
E1000_ID=8086:100e
G=xpci-c1
JOURNAL=/var/lib/xpci/journal
SET=/var/lib/xpci/assignable
# The load section: the handshake's --timeout (seconds of silence; the
# third and fourth try of a detach get xpci's default, as an administrator
# who retries would), the cycles, and the time after which no new cycle
# starts.
LOAD_TIMEOUT=2
LOAD_CYCLES=3
LOAD_BUDGET=$((90 * XPCI_VM_SLOW))
HOGS=

# The load section's hogs, stopped on the way out too (so defined here,
# before any early exit).
load_stop()
{
    [ -n "$HOGS" ] || return 0
    kill $HOGS 2>/dev/null
    wait $HOGS 2>/dev/null
    HOGS=
    xl vcpu-pin Domain-0 all all > /dev/null 2>&1
}

cleanup()
{
    load_stop
    guest_destroy_all
}
trap cleanup EXIT

if [ "${XPCI_VM_HAVE_XPCI:-0}" != 1 ]; then
    tap_skip_all "no xpci stage (XPCI_STAGE unset on the host)"
    exit 0
fi

# ---------------------------------------------------------------- helpers
# run NAME CMD...: CMD's output in $XPCI_VM_OUT/70-NAME.txt and OUTPUT,
# its exit status in RC (and as the status).
run()
{
    local name=$1
    shift
    "$@" > "$XPCI_VM_OUT/70-$name.txt" 2>&1
    RC=$?
    OUTPUT=$(cat "$XPCI_VM_OUT/70-$name.txt")
    return "$RC"
}

driver_is() { [ "$(dev_driver "$1")" = "$2" ]; }
in_slots() { grep -qx "$1" /sys/bus/pci/drivers/pciback/slots; }
no_domid() { ! xenstore-exists "/libxl/pci/$(bdf_key "$1")/domid"; }
domid_is()
{
    [ "$(xenstore-read "/libxl/pci/$(bdf_key "$1")/domid" 2>/dev/null)" = "$2" ]
}
yes_no() { if "$@" > /dev/null 2>&1; then echo yes; else echo no; fi; }
iface_down()
{
    local i
    for i in $(dev_netif "$1"); do ip link set "$i" down; done
}

# Where a function is, as each party tells it, on one line.
snap()
{
    local b=$1
    printf 'driver=%s override=%s netif=%s slot=%s xl=%s xen=%s libxl=%s set=%s' \
        "$(dev_driver "$b")" \
        "$(cat "/sys/bus/pci/devices/$b/driver_override")" \
        "$(yes_no dev_netif "$b")" "$(yes_no in_slots "$b")" \
        "$(yes_no xl_assignable "$b")" \
        "$(xen_dev_owner "$b" || echo unknown)" \
        "$(xenstore-read "/libxl/pci/$(bdf_key "$b")/driver_path" \
            2>/dev/null || echo -)" \
        "$(yes_no grep -q "^$b " "$SET")"
}

# as_before BDF SNAP: snap BDF is SNAP again; says what differs if not.
as_before()
{
    local now
    now=$(snap "$1")
    [ "$now" = "$2" ] && return 0
    echo "$1 at the start: $2"
    echo "$1 now:          $now"
    return 1
}

# plan_of xpci COMMAND ARGS...: its --dry-run plan, one step a line,
# without numbers.
plan_of()
{
    local x=$1 cmd=$2
    shift 2
    "$x" "$cmd" --dry-run "$@" 2>/dev/null | sed -n 's/^ *[0-9][0-9]*\. //p'
}

# step_index PLAN ERE: index (from 0) of the first step matching ERE.
step_index()
{
    local n
    n=$(printf '%s\n' "$1" | grep -En -- "$2" | head -n1 | cut -d: -f1)
    [ -n "$n" ] && echo $((n - 1))
}

# The device of step K of PLAN ("BDF: what").
step_dev()
{
    printf '%s\n' "$1" | sed -n "$(($2 + 1))s/: .*//p"
}

# The journal's last record, tabs shown as blanks, values cut short.
journal_last()
{
    tail -n1 "$JOURNAL" 2>/dev/null | awk -F'\t' '
        $1 == "intent" { printf "intent %s %s %s %s", $2, $3, $4, $5; next }
        { gsub(/\t/, " "); print }'
}

proc_state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }
stopped() { [ "$(proc_state "$1")" = T ]; }
# Stopped, or gone (a zombie until waited for).
stopped_or_done()
{
    case "$(proc_state "$1")" in T | Z | '') return 0 ;; esac
    return 1
}

# stop_at NAME N CMD...: run CMD in the background with the journal hook
# set to stop it after its Nth record; PID gets its pid.  0 once it is
# stopped there, 1 if it ended (or hung) first.
stop_at()
{
    local name=$1 n=$2
    shift 2
    env XPCI_TEST_CRASH_AFTER="$n" XPCI_TEST_CRASH_SIGNAL=19 "$@" \
        > "$XPCI_VM_OUT/70-$name.txt" 2>&1 &
    PID=$!
    wait_for 60 "xpci to stop after journal record $n" stopped_or_done "$PID"
    stopped "$PID"
}

# kill9: kill -9 the stopped xpci; 0 when it died of it (status 137).
kill9()
{
    local rc
    kill -9 "$PID" 2>/dev/null
    # (the shell's own "Killed" report stays out of the TAP stream)
    { wait "$PID"; rc=$?; } 2>/dev/null
    [ "$rc" -eq 137 ] || diag "xpci exited with $rc, not killed"
    [ "$rc" -eq 137 ]
}

# recover: xpci recover exits 0 and leaves no journal.
recover()
{
    run "recover-$POINT" xpci recover || { echo "$OUTPUT"; return 1; }
    echo "$OUTPUT"
    [ ! -e "$JOURNAL" ] || { echo "journal still there"; return 1; }
}

# crash POINT N ERE MID...: stop CMD (in CRASH_CMD) after record N, check
# the journal's last record matches ERE (tabs as blanks) and that MID
# holds there (what the operation did so far), kill -9, xpci recover.
# The caller then checks everything is as it was.
crash()
{
    local ere=$3 last
    POINT=$1
    # shellcheck disable=SC2086
    if stop_at "crash-$POINT" "$2" $CRASH_CMD; then
        last=$(journal_last)
        if printf '%s\n' "$last" | grep -Eq -- "$ere"; then
            tap_ok "$POINT: stopped after journal record $2 ($last)"
        else
            tap_fail "$POINT: stopped after journal record $2 matching '$ere'" \
                "last record: $last" "$(cat "$JOURNAL")"
        fi
    else
        tap_fail "$POINT: xpci stops after journal record $2" \
            "$(cat "$XPCI_VM_OUT/70-crash-$POINT.txt")"
    fi
    shift 3
    tap_check "$POINT: mid-operation, $MID_DESC" "$@"
    if kill9 && [ -s "$JOURNAL" ]; then
        tap_ok "$POINT: kill -9 (exit 137), the journal stays"
    else
        tap_fail "$POINT: kill -9 (exit 137), the journal stays" \
            "journal: $(ls -l "$JOURNAL" 2>&1)"
    fi
    tap_check "$POINT: xpci recover: exit 0, no journal left" recover
}

# ---------------------------------------------------------------- devices
bdf=$(find_bdf "$E1000E_ID")
plain=$(find_bdf "$E1000_ID")
if [ -z "$bdf" ] || [ -z "$plain" ]; then
    tap_fail "the e1000e and the e1000 are present" "$(lspci -n)"
    tap_done
    exit 1
fi
wait_for 30 "dom0's e1000e interface" dev_netif "$bdf"
wait_for 30 "dom0's e1000 interface" dev_netif "$plain"
iface_down "$bdf"
iface_down "$plain"
s_bdf=$(snap "$bdf")
s_plain=$(snap "$plain")
on_dom0()
{
    driver_is "$bdf" e1000e && driver_is "$plain" e1000 &&
        xen_owner_is "$bdf" 0 && xen_owner_is "$plain" 0 &&
        ! in_slots "$bdf" && ! in_slots "$plain"
}
if on_dom0; then
    tap_ok "e1000e at $bdf, e1000 at $plain, both dom0's (drivers, Xen's log)"
else
    tap_fail "e1000e at $bdf and e1000 at $plain, both dom0's" \
        "$s_bdf" "$s_plain"
    tap_done
    exit 1
fi
diag "$bdf: $s_bdf" "$plain: $s_plain"

# ---------------------------------------------------------------- add
# Both functions in one call: the binds and resets run as batches.
ADD_DEVS="$bdf $plain"
CRASH_CMD="xpci assignable-add $ADD_DEVS"
plan=$(plan_of $CRASH_CMD)
if [ -z "$plan" ]; then
    diag "xpci would not take both:" "$(xpci assignable-add --dry-run $ADD_DEVS 2>&1)"
    ADD_DEVS=$bdf
    CRASH_CMD="xpci assignable-add $ADD_DEVS"
    plan=$(plan_of $CRASH_CMD)
fi
nsteps=$(printf '%s\n' "$plan" | grep -c .)
R=$((2 * nsteps + 1))
k_unov=$(step_index "$plan" 'write "(\\n)?" > /sys/bus/pci/devices/.*/driver_override')
k_quar=$(step_index "$plan" 'xc_assign_device\(DOMID_IO\)')
k_xs=$(step_index "$plan" 'xenstore write /libxl/pci/')
if [ "$nsteps" -ge 8 ] && [ -n "$k_unov" ] && [ -n "$k_quar" ] &&
        [ -n "$k_xs" ]; then
    tap_ok "assignable-add plan for $ADD_DEVS: $nsteps steps, $R journal records"
else
    tap_fail "assignable-add plan: unbind, override, bind, quarantine, xenstore" \
        "$plan"
fi
diag "$plan"
both_back()
{
    as_before "$bdf" "$s_bdf" && as_before "$plain" "$s_plain"
}

MID_DESC="nothing done yet (both on their drivers)"
crash add-first 2 "^intent 0 $bdf write " on_dom0
tap_check "add-first: both as at the start (driver, slots, Xen, xenstore, set)" \
    both_back

d=$(step_dev "$plan" "$k_unov")
MID_DESC="$ADD_DEVS on pciback, $d's override cleared"
both_pciback()
{
    local b
    for b in $ADD_DEVS; do driver_is "$b" pciback || return 1; done
}
crash add-bound $((2 * k_unov + 3)) "^done $k_unov 1" both_pciback
tap_check "add-bound: both as at the start" both_back

d=$(step_dev "$plan" "$k_quar")
MID_DESC="$d in quarantine (Xen's log)"
crash add-quarantined $((2 * k_quar + 3)) "^done $k_quar 1" \
    xen_owner_is "$d" io
tap_check "add-quarantined: both as at the start, back in dom0 for Xen" \
    both_back

d=$(step_dev "$plan" "$k_xs")
MID_DESC="libxl's record of $d written"
crash add-recorded $((2 * k_xs + 3)) "^done $k_xs 1" \
    xenstore-exists "/libxl/pci/$(bdf_key "$d")/driver_path"
tap_check "add-recorded: both as at the start, no libxl record" both_back

MID_DESC="every step done (xl pci-assignable-list, persistent set)"
all_added()
{
    local b
    for b in $ADD_DEVS; do
        xl_assignable "$b" && grep -q "^$b " "$SET" || return 1
    done
}
crash add-last "$R" "^done $((nsteps - 1)) " all_added
tap_check "add-last: both as at the start, out of the persistent set" \
    both_back
tap_check "xpci recover with nothing pending: exit 0" \
    sh -c "xpci recover | grep -q 'no interrupted operation'"

# ---------------------------------------------------------------- attach
check_add()
{
    run add xpci assignable-add "$bdf" || { echo "$OUTPUT"; return 1; }
    xl_assignable "$bdf" && xen_owner_is "$bdf" io
}
tap_check "xpci assignable-add $bdf (for the guest)" check_add
if guest_create "$G"; then
    tap_ok "xl create PV guest $G, passthrough enabled, no pci"
else
    tap_fail "xl create PV guest $G" "$(guest_console "$G" | tail -n 20)"
    tap_done
    exit 1
fi
dg=$(guest_domid "$G")
diag "guest $G is domain $dg"

# Listed by pcifront with the guest's driver bound: the driver's probe is
# over (taking a function away while it probes wedges pcifront, see
# README.md).
sees_nic() { guest_has "$G" " $E1000E_ID driver=e1000e"; }
lacks_nic() { guest_lacks "$G" " $E1000E_ID "; }
listed() { pci_backend_index "$dg" "$bdf" > /dev/null; }
# Free: in quarantine, no guest has it by any account.
free_now()
{
    xl_assignable "$bdf" && xen_owner_is "$bdf" io &&
        driver_is "$bdf" pciback && no_domid "$bdf" && ! listed &&
        ! xl_pci_has "$G" "$bdf"
}
free_everywhere()
{
    free_now && lacks_nic
}
# Held by the guest by every account: Xen, libxl's record, xl pci-list,
# pciback's entry (exported: state-N 3, vdev-N), pcifront.
held_everywhere()
{
    local i
    i=$(pci_backend_index "$dg" "$bdf") || return 1
    xen_owner_is "$bdf" "$dg" && domid_is "$bdf" "$dg" &&
        xl_pci_has "$G" "$bdf" && driver_is "$bdf" pciback &&
        [ "$(xenstore-read "$(pci_backend "$dg")/state-$i")" = 3 ] &&
        xenstore-exists "$(pci_backend "$dg")/vdev-$i" && sees_nic
}
# What the parties say, for a failure.
evidence()
{
    echo "$bdf: $(snap "$bdf")"
    echo "libxl domid record: $(xenstore-read \
        "/libxl/pci/$(bdf_key "$bdf")/domid" 2>/dev/null || echo -)"
    echo "xl pci-list $G: $(xl pci-list "$G" 2>&1 | tr '\n' ';')"
    echo "$G's last report: $(guest_pci "$G" | tr '\n' ';')"
    xenstore-ls -fp "$(pci_backend "$dg")" 2>&1 | tail -n 20
    echo "frontend state: $(xenstore-read \
        "/local/domain/$dg/device/pci/0/state" 2>&1)"
    xl dmesg | tr -d '\r' | tail -n 6
    echo "console of $G (end):"
    guest_console "$G" | tail -n 8
}
back_free()
{
    wait_for 90 "$G to lose the e1000e and everyone to say it is free" \
        free_everywhere || { evidence; return 1; }
}
tap_check "$G has nothing, $bdf free" back_free

CRASH_CMD="xpci attach $G $bdf"
plan=$(plan_of $CRASH_CMD)
nsteps=$(printf '%s\n' "$plan" | grep -c .)
R=$((2 * nsteps + 1))
k_assign=$(step_index "$plan" 'xc_assign_device\(d[0-9]')
k_pv=$(step_index "$plan" 'add to pciback backend')
if [ -n "$k_assign" ] && [ -n "$k_pv" ] &&
        printf '%s\n' "$plan" | head -n1 | grep -q '/domid'; then
    tap_ok "attach plan: $nsteps steps, $R journal records"
else
    tap_fail "attach plan: domid record, grants, assign, backend" "$plan"
fi
diag "$plan"

MID_DESC="libxl's record says domain $dg"
crash attach-recorded 3 "^done 0 1" domid_is "$bdf" "$dg"
tap_check "attach-recorded: free again (Xen, xenstore, pciback, guest)" \
    back_free

MID_DESC="Xen gave it to domain $dg"
crash attach-assigned $((2 * k_assign + 3)) "^done $k_assign 1" \
    xen_owner_is "$bdf" "$dg"
tap_check "attach-assigned: free again, Xen's log says quarantine" back_free

MID_DESC="the guest has it, by every account"
held_wait() { wait_for 120 "$G to have the e1000e" held_everywhere; }
crash attach-last "$R" "^done $((nsteps - 1)) 1" held_wait
tap_check "attach-last: the guest let it go, free again" back_free

# Killed from outside while the handshake runs: stopped before the
# backend step, let go, and killed the moment pciback's backend lists it.
POINT=attach-handshake
n=$((2 * k_pv + 2))
if stop_at "crash-$POINT" "$n" $CRASH_CMD &&
        journal_last | grep -q "^intent $k_pv "; then
    kill -CONT "$PID"
    i=0
    until listed || [ "$i" -ge 3000 ]; do i=$((i + 1)); done
    kill -9 "$PID"
    { wait "$PID"; rc=$?; } 2>/dev/null
    last=$(journal_last)
    if [ "$rc" -eq 137 ] && [ "$i" -lt 3000 ] &&
            printf '%s\n' "$last" | grep -q "^intent $k_pv "; then
        tap_ok "$POINT: kill -9 once the backend lists it, before the step's done (then: backend state $(pci_backend_state "$dg"), entry $(pci_backend_sub "$dg" "$bdf"))"
    else
        tap_fail "$POINT: kill -9 during the handshake" "exit $rc" \
            "polls: $i" "last record: $last"
    fi
else
    tap_fail "$POINT: xpci stops before the backend step (record $n)" \
        "$(journal_last)"
    kill -9 "$PID" 2>/dev/null
    { wait "$PID"; } 2>/dev/null
fi
tap_check "$POINT: pciback and the guest finish the hot-plug without xpci" \
    held_wait
tap_check "$POINT: xpci recover: exit 0, no journal left" recover
tap_check "$POINT: free again (Xen, xenstore, pciback, guest)" back_free

# The guest and xpci carry on after all that.
check_cycle()
{
    run attach xpci attach "$G" "$bdf" || { echo "$OUTPUT"; return 1; }
    wait_for 120 "$G to have the e1000e" held_everywhere || { evidence; return 1; }
    run detach xpci detach "$G" "$bdf" || { echo "$OUTPUT"; return 1; }
    back_free
}
tap_check "after the crashes: xpci attach and detach work, guest sees both" \
    check_cycle

# XPCI_VM_LOAD=0 leaves the load section out (a quicker run by hand).
if [ "${XPCI_VM_LOAD:-1}" = 0 ]; then
    tap_skip "load: the PV handshake with the guest starved of CPU" \
        "XPCI_VM_LOAD=0"
    tap_done
    exit $?
fi

# ---------------------------------------------------------------- load
# The guest's vCPU and a hog in dom0 share physical CPU 1, the guest with
# an eighth of dom0's scheduler weight.
load_start()
{
    xl vcpu-pin "$G" 0 1 &&
        xl vcpu-pin Domain-0 0 0 && xl vcpu-pin Domain-0 1 1 || return 1
    xl sched-credit2 -d "$G" -w 32 2>/dev/null ||
        xl sched-credit -d "$G" -w 32 || return 1
    taskset -c 1 sh -c 'while :; do :; done' &
    HOGS=$!
    xl vcpu-list | grep -E "^($G|Domain-0) "
}
# The e1000 stays with the guest through the load, so that its backend
# is connected and each attach and detach is a hot-plug handshake
# (removing a backend the guest is still connecting to wedges pcifront:
# see README.md).
anchor()
{
    run anchor-add xpci assignable-add "$plain" &&
        run anchor-attach xpci attach "$G" "$plain" ||
        { echo "$OUTPUT"; return 1; }
    wait_for 120 "$G to bind its e1000" \
        guest_has "$G" " $E1000_ID driver=e1000"
}
tap_check "$plain (e1000) attached to $G, bound there, kept through the load" \
    anchor
tap_check "load: a dom0 hog pinned beside $G's vCPU (pCPU 1), $G at weight 32" \
    load_start

# Left detaching: the guest dropped it, pciback's entry is Closing or
# Closed, Xen still gives it to the guest.
detaching()
{
    local s
    s=$(pci_backend_sub "$dg" "$bdf") || return 1
    { [ "$s" = 5 ] || [ "$s" = 6 ]; } && xen_owner_is "$bdf" "$dg" &&
        domid_is "$bdf" "$dg" && lacks_nic
}
agree_held()
{
    wait_for 90 "guest, xenstore, pciback and Xen to agree it is held" \
        held_everywhere || { evidence; return 1; }
}
agree_detaching()
{
    wait_for 60 "guest, xenstore and Xen to agree it is being detached" \
        detaching || { evidence; return 1; }
}

# load_cmd OP NAME [TIMEOUT]: xpci OP of the e1000e under load with the
# short timeout (or TIMEOUT), its output kept in
# $XPCI_VM_OUT/70-load-NAME.txt; sets RC and OUTPUT.
load_cmd()
{
    local t0 out="$XPCI_VM_OUT/70-load-$2.txt"
    t0=$(now_s)
    timeout 200 xpci "$1" --timeout "${3:-$LOAD_TIMEOUT}" "$G" "$bdf" \
        > "$out" 2>&1
    RC=$?
    OUTPUT=$(cat "$out")
    diag "$1 ($2): exit $RC after $(since "$t0") s" "$OUTPUT"
}
# says TEXT: the command failed (exit 1) and its message has TEXT
says()
{
    [ "$RC" -eq 1 ] && printf '%s' "$OUTPUT" | grep -q "$1"
}

# load_detach C TRY: xpci detach under load; 0 once it is free.
load_detach()
{
    if [ "$2" -le 2 ]; then
        load_cmd detach "detach-$1-$2"
    else
        load_cmd detach "detach-$1-$2" 10
    fi
    if [ "$RC" -eq 0 ]; then
        tap_check "cycle $1: detach (try $2) exit 0: free by guest, xenstore, pciback, Xen" \
            back_free
        return $?
    elif says 'run xpci detach again'; then
        tap_check "cycle $1: detach (try $2) left it detaching: guest dropped it, entry Closing, Xen still the guest's" \
            agree_detaching
    elif says 'undone'; then
        tap_check "cycle $1: detach (try $2) undone: still held by every account" \
            agree_held
    else
        tap_fail "cycle $1: detach (try $2) exits 0, or 1 (detaching or undone)" \
            "exit $RC" "$OUTPUT"
    fi
    return 1
}

t_load=$(date +%s)
c=1
while [ "$c" -le "$LOAD_CYCLES" ]; do
    if [ $(($(date +%s) - t_load)) -ge "$LOAD_BUDGET" ]; then
        diag "load: ${LOAD_BUDGET} s spent, no cycle $c"
        break
    fi
    # Attach and detach both with the short timeout: whatever the starved
    # guest has done by then, xpci either finishes, undoes what the guest
    # never began, or leaves the function the guest's to finish taking.
    load_cmd attach "attach-$c"
    if [ "$RC" -eq 0 ]; then
        tap_check "cycle $c: attach exit 0: held by every account" \
            agree_held
    elif says 'left attached to the guest'; then
        tap_check "cycle $c: attach left it attaching: the guest finishes taking it, held by every account" \
            agree_held && RC=0
    elif says 'undone'; then
        tap_check "cycle $c: attach undone before the guest began: free by every account" \
            back_free
    else
        tap_fail "cycle $c: attach exits 0, or 1 (attaching or undone)" \
            "exit $RC" "$OUTPUT"
    fi
    if [ "$RC" -eq 0 ]; then
        try=1
        until load_detach "$c" "$try" || [ "$try" -ge 4 ]; do
            try=$((try + 1))
        done
        [ "$RC" -eq 0 ] || tap_fail "cycle $c: detach finished within 4 tries"
    fi
    c=$((c + 1))
done
t_load=$(($(date +%s) - t_load))
tap_check "load: $((c - 1)) cycle(s) in $t_load s, bounded ($((LOAD_BUDGET + 400)) s)" \
    [ "$t_load" -lt $((LOAD_BUDGET + 400)) ]
load_stop
tap_check "no journal left after the load" sh -c "[ ! -e $JOURNAL ]"
tap_check "$bdf free at the end (guest, xenstore, pciback, Xen)" back_free

tap_done
