#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# 40-xpci-assignable - xpci hides the e1000e on a real Xen (pciback,
# quarantine, libxl's records), a PV guest created by xl uses it, xpci gives
# it back; interop with xl both ways; and the boot-time reconcile re-hides
# the persistent set before the NIC driver is loaded.  Needs the xpci stage.
. "$XPCI_VM_IN/lib.sh"

E1000E_ID=8086:10d3
GUEST=xpci-g40

if [ "${XPCI_VM_HAVE_XPCI:-0}" != 1 ]; then
    tap_skip_all "no xpci stage (XPCI_STAGE unset on the host)"
    exit 0
fi
bdf=$(find_bdf "$E1000E_ID")
[ -n "$bdf" ] || { tap_fail "an e1000e is present"; tap_done; exit 1; }
key=$(bdf_key "$bdf")
diag "e1000e at $bdf"

driver_is() { [ "$(dev_driver "$1")" = "$2" ]; }
in_slots() { grep -qx "$1" /sys/bus/pci/drivers/pciback/slots; }
xs_is() { [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]; }
back_on_e1000e() { driver_is "$bdf" e1000e && dev_netif "$bdf"; }
json_has() { xpci "$@" | jq -e --arg bdf "$bdf" "$JQ" > /dev/null; }

# dom0's interface may be up: take it down so no --force is needed.
for i in $(dev_netif "$bdf"); do ip link set "$i" down; done

# ---------------------------------------------------------------- plan
out=/tmp/xpci-dry.$$
xpci assignable-add --dry-run "$bdf" > "$out" 2>&1
if grep -q "drivers/e1000e/unbind" "$out" &&
        grep -q "xc_assign_device(DOMID_IO)" "$out" &&
        grep -q "xenstore write /libxl/pci/$key/driver_path" "$out"; then
    tap_ok "--dry-run prints the sysfs writes, hypercall and xenstore writes"
else
    tap_fail "--dry-run prints the plan" "$(cat "$out")"
fi
tap_check "--dry-run changed nothing (still on e1000e)" driver_is "$bdf" e1000e
rm -f "$out"

# ---------------------------------------------------------------- hide
tap_check "xpci assignable-add $bdf" xpci -v assignable-add "$bdf"
tap_check "bound to pciback" driver_is "$bdf" pciback
tap_check "listed in pciback's slots" in_slots "$bdf"
tap_check "driver_override cleared once pciback has it (xl can rebind)" \
    grep -qx '(null)' "/sys/bus/pci/devices/$bdf/driver_override"
tap_check "Xen's IOMMU log: moved to quarantine" xen_owner_is "$bdf" io
tap_check "libxl record: /libxl/pci/$key/driver_path" \
    xs_is "/libxl/pci/$key/driver_path" /sys/bus/pci/drivers/e1000e
tap_check "xl pci-assignable-list shows it" xl_assignable "$bdf"
JQ='[.devices[] | select(.bdf == $bdf and .quarantined and .in_pciback and .original_driver == "e1000e")] | length == 1'
tap_check "xpci assignable-list --json: quarantined, original driver e1000e" \
    json_has assignable-list --json
tap_check "persistent set records it" grep -q "^$bdf " /var/lib/xpci/assignable
tap_check "audit log records it" grep -q "op=assignable-add dev=$bdf" \
    /var/log/xpci/audit.log
tap_check "assignable-add again is a no-op" \
    sh -c "xpci assignable-add '$bdf' | grep -q 'already assignable'"

# ---------------------------------------------------------------- a guest
if guest_create "$GUEST" "$bdf"; then
    tap_ok "xl create with pci=['$bdf'] (hidden by xpci)"
    if wait_for 120 "the guest's e1000e to bind" \
            guest_has "$GUEST" " $E1000E_ID driver=e1000e"; then
        tap_ok "the guest sees the e1000e with its driver bound"
    else
        tap_fail "the guest sees the e1000e" "$(guest_pci "$GUEST")"
    fi
    tap_check "xpci assignable-remove refuses while the guest holds it" \
        sh -c "! xpci assignable-remove -r '$bdf'"
    tap_check "still on pciback after the refusal" driver_is "$bdf" pciback
    tap_check "xl destroy $GUEST" xl destroy "$GUEST"
    tap_check "back in quarantine after destroy" xen_owner_is "$bdf" io
else
    tap_fail "xl create with pci=['$bdf']" "$(guest_console "$GUEST" | tail -n 20)"
fi

# ---------------------------------------------------------------- give back
tap_check "xpci assignable-remove -r $bdf" xpci assignable-remove -r "$bdf"
if wait_for 30 "e1000e and its interface" back_on_e1000e; then
    tap_ok "back on e1000e with interface $(dev_netif "$bdf")"
else
    tap_fail "back on e1000e with an interface" "driver: $(dev_driver "$bdf")"
fi
tap_check "Xen's IOMMU log: back in domain 0" xen_owner_is "$bdf" 0
tap_check "not in pciback's slots" sh -c "! grep -qx '$bdf' /sys/bus/pci/drivers/pciback/slots"
tap_check "libxl record gone" sh -c "! xenstore-exists /libxl/pci/$key/driver_path"
tap_check "xl pci-assignable-list no longer shows it" sh -c "! xl pci-assignable-list | grep -q '^$bdf'"
tap_check "persistent set no longer has it" sh -c "! grep -q '^$bdf ' /var/lib/xpci/assignable"

# ---------------------------------------------------------------- xl -> xpci
for i in $(dev_netif "$bdf"); do ip link set "$i" down; done
tap_check "xl pci-assignable-add $bdf" xl pci-assignable-add "$bdf"
JQ='[.devices[] | select(.bdf == $bdf and .libxl_record and .original_driver == "e1000e")] | length == 1'
tap_check "xpci assignable-list sees xl's device" json_has assignable-list --json
tap_check "xpci assignable-remove -r of xl's device" xpci assignable-remove -r "$bdf"
tap_check "xl's device is back on e1000e" wait_for 30 "e1000e" back_on_e1000e
tap_check "xl pci-assignable-list no longer shows it" sh -c "! xl pci-assignable-list | grep -q '^$bdf'"

# ---------------------------------------------------------------- xpci -> xl
for i in $(dev_netif "$bdf"); do ip link set "$i" down; done
tap_check "xpci assignable-add $bdf" xpci assignable-add "$bdf"
tap_check "xl pci-assignable-remove -r of xpci's device" xl pci-assignable-remove -r "$bdf"
tap_check "xpci's device is back on e1000e (xl used xpci's record)" \
    wait_for 30 "e1000e" back_on_e1000e
xpci assignable-remove "$bdf" > /dev/null 2>&1 # drop xpci's own record

# ---------------------------------------------------------------- reboot
# A fresh boot, as far as the function is concerned: hide it (persisted),
# then make pciback, the kernel and Xen forget it and unload the NIC
# driver; the function comes back with no driver, owned by dom0, and
# reconcile must hide and quarantine it again before e1000e is loaded.
for i in $(dev_netif "$bdf"); do ip link set "$i" down; done
tap_check "xpci assignable-add $bdf (persisted)" xpci assignable-add "$bdf"
echo "$bdf" > /sys/bus/pci/drivers/pciback/unbind
echo "$bdf" > /sys/bus/pci/drivers/pciback/remove_slot
modprobe -r e1000e
echo 1 > "/sys/bus/pci/devices/$bdf/remove"
echo 1 > /sys/bus/pci/rescan
tap_check "the function is back on the bus, without a driver" \
    wait_for 20 "rescan" driver_is "$bdf" none
# From the packages, boot runs what the unit and the udev rule say: run
# exactly that (no systemd or udevd in this dom0).
RECONCILE="xpci-pciback reconcile"
MATCH="xpci-pciback match"
UNIT=/lib/systemd/system/xpci-pciback.service
RULE=/lib/udev/rules.d/70-xpci-pciback.rules
if [ "${XPCI_VM_XPCI_FROM:-}" = deb ]; then
    RECONCILE=$(sed -n 's/^ExecStart=//p' "$UNIT")
    MATCH=$(sed -n 's/.*PROGRAM="\([^"]*\) %k".*/\1/p' "$RULE")
    tap_check "the packaged unit's ExecStart runs the packaged xpci-pciback" \
        sh -c "[ -n '$RECONCILE' ] && dpkg -S '${RECONCILE%% *}' | grep -q '^xpci:'"
    tap_check "the packaged udev rule's PROGRAM runs the packaged xpci-pciback" \
        sh -c "[ -n '$MATCH' ] && dpkg -S '${MATCH%% *}' | grep -q '^xpci:'"
fi
tap_check "xpci-pciback reconcile ($RECONCILE)" $RECONCILE
tap_check "re-hidden: bound to pciback" driver_is "$bdf" pciback
tap_check "re-quarantined" xen_owner_is "$bdf" io
modprobe e1000e
tap_check "loading e1000e afterwards leaves it on pciback" driver_is "$bdf" pciback
tap_check "xpci-pciback match says pciback for it ($MATCH)" \
    sh -c "[ \"\$($MATCH '$bdf')\" = pciback ]"
tap_check "xpci assignable-remove -r after reconcile" xpci assignable-remove -r "$bdf"
tap_check "back on e1000e" wait_for 30 "e1000e" back_on_e1000e

tap_done
