#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# assignable-vfs - benchmark (not a test): hide every VF of QEMU's NVMe
# controller with one "xpci assignable-add", give them back, then hide them
# with a loop of "xl pci-assignable-add", in the same boot; print both
# times and the ratio.  The VFs are brought up as in 30-nvme-sriov, bound
# to dom0's nvme driver, so both tools take them from a real driver.
. "$XPCI_VM_IN/lib.sh"

NVME_ID=1b36:0010
VQ_PER_VF=2
VI_PER_VF=1

if [ "${XPCI_VM_HAVE_XPCI:-0}" != 1 ]; then
    tap_skip_all "no xpci stage"
    exit 0
fi
pf=$(find_bdf "$NVME_ID")
d=/sys/bus/pci/devices/$pf
total=$(cat "$d/sriov_totalvfs" 2>/dev/null)
[ -n "$pf" ] && [ "${total:-0}" -ge 1 ] || {
    tap_fail "an SR-IOV NVMe controller" "$(lspci -n)"; tap_done; exit 1; }
ctrl=/dev/$(ls "$d/nvme" | head -n1)
scids() { nvme list-secondary "$ctrl" | awk '/SCID/ { print $NF }'; }

for id in $(scids); do
    nvme virt-mgmt "$ctrl" -c "$id" -r 0 -a 8 -n "$VQ_PER_VF" > /dev/null
    nvme virt-mgmt "$ctrl" -c "$id" -r 1 -a 8 -n "$VI_PER_VF" > /dev/null
done
echo 0 > "$d/sriov_drivers_autoprobe"
echo "$total" > "$d/sriov_numvfs"
vfs_present() { [ "$(ls -d "$d"/virtfn* 2>/dev/null | wc -l)" -eq "$total" ]; }
wait_for 60 "the VFs" vfs_present
for id in $(scids); do nvme virt-mgmt "$ctrl" -c "$id" -a 9 > /dev/null; done
vfs=
for l in "$d"/virtfn*; do vfs="$vfs $(basename "$(readlink "$l")")"; done
echo 1 > "$d/sriov_drivers_autoprobe"
for v in $vfs; do echo "$v" > /sys/bus/pci/drivers_probe 2>/dev/null; done
all_on_nvme() { for v in $vfs; do [ "$(dev_driver "$v")" = nvme ] || return 1; done; }
if wait_for 120 "the VFs on nvme" all_on_nvme; then
    tap_ok "$total VFs up on dom0's nvme driver"
else
    tap_fail "$total VFs up on nvme" "$(for v in $vfs; do echo "$v $(dev_driver "$v")"; done)"
    tap_done; exit 1
fi

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
t0=$(now_s)
if xpci assignable-add $vfs > /tmp/xpci-bench.out 2>&1; then
    t_xpci=$(ms "$t0" "$(now_s)")
    tap_ok "xpci assignable-add of $total VFs in one call: ${t_xpci} ms"
else
    tap_fail "xpci assignable-add of $total VFs" "$(cat /tmp/xpci-bench.out)"
fi
xpci assignable-remove -r $vfs > /dev/null 2>&1
wait_for 120 "the VFs back on nvme" all_on_nvme
t0=$(now_s)
ok=1
for v in $vfs; do xl pci-assignable-add "$v" 2> /tmp/xl-bench.err || ok=0; done
t_xl=$(ms "$t0" "$(now_s)")
if [ "$ok" = 1 ]; then
    tap_ok "xl pci-assignable-add loop over $total VFs: ${t_xl} ms"
else
    tap_fail "xl pci-assignable-add loop" "$(cat /tmp/xl-bench.err)"
fi
for v in $vfs; do xl pci-assignable-remove -r "$v" 2> /dev/null; done
if [ -n "${t_xpci:-}" ] && [ "${t_xl:-0}" -gt 0 ]; then
    ratio=$(awk -v a="$t_xpci" -v b="$t_xl" 'BEGIN { printf "%.2f", a / b }')
    diag "BENCH hide $total NVMe VFs: xpci ${t_xpci} ms, xl loop ${t_xl} ms, ratio ${ratio}x (target <= 0.5x)"
    echo "BENCH assignable-add vfs=$total xpci_ms=$t_xpci xl_ms=$t_xl ratio=$ratio" \
        > "$XPCI_VM_OUT/bench.txt"
fi
tap_done
