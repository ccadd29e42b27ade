#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# attach-latency - benchmark (not a test): hot-plug the e1000e into one
# running PV guest with "xl pci-attach" and with "xpci attach", in turns
# in the same boot, each followed by the same tool's detach; print the
# medians and the ratio xpci/xl.
#
# xl pci-attach returns once libxl has written the backend, before the
# guest's pcifront has connected; xpci attach waits for that handshake.
# So two times are taken for every attach, from the moment the command
# is started:
#   cmd      the command returns
#   ready    pciback's backend and pcifront both in state 4 (connected)
#            with the function published (its state-N 3 or 4): the
#            last change of either state, seen through a xenstore watch
#            that does not disturb the handshake (see watch_ready)
# Only "cmd" is the command's own wall time; "ready" is the fair
# comparison.  Every attach must then show in the guest's PCI report with
# its e1000e driver bound (checked, not timed).  Before the next attach the function is detached, gone
# from the backend and from the guest's report, and back in quarantine.
#
# Both tools take the backend away with the last function, and the guest
# tears its PCI frontend down after that on its own time: an attach that
# starts too early waits for that teardown.  So after every detach the
# backend and frontend directories must be gone, and then the guest gets
# XPCI_BENCH_SETTLE seconds (default 3) before the next attach.
# "xpci attach --dry-run" is timed too: xpci's own cost (start, scan,
# checks, plan) without the hypervisor, xenstore or the guest.
#
# XPCI_BENCH_ATTACH_RUNS sets the number of timed attaches per tool
# (default 10), after one untimed warm-up each.  Without the xpci stage
# only xl is measured.
. "$XPCI_VM_IN/lib.sh"

E1000E_ID=8086:10d3
GUEST=xpci-bench
RUNS=${XPCI_BENCH_ATTACH_RUNS:-10}
SETTLE=${XPCI_BENCH_SETTLE:-3}
trap 'guest_destroy_all' EXIT

bdf=$(find_bdf "$E1000E_ID")
[ -n "$bdf" ] || { tap_fail "an e1000e ($E1000E_ID)" "$(lspci -n)"; tap_done; exit 1; }
have_xpci=${XPCI_VM_HAVE_XPCI:-0}
# Stop starting rounds when the scenario's time limit comes near.
t_start=$(date +%s)
budget=$((${XPCI_VM_SCENARIO_TIMEOUT:-510} - 90))

# Milliseconds since the epoch.
ms_now()
{
    echo $(($(date +%s%N) / 1000000))
}

median()
{
    tr ' ' '\n' | grep . | sort -n | awk '
        { v[NR] = $1 }
        END { if (NR == 0) exit 1
              if (NR % 2) print v[(NR + 1) / 2]
              else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio()
{
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

# Is the function published and both ends connected?
ready()
{
    xenstore-ls -f "$BE" 2>/dev/null | awk -v bdf="$bdf" '
        { k = $1; sub(/.*\//, "", k); v = $0; sub(/^[^=]* = /, "", v)
          gsub(/"/, "", v); val[k] = v }
        END { if (val["state"] != 4) exit 1
              for (k in val)
                  if (k ~ /^dev-[0-9]+$/ && val[k] == bdf) {
                      s = val["state-" substr(k, 5)]
                      if (s == 3 || s == 4) exit 0
                  }
              exit 1 }' &&
        [ "$(xenstore-read "$FE/state" 2>/dev/null)" = 4 ]
}

# The backend no longer has the function (or is gone) and the guest no
# longer lists it.
gone()
{
    ! xenstore-ls -f "$BE" 2>/dev/null | grep -q "/dev-[0-9]* = \"$bdf\"" &&
        guest_lacks "$GUEST" " $E1000E_ID "
}

drop_tool()
{
    local x
    for x in $tools; do [ "$x" = "$1" ] || printf '%s ' "$x"; done
}
visible() { guest_has "$GUEST" " $E1000E_ID "; }
bound() { guest_has "$GUEST" " $E1000E_ID driver=e1000e"; }

# poll SECONDS CMD...: a tight wait (0.05 s), quiet; 1 at the deadline.
poll()
{
    local end=$(($(date +%s) + $1 * XPCI_VM_SLOW))
    shift
    until "$@" > /dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# one TOOL: attach, the two times in T_CMD T_READY (ms), wait
# for the guest's driver, detach, wait until it is gone.  1 on a failure,
# with ERR set.
one()
{
    local tool=$1 t0 wpid rpid
    ERR=
    watch_ready
    t0=$(ms_now)
    echo "$t0" > /tmp/bench-go
    if [ "$tool" = xl ]; then
        xl pci-attach "$GUEST" "$bdf" > /tmp/bench-attach.out 2>&1
    else
        xpci attach "$GUEST" "$bdf" > /tmp/bench-attach.out 2>&1
    fi || { ERR="$tool attach failed: $(cat /tmp/bench-attach.out)"; return 1; }
    T_CMD=$(($(ms_now) - t0))
    wait "$rpid"
    kill "$wpid" 2> /dev/null
    ready || { ERR="$tool: backend not connected"; return 1; }
    T_READY=$(($(tail -n 1 /tmp/bench-events | cut -d' ' -f1) - t0))
    poll 60 visible || { ERR="$tool: not in the guest's report"; return 1; }
    poll 60 bound || { ERR="$tool: the guest's e1000e did not bind"; return 1; }
    if [ "$tool" = xl ]; then
        xl pci-detach "$GUEST" "$bdf" > /tmp/bench-detach.out 2>&1
    else
        xpci detach "$GUEST" "$bdf" > /tmp/bench-detach.out 2>&1
    fi || { ERR="$tool detach failed: $(cat /tmp/bench-detach.out)"; return 1; }
    poll 60 gone || { ERR="$tool: still attached after detach"; return 1; }
    xen_owner_is "$bdf" io || { ERR="$tool: not back in quarantine"; return 1; }
    poll 60 dirs_gone || { ERR="$tool: backend or frontend left"; return 1; }
    sleep "$SETTLE"
}

# When both ends got connected, without disturbing the handshake: dom0
# and the guest share QEMU's one thread, so anything that polls (or forks
# per event) while the handshake runs slows it down.  A xenstore watch on
# both states feeds a bash loop that only stamps each event (bash's clock,
# no fork) into /tmp/bench-events, and ends once nothing has changed for
# QUIET seconds after /tmp/bench-go (the start, in ms) appeared.  The last
# event is the moment the second end reached Connected; ready() confirms
# it afterwards.  Sets wpid (the watch) and rpid (the loop).
QUIET=2.5
watch_ready()
{
    rm -f /tmp/bench-go /tmp/bench-events /tmp/bench-fifo
    mkfifo /tmp/bench-fifo
    timeout 60 xenstore-watch "$FE/state" "$BE/state" \
        > /tmp/bench-fifo 2> /dev/null &
    wpid=$!
    # shellcheck disable=SC2016
    bash -c 'last=0
        while :; do
            if IFS= read -r -t "$1" p; then
                last=${EPOCHREALTIME/./}
                echo "$((last / 1000)) $p"
            elif [ $? -le 128 ]; then
                exit 0
            elif [ -s /tmp/bench-go ]; then
                read -r go < /tmp/bench-go
                [ $((last / 1000)) -gt "$go" ] && exit 0
            fi
        done' quiet "$QUIET" < /tmp/bench-fifo > /tmp/bench-events &
    rpid=$!
    sleep 0.5 # the watch is registered (it fires at once), not timed
}

dirs_gone() { ! xenstore-exists "$BE" && ! xenstore-exists "$FE"; }

# The time of "xpci attach --dry-run", in T_DRY (ms).
dry()
{
    local t0
    t0=$(ms_now)
    xpci attach --dry-run "$GUEST" "$bdf" > /tmp/bench-dry.out 2>&1 ||
        { ERR="xpci attach --dry-run failed: $(cat /tmp/bench-dry.out)"; return 1; }
    T_DRY=$(($(ms_now) - t0))
}

evidence()
{
    echo "$ERR"
    echo "xenstore-ls -f $BE:"
    xenstore-ls -f "$BE" 2>&1 | tail -n 20
    xl dmesg | tr -d '\r' | tail -n 8
    guest_console "$GUEST" | tail -n 8
}

# ---------------------------------------------------------------- setup
wait_for 30 "dom0's e1000e interface" dev_netif "$bdf"
for i in $(dev_netif "$bdf"); do ip link set "$i" down; done
tap_check "xl pci-assignable-add $bdf" xl pci-assignable-add "$bdf" || {
    tap_done; exit 1; }
if guest_create "$GUEST"; then
    tap_ok "PV guest $GUEST running, no PCI device"
else
    tap_fail "PV guest $GUEST" "$(guest_console "$GUEST" | tail -n 20)"
    tap_done
    exit 1
fi
domid=$(guest_domid "$GUEST")
BE=$(pci_backend "$domid")
FE=/local/domain/$domid/device/pci/0

tools=xl
if [ "$have_xpci" = 1 ]; then
    tools="xl xpci"
else
    tap_skip "xpci attach" "no xpci stage: xl only"
fi
# Warm-up (page cache, first hot-plug in the guest), not timed.
for t in $tools; do
    if one "$t"; then
        tap_ok "warm-up: $t attach and detach"
    else
        tap_fail "warm-up: $t attach and detach" "$(evidence)"
        tools=$(drop_tool "$t")
        poll 60 gone || break
    fi
done

# ---------------------------------------------------------------- rounds
# The tools take turns, so a change in the host's load hits both.
xl_cmd= xl_ready= xpci_cmd= xpci_ready= xpci_dry=
n=0
while [ "$n" -lt "$RUNS" ] && [ -n "$(echo "$tools" | tr -d ' ')" ]; do
    if [ $(($(date +%s) - t_start)) -ge "$budget" ]; then
        diag "time limit near: stopping after $n rounds"
        break
    fi
    n=$((n + 1))
    for t in $tools; do
        if [ "$t" = xpci ] && dry; then
            xpci_dry="$xpci_dry $T_DRY"
            diag "round $n xpci attach --dry-run: $T_DRY ms"
        fi
        if one "$t"; then
            eval "${t}_cmd=\"\$${t}_cmd $T_CMD\""
            eval "${t}_ready=\"\$${t}_ready $T_READY\""
            diag "round $n $t: cmd $T_CMD ms, ready $T_READY ms"
        else
            tap_fail "round $n: $t attach and detach" "$(evidence)"
            tools=$(drop_tool "$t")
            poll 60 gone || break 2
        fi
    done
done

# ---------------------------------------------------------------- figures
report()
{
    local t=$1 what=$2 c r v k
    eval "c=\$${t}_cmd r=\$${t}_ready"
    k=$(echo $c | wc -w)
    if [ "$k" -lt "$RUNS" ]; then
        tap_fail "$what: $RUNS timed attaches" "only $k"
        [ "$k" -gt 0 ] || return 1
    fi
    eval "${t}_mcmd=$(echo $c | median) ${t}_mready=$(echo $r | median)"
    eval "tap_ok \"$what, median of $k: cmd \$${t}_mcmd ms, ready \$${t}_mready ms\""
}
report xl "xl pci-attach"
[ "$have_xpci" = 1 ] && report xpci "xpci attach"

line="BENCH attach e1000e runs=$RUNS xl_cmd_ms=${xl_mcmd:--} xl_ready_ms=${xl_mready:--}"
if [ -n "${xpci_mcmd:-}" ] && [ -n "${xl_mcmd:-}" ]; then
    r_cmd=$(ratio "$xpci_mcmd" "$xl_mcmd")
    r_ready=$(ratio "$xpci_mready" "$xl_mready")
    diag "BENCH attach (median ms)   command returns   ready (both ends connected)"
    diag "$(printf 'xl pci-attach               %8s          %8s' "$xl_mcmd" "$xl_mready")"
    diag "$(printf 'xpci attach                 %8s          %8s' "$xpci_mcmd" "$xpci_mready")"
    diag "$(printf 'ratio xpci/xl               %8s          %8s' "$r_cmd" "$r_ready")"
    xpci_mdry=$(echo $xpci_dry | median) || xpci_mdry=-
    diag "xpci attach --dry-run (start, scan, checks, plan): median $xpci_mdry ms"
    diag "target: ratio <= 0.5 (command returns); xpci's command includes the handshake, xl's does not"
    line="$line xpci_cmd_ms=$xpci_mcmd xpci_ready_ms=$xpci_mready xpci_dry_run_ms=$xpci_mdry ratio=$r_cmd ratio_ready=$r_ready"
fi
diag "$line"
echo "$line" > "$XPCI_VM_OUT/bench-attach.txt"
tap_done
