#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# dom0-run.sh - runs in the test dom0 (started by the image's /init from the
# 9p share): brings up the Xen toolstack the way Debian's init script does
# (xenfs, xenstored, xen-init-dom0, xenconsoled), installs xpci from the
# packages or the stage the host gave, then runs each scenario listed in
# in/scenarios.list with a time limit and collects the logs.
#
# Share layout (host: the boot's results directory):
#   in/   lib.sh, scenarios/, scenarios.list, debs/ or stage/ (optional),
#         probes/ (optional), ansible/, playbooks/, env, this file
#   out/  <scenario>.tap, <scenario>.rc, dom0-run.log, console/guest-*.log,
#         xen-dmesg.log, dom0-dmesg.log, xenstore.txt, lspci.txt, finished
S=/mnt/share
IN=$S/in
OUT=$S/out
# The image has one Xen release's tools: /usr/lib/xen-4.17 or xen-4.20.
XEN_BIN=$(ls -d /usr/lib/xen-4.*/bin 2>/dev/null | head -n1)
mkdir -p "$OUT/console"

log()
{
    echo "xpci-vm: $*"
    echo "$(date +%T) $*" >> "$OUT/dom0-run.log"
}

# Run a setup step; log its output and status.
step()
{
    local what=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    [ -n "$out" ] && echo "$out" >> "$OUT/dom0-run.log"
    if [ "$rc" -ne 0 ]; then
        log "FAILED ($rc): $what: $*"
        [ -n "$out" ] && echo "$out" | tail -n 5
    fi
    return "$rc"
}

# Poll (0.2 s) for up to $1 seconds.
poll()
{
    local deadline=$(( $(date +%s) + $1 ))
    shift
    until "$@" > /dev/null 2>&1; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

. "$IN/env"
log "dom0 up after $(cut -d' ' -f1 /proc/uptime) s; scenarios: $(tr '\n' ' ' < "$IN/scenarios.list")"

setup_ok=1
for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-pciback \
         e1000e e1000 nvme; do
    step "load $m" modprobe "$m" || setup_ok=0
done
step "mount xenfs" mount -t xenfs xenfs /proc/xen || setup_ok=0

mkdir -p /run/xen /run/xenstored /var/lib/xenstored /var/log/xen \
    /var/lib/xen /var/run/xen
export XENSTORED_ROOTDIR=/run/xenstored
step "start xenstored" "$XEN_BIN/xenstored" --pid-file /run/xenstore.pid ||
    setup_ok=0
poll 30 xenstore-read -s / || { log "xenstored did not answer"; setup_ok=0; }
step "xen-init-dom0" "$XEN_BIN/xen-init-dom0" || setup_ok=0
step "start xenconsoled" "$XEN_BIN/xenconsoled" \
    --pid-file=/run/xenconsoled.pid --log=guest --log-dir="$OUT/console" ||
    setup_ok=0

if [ -d "$IN/debs" ]; then
    # The packages as an administrator installs them: their file layout,
    # maintainer scripts, unit and udev rule are what the scenarios use.
    step "install the xpci packages" dpkg -i "$IN"/debs/*.deb || setup_ok=0
    log "xpci: $(dpkg-query -W -f='${Package} ${Version} ${Status}, ' \
        xpci libxpci0 2>&1) $(command -v xpci || echo missing)"
elif [ -d "$IN/stage" ]; then
    # The stage was installed with prefix=/usr: lay it over the root.
    step "install the xpci stage" cp -a "$IN/stage/." / && ldconfig ||
        setup_ok=0
    log "xpci: $(command -v xpci || echo missing)"
fi
if [ -d "$IN/probes" ]; then
    mkdir -p /usr/libexec/xpci-vm
    step "install the test probes" \
        cp -a "$IN/probes/." /usr/libexec/xpci-vm/ || setup_ok=0
fi
log "toolstack up after $(cut -d' ' -f1 /proc/uptime) s"
# Which Xen this boot runs, for the host's report.
echo "xen_version $(xl info 2>/dev/null | sed -n 's/^xen_version *: //p')" \
    "dom0 Linux $(uname -r)," \
    "Debian $(. /etc/os-release && echo "$VERSION_CODENAME"), tools $XEN_BIN" \
    > "$OUT/xen-version"
log "$(cat "$OUT/xen-version")"

status=0
while read -r name; do
    [ -n "$name" ] || continue
    log "scenario $name: start"
    t0=$(date +%s)
    if [ "$setup_ok" = 1 ]; then
        # Scenarios print TAP on stdout; it goes to the console and the
        # share.  timeout -k kills a scenario stuck in an uninterruptible
        # toolstack call after a grace period.
        ( cd /tmp && timeout -k 20 "$XPCI_VM_SCENARIO_TIMEOUT" \
              sh "$IN/scenarios/$name" 2>&1
          echo $? > "$OUT/$name.rc" ) | tee "$OUT/$name.tap"
    else
        echo "Bail out! dom0 toolstack setup failed (see dom0-run.log)" |
            tee "$OUT/$name.tap"
        echo 99 > "$OUT/$name.rc"
    fi
    rc=$(cat "$OUT/$name.rc" 2>/dev/null || echo 99)
    [ "$rc" = 124 ] && log "scenario $name: TIME LIMIT (${XPCI_VM_SCENARIO_TIMEOUT}s) hit"
    log "scenario $name: exit $rc after $(( $(date +%s) - t0 )) s"
    [ "$rc" = 0 ] || status=1
done < "$IN/scenarios.list"

# Everything worth reading after the fact.
xl dmesg > "$OUT/xen-dmesg.log" 2>&1
dmesg > "$OUT/dom0-dmesg.log" 2>&1
xenstore-ls -fp > "$OUT/xenstore.txt" 2>&1
lspci -nnk > "$OUT/lspci.txt" 2>&1
xl list > "$OUT/xl-list.txt" 2>&1
cp /var/log/xen/*.log "$OUT/" 2>/dev/null
echo "$status" > "$OUT/finished"
log "done, status $status, uptime $(cut -d' ' -f1 /proc/uptime) s"
sync
