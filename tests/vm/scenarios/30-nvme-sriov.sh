#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# 30-nvme-sriov - SR-IOV with Xen's own toolstack, on QEMU's NVMe
# controller (1b36:0010, two VFs): dom0 enables the virtual functions, Xen
# learns about them, one VF goes to a PV guest whose nvme driver brings it
# up, and everything is undone.
#
# QEMU's VFs are NVMe secondary controllers: each needs flexible queue (VQ)
# and interrupt (VI) resources assigned while it is offline, and can only
# be set online once the VFs are enabled (before that, virt-mgmt fails with
# "Invalid Secondary Controller State").  A VF left offline fails the nvme
# probe with CSTS=0x2, so sriov_drivers_autoprobe is cleared while the VFs
# come up, and set again before they are probed.  Mind that while it is
# clear, Linux lets a VF bind to no driver but its driver_override
# (pci_device_can_probe): a write to pciback's bind fails with ENODEV, and
# so does xl pci-assignable-add.
. "$XPCI_VM_IN/lib.sh"

NVME_ID=1b36:0010
GUEST=xpci-nvme
VQ_PER_VF=2
VI_PER_VF=1
trap 'guest_destroy_all' EXIT

pf=$(find_bdf "$NVME_ID")
if [ -z "$pf" ]; then
    tap_fail "an NVMe controller ($NVME_ID) is present" "$(lspci -n)"
    tap_done
    exit 1
fi
d=/sys/bus/pci/devices/$pf
total=$(cat "$d/sriov_totalvfs" 2>/dev/null)
if [ "$(dev_driver "$pf")" = nvme ] && [ "${total:-0}" -ge 1 ]; then
    tap_ok "NVMe PF $pf on nvme with $total VFs possible"
else
    tap_fail "NVMe PF $pf on nvme with SR-IOV" \
        "driver $(dev_driver "$pf"), sriov_totalvfs '${total}'"
    tap_done
    exit 1
fi
ctrl=/dev/$(ls "$d/nvme" 2>/dev/null | head -n1)
diag "controller $ctrl"

# Secondary controller IDs, and the state of one of them.
scids()
{
    nvme list-secondary "$ctrl" | awk '/SCID/ { print $NF }'
}
scid_state()
{
    nvme list-secondary "$ctrl" | awk -v id="$1" '
        /SCID/ { cur = $NF } /SCS/ && cur == id { print $NF }'
}

# ---------------------------------------------------------------- resources
ok=1
for id in $(scids); do
    nvme virt-mgmt "$ctrl" -c "$id" -r 0 -a 8 -n "$VQ_PER_VF" > /dev/null &&
        nvme virt-mgmt "$ctrl" -c "$id" -r 1 -a 8 -n "$VI_PER_VF" > /dev/null ||
        ok=0
done
if [ "$ok" = 1 ] && [ -n "$(scids)" ]; then
    tap_ok "flexible resources assigned to secondary controllers $(scids | tr '\n' ' ')"
else
    tap_fail "flexible resources assigned to the secondary controllers" \
        "$(nvme list-secondary "$ctrl" 2>&1)"
fi

# ---------------------------------------------------------------- VFs
echo 0 > "$d/sriov_drivers_autoprobe"
tap_check "enable $total VFs (sriov_numvfs)" \
    sh -c "echo $total > $d/sriov_numvfs"
vfs_present()
{
    [ "$(ls -d "$d"/virtfn* 2>/dev/null | wc -l)" -eq "$total" ]
}
wait_for 30 "the VFs" vfs_present
vfs=
for l in "$d"/virtfn*; do
    [ -L "$l" ] && vfs="$vfs $(basename "$(readlink "$l")")"
done
vfs=${vfs# }
vf=${vfs%% *}
if vfs_present; then
    tap_ok "VFs present: $vfs"
else
    tap_fail "VFs present" "$(ls -l "$d")"
fi
if [ -n "$vf" ] && [ "$(cat "/sys/bus/pci/devices/$vf/physfn/uevent" 2>/dev/null |
        sed -n 's/^PCI_SLOT_NAME=//p')" = "$pf" ]; then
    tap_ok "$vf links back to its PF $pf"
else
    tap_fail "the VF links back to its PF" "vf '$vf'"
fi
tap_check "Xen registered the VFs (PCI add virtual function)" \
    sh -c "for v in $vfs; do xl dmesg | grep -q \"PCI add virtual function \$v\" || exit 1; done"

ok=1
for id in $(scids); do
    nvme virt-mgmt "$ctrl" -c "$id" -a 9 > /dev/null || ok=0
done
online()
{
    for id in $(scids); do
        scid_state "$id" | grep -q Online || return 1
    done
}
if [ "$ok" = 1 ] && wait_for 10 "secondary controllers online" online; then
    tap_ok "secondary controllers online"
else
    tap_fail "secondary controllers online" "$(nvme list-secondary "$ctrl" 2>&1)"
fi

# The first VF goes to the guest without ever meeting dom0's nvme driver
# (its driver_override names pciback); the others go to dom0's nvme.
vf_rest=${vfs#"$vf"}
echo pciback > "/sys/bus/pci/devices/$vf/driver_override"
echo 1 > "$d/sriov_drivers_autoprobe"
for v in $vf_rest; do
    echo "$v" > /sys/bus/pci/drivers_probe
done
# Bound is not enough: nvme probes asynchronously; wait for the controller
# to be live.
vfs_on_nvme()
{
    for v in $vf_rest; do
        [ "$(dev_driver "$v")" = nvme ] &&
            grep -qx live /sys/bus/pci/devices/$v/nvme/nvme*/state || return 1
    done
}
if wait_for 30 "dom0's nvme on the VFs" vfs_on_nvme; then
    tap_ok "dom0's nvme driver runs the other VFs:$vf_rest"
else
    tap_fail "dom0's nvme driver runs the other VFs" \
        "$(for v in $vf_rest; do echo "$v: $(dev_driver "$v")"; done)"
fi

# ---------------------------------------------------------------- guest
tap_check "xl pci-assignable-add $vf" xl pci-assignable-add "$vf"
tap_check "Xen's IOMMU log: VF in quarantine" xen_owner_is "$vf" io
if guest_create "$GUEST" "$vf"; then
    tap_ok "xl create a PV guest with the VF $vf"
else
    tap_fail "xl create a PV guest with the VF $vf" \
        "$(guest_console "$GUEST" | tail -n 20)"
fi
domid=$(guest_domid "$GUEST")
tap_check "Xen's IOMMU log: VF in domain $domid" xen_owner_is "$vf" "$domid"
vf_seen()
{
    guest_has "$GUEST" " $NVME_ID "
}
if wait_for 90 "the VF in the guest" vf_seen; then
    tap_ok "guest sees the VF: $(guest_pci "$GUEST" | grep "$NVME_ID")"
else
    tap_fail "guest sees the VF" "last report: $(guest_pci "$GUEST")" \
        "$(guest_console "$GUEST" | tail -n 15)"
fi
# The guest's nvme driver enables MSI-X with one vector for the admin
# queue, frees it and enables it again for the I/O queues.  Linux 6.1's PV
# frontend sends XEN_PCI_OP_disable_msi instead of disable_msix for that
# free (pciback's debug log shows "enable MSI-X", "MSI: 0", "enable MSI-X"),
# so MSI-X stays on in dom0 and the second enable fails with EALREADY
# ("enable msix get err ffffff8e" on the guest console).  A VF has no INTx
# to fall back to, so the probe hangs.  Linux 6.12 (Debian 13) fails the
# same way, with the same console lines.  Not a Xen or xpci matter.
vf_driven()
{
    wait_for 20 "the guest's nvme driver on the VF" \
        guest_has "$GUEST" " $NVME_ID driver=nvme nvme=nvme[0-9]+:live"
}
tap_todo "guest's nvme driver runs the VF" \
    "pcifront (Linux 6.1, 6.12) re-enables MSI-X still on (EALREADY)" \
    vf_driven

# ---------------------------------------------------------------- undo
tap_check "xl destroy $GUEST" xl destroy "$GUEST"
tap_check "xl pci-assignable-remove -r $vf" xl pci-assignable-remove -r "$vf"
tap_check "Xen's IOMMU log: VF back in domain 0" xen_owner_is "$vf" 0
# It had no driver before pciback, so -r has nothing to rebind: clear the
# override and let dom0's nvme probe it.
echo > "/sys/bus/pci/devices/$vf/driver_override"
echo "$vf" > /sys/bus/pci/drivers_probe
vf_on_nvme()
{
    [ "$(dev_driver "$vf")" = nvme ] &&
        grep -qx live /sys/bus/pci/devices/$vf/nvme/nvme*/state
}
if wait_for 30 "the VF on dom0's nvme" vf_on_nvme; then
    tap_ok "VF now runs on dom0's nvme"
else
    tap_fail "VF now runs on dom0's nvme" "driver: $(dev_driver "$vf")"
fi
tap_check "disable the VFs" sh -c "echo 0 > $d/sriov_numvfs"
vfs_gone()
{
    ! ls -d "$d"/virtfn* > /dev/null 2>&1
}
if wait_for 30 "the VFs to go" vfs_gone; then
    tap_ok "VFs removed"
else
    tap_fail "VFs removed" "$(ls "$d")"
fi
tap_check "Xen was told (PCI remove device $vf)" \
    sh -c "xl dmesg | grep -q 'PCI remove device $vf'"
tap_check "PF still on nvme" sh -c "[ \"\$(basename \$(readlink $d/driver))\" = nvme ]"

tap_done
