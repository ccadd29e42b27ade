#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# 10-xl-baseline - proves the rig with Xen's own toolstack: the e1000e goes
# from dom0 to quarantine (xl pci-assignable-add), to a PV guest at creation,
# out of it and back in while it runs (pci-detach / pci-attach), and home
# to dom0's e1000e driver (pci-assignable-remove -r).  Each step is checked
# where it shows: sysfs, xenstore, Xen's log and the guest's console.
. "$XPCI_VM_IN/lib.sh"

E1000E_ID=8086:10d3
GUEST=xpci-g1
trap 'guest_destroy_all' EXIT

if xen_iommu_on; then
    tap_ok "IOMMU enabled (xl info virt_caps / Xen log)"
else
    tap_fail "IOMMU enabled (xl info virt_caps / Xen log)" \
        "$(xl info | grep virt_caps)"
fi

bdf=$(find_bdf "$E1000E_ID")
if [ -z "$bdf" ]; then
    tap_fail "an e1000e ($E1000E_ID) is present" "$(lspci -n)"
    tap_done
    exit 1
fi
tap_ok "e1000e found at $bdf"
key=$(bdf_key "$bdf")
if wait_for 30 "e1000e bound with a network interface" dev_netif "$bdf"; then
    tap_ok "dom0 drives it: $(dev_driver "$bdf"), $(dev_netif "$bdf")"
else
    tap_fail "dom0 drives it" "driver: $(dev_driver "$bdf")"
fi

# ---------------------------------------------------------------- quarantine
tap_check "xl pci-assignable-add $bdf" xl pci-assignable-add "$bdf"
tap_check "xl pci-assignable-list shows it" \
    xl_assignable "$bdf"
if [ "$(dev_driver "$bdf")" = pciback ]; then
    tap_ok "driver is now pciback"
else
    tap_fail "driver is now pciback" "driver: $(dev_driver "$bdf")"
fi
tap_check "pciback slots lists it" \
    grep -q "$bdf" /sys/bus/pci/drivers/pciback/slots
path=$(xenstore-read "/libxl/pci/$key/driver_path" 2>&1)
if [ "$path" = /sys/bus/pci/drivers/e1000e ]; then
    tap_ok "xenstore /libxl/pci/$key/driver_path = $path"
else
    tap_fail "xenstore /libxl/pci/$key/driver_path" "got: $path"
fi
tap_check "Xen's IOMMU log: moved to quarantine" xen_owner_is "$bdf" io

# ---------------------------------------------------------------- guest
if guest_create "$GUEST" "$bdf"; then
    tap_ok "xl create a PV guest with pci = ['$bdf']"
else
    tap_fail "xl create a PV guest with pci = ['$bdf']" \
        "$(guest_console "$GUEST" | tail -n 20)"
fi
domid=$(guest_domid "$GUEST")
diag "guest $GUEST is domain ${domid:-?}"
tap_check "Xen's IOMMU log: moved to domain $domid" xen_owner_is "$bdf" "$domid"

seen_in_guest()
{
    guest_has "$GUEST" " $E1000E_ID driver=e1000e"
}
if wait_for 120 "the guest's e1000e driver to bind" seen_in_guest; then
    tap_ok "guest sees the device, e1000e bound: $(guest_pci "$GUEST" | grep "$E1000E_ID")"
else
    tap_fail "guest sees the device with e1000e bound" \
        "last report: $(guest_pci "$GUEST")" \
        "$(guest_console "$GUEST" | tail -n 15)"
fi
tap_check "xl pci-list $GUEST shows it" \
    sh -c "xl pci-list '$GUEST' | grep -q '$bdf'"
tap_check "xenstore /libxl/pci/$key/domid = $domid" \
    sh -c "[ \"\$(xenstore-read /libxl/pci/$key/domid)\" = '$domid' ]"
tap_check "xenstore backend/pci/$domid/0 has dev-0 = $bdf" \
    sh -c "[ \"\$(xenstore-read /local/domain/0/backend/pci/$domid/0/dev-0)\" = '$bdf' ]"

# ---------------------------------------------------------------- unplug
tap_check "xl pci-detach $GUEST $bdf" xl pci-detach "$GUEST" "$bdf"
gone_from_guest()
{
    guest_lacks "$GUEST" " $E1000E_ID "
}
if wait_for 60 "the device to leave the guest" gone_from_guest; then
    tap_ok "guest console: device gone"
else
    tap_fail "guest console: device gone" "last report: $(guest_pci "$GUEST")"
fi
tap_check "Xen's IOMMU log: back in quarantine" xen_owner_is "$bdf" io
tap_check "xl pci-list $GUEST is empty" \
    sh -c "[ -z \"\$(xl pci-list '$GUEST' | grep '$bdf')\" ]"
tap_check "still assignable after detach" \
    xl_assignable "$bdf"

# ---------------------------------------------------------------- hot-plug
tap_check "xl pci-attach $GUEST $bdf (hot-plug)" xl pci-attach "$GUEST" "$bdf"
if wait_for 120 "the device to come back in the guest" seen_in_guest; then
    tap_ok "guest sees it again, e1000e bound"
else
    tap_fail "guest sees it again, e1000e bound" \
        "last report: $(guest_pci "$GUEST")" \
        "$(guest_console "$GUEST" | tail -n 15)"
fi

tap_check "Xen's IOMMU log: moved to domain $domid again" \
    xen_owner_is "$bdf" "$domid"

# ---------------------------------------------------------------- home
tap_check "xl destroy $GUEST" xl destroy "$GUEST"
tap_check "still assignable after destroy" \
    xl_assignable "$bdf"
tap_check "Xen's IOMMU log: back in quarantine after destroy" \
    xen_owner_is "$bdf" io
tap_check "xl pci-assignable-remove -r $bdf" xl pci-assignable-remove -r "$bdf"
if wait_for 30 "e1000e to bind again with a network interface" \
        dev_netif "$bdf" && [ "$(dev_driver "$bdf")" = e1000e ]; then
    tap_ok "back on e1000e in dom0 with $(dev_netif "$bdf")"
else
    tap_fail "back on e1000e in dom0 with a network interface" \
        "driver: $(dev_driver "$bdf")"
fi
# libxl removes driver_path but leaves the empty /libxl/pci/<key> node.
tap_check "Xen's IOMMU log: back in domain 0" xen_owner_is "$bdf" 0
tap_check "xenstore /libxl/pci/$key/driver_path removed" \
    sh -c "! xenstore-exists /libxl/pci/$key/driver_path"
tap_check "xl pci-assignable-list no longer shows it" \
    sh -c "! xl pci-assignable-list | grep -q '^$bdf'"

tap_done
