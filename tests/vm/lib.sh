# SPDX-License-Identifier: GPL-2.0-only
#
# lib.sh - helpers for the VM scenarios (POSIX sh, sourced inside dom0).
#
# TAP:       tap_ok DESC, tap_fail DESC [DETAIL...], tap_skip DESC REASON,
#            tap_check DESC CMD... (ok when CMD succeeds; its output is
#            shown as diagnostics when it fails), diag TEXT..., tap_done
#            (prints the plan and "N passed, N failed", returns 1 if any
#            failed: end a scenario with `tap_done; exit $?`),
#            tap_skip_all REASON (a scenario that cannot run here),
#            tap_todo DESC REASON CMD... (a known problem: TAP TODO)
# Waiting:   wait_for SECONDS DESC CMD... polls CMD until it succeeds or the
#            deadline (scaled by XPCI_VM_SLOW) passes; never sleep blindly
#            under emulation.  timed WHAT CMD... reports a duration.
# Devices:   find_bdf VENDOR:DEVICE [N], dev_driver BDF, dev_netif BDF,
#            bdf_key BDF (0000:01:00.0 -> 0000-01-00-0)
# Xen:       xen_log (Xen's console: xl dmesg), xen_iommu_on,
#            xl_assignable BDF (listed by xl pci-assignable-list),
#            xen_dev_owner BDF (domid or "io" after the IOMMU driver's
#            last logged move), xen_owner_is BDF WHO
# Guests:    guest_create NAME PCI_SPEC..., guest_domid NAME,
#            guest_cfg NAME PCI_SPEC... (only writes /tmp/NAME.cfg),
#            guest_boot NAME (xl create of that file, first report),
#            guest_console NAME (xenconsoled's log of its console),
#            guest_pci NAME (its last PCI report), guest_has NAME PATTERN,
#            guest_lacks NAME PATTERN, guest_destroy_all,
#            xl_pci_has NAME BDF (xl pci-list NAME lists BDF),
#            pci_backend DOMID (pciback's backend directory in xenstore),
#            pci_backend_state DOMID, pci_backend_index DOMID BDF (N of its
#            dev-N), pci_backend_sub DOMID BDF (its state-N)
# HVM:       hvm_cfg NAME PCI_SPEC... (/tmp/NAME.cfg of an HVM guest),
#            hvm_boot NAME (xl create, first report; minutes), guest_net
#            NAME BDF (its last network test of that guest function),
#            dm_pid DOMID (its device model); guest_console and the
#            guest_* report helpers read an HVM guest's serial log
# SR-IOV:    nvme_vfs_up PF (every VF of QEMU's NVMe controller up on
#            dom0's nvme driver; their BDFs in NVME_VFS)
#
# Scenario environment (set by dom0-run.sh): XPCI_VM_IN (share input),
# XPCI_VM_OUT (share output), XPCI_VM_HAVE_XPCI (1 when xpci is
# installed), XPCI_VM_XPCI_FROM (deb: from the packages, stage: a make
# install tree, none), XPCI_VM_IOMMU (intel or amd), XPCI_VM_SLOW
# (deadline factor).

TAP_N=0
TAP_PASSED=0
TAP_FAILED=0
TAP_TODO=0
XPCI_VM_SLOW=${XPCI_VM_SLOW:-1}
XPCI_VM_OUT=${XPCI_VM_OUT:-/tmp}
GUEST_KERNEL=/opt/xpci-vm/vmlinuz
GUEST_RAMDISK=/opt/xpci-vm/guest.cpio.zst
CONSOLE_DIR=$XPCI_VM_OUT/console
_GUESTS=

diag()
{
    printf '%s\n' "$@" | sed 's/^/# /'
}

tap_ok()
{
    TAP_N=$((TAP_N + 1))
    TAP_PASSED=$((TAP_PASSED + 1))
    echo "ok $TAP_N - $1"
}

tap_fail()
{
    TAP_N=$((TAP_N + 1))
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $1"
    shift
    [ $# -gt 0 ] && diag "$@"
    return 0
}

tap_skip()
{
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $1 # SKIP $2"
}

# Seconds since boot with hundredths, for timings.
now_s()
{
    cut -d' ' -f1 /proc/uptime
}

# Seconds from $1 (a now_s value) to now, e.g. "0.21".
since()
{
    awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }'
}

# tap_check DESC CMD...: one test point from a command's exit status, with
# how long it took; CMD's output is shown only when it fails.  CMD runs in
# this shell, so it may be a function of the scenario.
tap_check()
{
    local desc=$1 t0 rc out
    shift
    out=/tmp/tap-check.$$
    t0=$(now_s)
    "$@" > "$out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        tap_ok "$desc [$(since "$t0") s]"
    else
        tap_fail "$desc [$(since "$t0") s]" "command: $*" \
            "exit status: $rc" "$(tail -n 30 "$out")"
    fi
    rm -f "$out"
    return "$rc"
}

# tap_todo DESC REASON CMD...: a test point for a known problem outside
# the rig (TAP's TODO directive): reported, never counted as a failure.
tap_todo()
{
    local desc=$1 reason=$2
    shift 2
    TAP_N=$((TAP_N + 1))
    TAP_TODO=$((TAP_TODO + 1))
    if "$@" > /dev/null 2>&1; then
        echo "ok $TAP_N - $desc # TODO $reason (passes now: drop the TODO)"
    else
        echo "not ok $TAP_N - $desc # TODO $reason"
    fi
}

# Plan, summary line, and 0/1 as the status.
tap_done()
{
    echo "1..$TAP_N"
    [ "$TAP_TODO" -gt 0 ] && diag "$TAP_TODO TODO (known problems, not counted)"
    echo "$TAP_PASSED passed, $TAP_FAILED failed"
    [ "$TAP_FAILED" -eq 0 ]
}

# Skip a whole scenario (TAP's skip plan).
tap_skip_all()
{
    echo "1..0 # SKIP $1"
    echo "0 passed, 0 failed"
}

# wait_for SECONDS DESC CMD...: poll CMD (quietly, every 0.3 s) until it
# succeeds; 1 with a diagnostic when SECONDS * XPCI_VM_SLOW pass first.
# Waits of more than a second are reported as a diagnostic.
wait_for()
{
    local limit desc t0 start
    limit=$(($1 * XPCI_VM_SLOW))
    desc=$2
    shift 2
    t0=$(now_s)
    start=$(date +%s)
    while :; do
        if "$@" > /dev/null 2>&1; then
            case "$(since "$t0")" in
            0.*) ;;
            *) diag "waited $(since "$t0") s for $desc" ;;
            esac
            return 0
        fi
        if [ $(($(date +%s) - start)) -ge "$limit" ]; then
            diag "timed out after ${limit} s waiting for $desc"
            return 1
        fi
        sleep 0.3
    done
}

# timed WHAT CMD...: run CMD, its output and its duration as diagnostics.
timed()
{
    local what=$1 t0 rc out
    shift
    t0=$(now_s)
    out=$("$@" 2>&1)
    rc=$?
    diag "$what: $(since "$t0") s, exit $rc"
    [ -n "$out" ] && diag "$out"
    return "$rc"
}

# ---------------------------------------------------------------- devices

# find_bdf VENDOR:DEVICE [N]: the Nth (1-based) device with that ID.
find_bdf()
{
    local want=$1 n=${2:-1} d v p
    for d in /sys/bus/pci/devices/*; do
        v=$(cat "$d/vendor") p=$(cat "$d/device")
        if [ "${v#0x}:${p#0x}" = "$want" ]; then
            n=$((n - 1))
            [ "$n" -eq 0 ] && { echo "${d##*/}"; return 0; }
        fi
    done
    return 1
}

dev_driver()
{
    local l=/sys/bus/pci/devices/$1/driver
    if [ -L "$l" ]; then
        basename "$(readlink "$l")"
    else
        echo none
    fi
}

# The device's network interfaces (none: empty, status 1).
dev_netif()
{
    local d=/sys/bus/pci/devices/$1/net
    [ -d "$d" ] && [ -n "$(ls "$d")" ] && ls "$d"
}

# libxl's xenstore key form of a BDF: 0000:01:00.0 -> 0000-01-00-0.
bdf_key()
{
    echo "$1" | tr ':.' '--'
}

# ---------------------------------------------------------------- Xen

xen_log()
{
    xl dmesg
}

# xl pci-assignable-list prints one BDF a line, with a trailing blank.
xl_assignable()
{
    xl pci-assignable-list | grep -Eq "^$1( |\$)"
}

# Xen reports directio in its capabilities when an IOMMU is in use.
xen_iommu_on()
{
    xl info | grep '^virt_caps' | grep -q directio ||
        xl dmesg | grep -q 'I/O virtualisation enabled'
}

# xen_dev_owner BDF: who holds the device according to the last move the
# IOMMU driver logged (needs iommu=verbose,debug): a domid, or "io" for
# quarantine.  VT-d logs "[VT-D]dN:PCIe: unmap BDF" when a device leaves
# domain N and "[VT-D]dN:PCIe: map BDF" when it arrives (nothing for the
# quarantine domain); AMD-Vi logs "AMD-Vi: Re-assign BDF from dX to dY",
# with d[IO] for quarantine.
xen_dev_owner()
{
    xl dmesg | tr -d '\r' | awk -v bdf="$1" '
        $0 ~ "\\[VT-D\\]d[0-9]+:[A-Za-z0-9]+: map " bdf "$" {
            sub(/.*\[VT-D\]d/, ""); sub(/:.*/, ""); owner = $0 }
        $0 ~ "\\[VT-D\\]d[0-9]+:[A-Za-z0-9]+: unmap " bdf "$" { owner = "io" }
        $0 ~ "Re-assign " bdf " from " {
            sub(/.* to d/, ""); owner = ($0 == "[IO]") ? "io" : $0 }
        END { if (owner == "") exit 1; print owner }'
}

# xen_owner_is BDF WHO: xen_dev_owner BDF prints WHO.
xen_owner_is()
{
    [ "$(xen_dev_owner "$1")" = "$2" ]
}

# ---------------------------------------------------------------- guests

# guest_cfg NAME [PCI_SPEC...]: write /tmp/NAME.cfg, a PV guest running
# image/guest-init with passthrough enabled (so devices can be hot-plugged
# even when the list is empty).
guest_cfg()
{
    local name=$1 spec list=
    shift
    for spec in "$@"; do
        list="$list${list:+, }'$spec'"
    done
    cat > "/tmp/$name.cfg" <<EOF
name = "$name"
type = "pv"
kernel = "$GUEST_KERNEL"
ramdisk = "$GUEST_RAMDISK"
extra = "console=hvc0 loglevel=4"
memory = 256
vcpus = 1
passthrough = "enabled"
pci = [ $list ]
on_crash = "preserve"
EOF
}

# guest_boot NAME: xl create /tmp/NAME.cfg and wait for the guest's first
# PCI report.
guest_boot()
{
    local name=$1
    _GUESTS="$_GUESTS $name"
    timed "xl create $name" xl create "/tmp/$name.cfg" || return 1
    wait_for 180 "the first PCI report of guest $name" \
        grep -q 'xpci-guest: pci-end' "$CONSOLE_DIR/guest-$name.log"
}

# guest_create NAME [PCI_SPEC...]: guest_cfg and guest_boot.
guest_create()
{
    guest_cfg "$@"
    guest_boot "$1"
}

guest_domid()
{
    xl domid "$1" 2>/dev/null
}

# A PV guest's console (xenconsoled), an HVM guest's serial port.
guest_console()
{
    local f=$CONSOLE_DIR/guest-$1.log
    [ -f "$CONSOLE_DIR/hvm-$1.log" ] && f=$CONSOLE_DIR/hvm-$1.log
    tr -d '\r' < "$f" 2>/dev/null
}

# The guest's last complete PCI report, one "BDF VVVV:DDDD driver=X" a line.
guest_pci()
{
    guest_console "$1" | awk '
        /xpci-guest: pci-begin/ { cur = ""; inrep = 1; next }
        /xpci-guest: pci-end/ { if (inrep) { last = cur; seen = 1 }
                                inrep = 0; next }
        inrep && /xpci-guest: pci / {
            sub(/.*xpci-guest: pci /, ""); cur = cur $0 "\n" }
        END { if (!seen) exit 1; printf "%s", last }'
}

# guest_has NAME PATTERN: the last report has a line matching PATTERN (ERE).
guest_has()
{
    guest_pci "$1" | grep -Eq "$2"
}

guest_lacks()
{
    local r
    r=$(guest_pci "$1") || return 1
    ! printf '%s\n' "$r" | grep -Eq "$2"
}

guest_destroy_all()
{
    local g
    for g in $_GUESTS; do
        xl domid "$g" > /dev/null 2>&1 && xl destroy "$g" > /dev/null 2>&1
    done
    _GUESTS=
}

# xl_pci_has NAME BDF: `xl pci-list NAME` lists BDF ("Vdev Device" lines).
xl_pci_has()
{
    xl pci-list "$1" 2>/dev/null | awk -v bdf="$2" '
        $2 == bdf { found = 1 } END { exit !found }'
}

# pciback's backend directory for a guest's (only) PCI bus.
pci_backend()
{
    echo "/local/domain/0/backend/pci/$1/0"
}

# The backend's XenbusState (4: connected), or nothing when it is absent.
pci_backend_state()
{
    xenstore-read "$(pci_backend "$1")/state" 2>/dev/null
}

# pci_backend_index DOMID BDF: N of the backend's dev-N that is BDF;
# status 1 when the backend does not list it.
pci_backend_index()
{
    local be n i
    be=$(pci_backend "$1")
    n=$(xenstore-read "$be/num_devs" 2>/dev/null) || return 1
    i=0
    while [ "$i" -lt "$n" ]; do
        if [ "$(xenstore-read "$be/dev-$i" 2>/dev/null)" = "$2" ]; then
            echo "$i"
            return 0
        fi
        i=$((i + 1))
    done
    return 1
}

# pci_backend_sub DOMID BDF: the XenbusState of BDF's own entry (state-N:
# 3 exported by pciback, 5 closing, 6 closed); status 1 when not listed.
pci_backend_sub()
{
    local i
    i=$(pci_backend_index "$1" "$2") || return 1
    xenstore-read "$(pci_backend "$1")/state-$i" 2>/dev/null
}

# ---------------------------------------------------------------- SR-IOV

# nvme_vfs_up PF: enable every VF of QEMU's NVMe controller PF and bring
# each up on dom0's nvme driver, as 30-nvme-sriov does step by step:
# flexible resources (2 queues, 1 vector) while the secondary controllers
# are offline, sriov_numvfs with sriov_drivers_autoprobe cleared, the
# controllers online, then the probe, waiting for each controller to be
# live.  NVME_VFS gets the VFs' BDFs.
nvme_vfs_up()
{
    local d=/sys/bus/pci/devices/$1 ctrl total id l v
    NVME_VFS=
    total=$(cat "$d/sriov_totalvfs" 2>/dev/null)
    [ "${total:-0}" -ge 1 ] || return 1
    ctrl=/dev/$(ls "$d/nvme" 2>/dev/null | head -n1)
    for id in $(nvme list-secondary "$ctrl" | awk '/SCID/ { print $NF }'); do
        nvme virt-mgmt "$ctrl" -c "$id" -r 0 -a 8 -n 2 > /dev/null &&
            nvme virt-mgmt "$ctrl" -c "$id" -r 1 -a 8 -n 1 > /dev/null ||
            return 1
    done
    echo 0 > "$d/sriov_drivers_autoprobe"
    echo "$total" > "$d/sriov_numvfs" || return 1
    wait_for 60 "$total VFs of $1" \
        sh -c "[ \$(ls -d $d/virtfn* | wc -l) -eq $total ]" || return 1
    for id in $(nvme list-secondary "$ctrl" | awk '/SCID/ { print $NF }'); do
        nvme virt-mgmt "$ctrl" -c "$id" -a 9 > /dev/null || return 1
    done
    for l in "$d"/virtfn*; do
        NVME_VFS="$NVME_VFS $(basename "$(readlink "$l")")"
    done
    NVME_VFS=${NVME_VFS# }
    echo 1 > "$d/sriov_drivers_autoprobe"
    for v in $NVME_VFS; do
        echo "$v" > /sys/bus/pci/drivers_probe 2>/dev/null
    done
    wait_for 60 "the VFs live on dom0's nvme" _nvme_vfs_live
}

_nvme_vfs_live()
{
    local v
    for v in $NVME_VFS; do
        [ "$(dev_driver "$v")" = nvme ] &&
            grep -qx live /sys/bus/pci/devices/$v/nvme/nvme*/state || return 1
    done
}

# ---------------------------------------------------------------- HVM

# hvm_cfg NAME [PCI_SPEC...]: write /tmp/NAME.cfg, an HVM guest (needs a
# boot with cpu=svm) running image/guest-init through hvmloader, SeaBIOS
# and a direct kernel boot, its serial console in
# $CONSOLE_DIR/hvm-NAME.log, passthrough enabled, HAP (Debian's Xen has
# no shadow paging).  xpci.nettest makes the guest test each e1000e's
# network (see image/guest-init).
#
# timer_mode: under TCG the guest runs far slower than the wall clock, so
# Xen's default mode (no_delay_for_missed_ticks) queues the virtual PIT's
# missed ticks and delivers them back to back; in both boots tried with
# it on an idle host, SeaBIOS's 16-bit code ended up executing its own
# data (an invalid-opcode loop through its default handler, f000:ff53;
# tests/vm/README.md).  One late tick at a time (one_missed_tick_pending)
# made that rare (one boot in six since).  edd=off spares the kernel's
# real-mode setup its BIOS disk probes (there is no disk).
hvm_cfg()
{
    local name=$1 spec list=
    shift
    for spec in "$@"; do
        list="$list${list:+, }'$spec'"
    done
    mkdir -p "$CONSOLE_DIR"
    cat > "/tmp/$name.cfg" <<EOC
name = "$name"
type = "hvm"
device_model_version = "qemu-xen"
kernel = "$GUEST_KERNEL"
ramdisk = "$GUEST_RAMDISK"
extra = "console=ttyS0,115200 earlyprintk=ttyS0,115200 edd=off loglevel=4 sysrq_always_enabled xpci.nettest=1"
serial = "file:$CONSOLE_DIR/hvm-$name.log"
vga = "none"
vnc = 0
memory = 256
vcpus = 1
hap = 1
timer_mode = "one_missed_tick_pending"
passthrough = "enabled"
pci = [ $list ]
on_crash = "preserve"
on_reboot = "preserve"
on_poweroff = "preserve"
EOC
}

# _hvm_where DOMID: where vCPU 0 of the domain is, from its registers
# (xenctx): "cs:eip SEG:OFF" in real or 32-bit mode (the firmware, the
# kernel's setup), "rip ADDR" in long mode (Linux), "?" when unknown.
_hvm_where()
{
    local x
    for x in /usr/lib/xen-*/bin/xenctx; do
        [ -x "$x" ] || continue
        "$x" "$1" 0 2>/dev/null | awk '
            /^cs:eip:/ { print "cs:eip " $2; found = 1; exit }
            /^ *rip:/ { print "rip " $2; found = 1; exit }
            END { if (!found) print "?" }'
        return 0
    done
    echo "?"
}

# hvm_stuck_report NAME: what an HVM guest that stopped reporting is
# doing: its CPU time over 10 s (spinning or idle), vCPU 0's registers
# and stack (xenctx; Debian ships no usable System.map), and what the
# guest's kernel says to sysrq w (blocked tasks) and l (the CPU's
# backtrace) on its console, if it still takes events.
hvm_stuck_report()
{
    local d x c0 c1
    d=$(xl domid "$1" 2>/dev/null) || { echo "no domain $1"; return 0; }
    c0=$(_hvm_cpu "$d")
    sleep 10
    c1=$(_hvm_cpu "$d")
    echo "$1 (domain $d): $c0 -> $c1 s of CPU in 10 s"
    for x in /usr/lib/xen-*/bin/xenctx; do
        [ -x "$x" ] || continue
        "$x" -S "$d" 0 2>&1 | head -n 40
        break
    done
    xl sysrq "$1" w 2>&1
    xl sysrq "$1" l 2>&1
    sleep 20
    echo "the guest's console after sysrq w, l:"
    guest_console "$1" | tail -n 60
}

# _hvm_cpu DOMID: the domain's CPU time in seconds (xl list).
_hvm_cpu()
{
    xl list "$1" 2>/dev/null | awk 'NR == 2 { print $6 }'
}

# hvm_boot NAME: xl create /tmp/NAME.cfg and wait for the guest's first
# PCI report (minutes under TCG: SeaBIOS, then Linux without KVM).  Every
# minute a diagnostic says where the guest is (its vCPU's registers, its
# CPU time, the firmware's last line in Xen's log, the console's last
# line); at the end, how long each phase took from xl create's return
# (each looked for every 10 s):
# the firmware to "Booting from ROM" (the kernel's load from fw_cfg
# starts), the kernel in long mode, its /init, the first report.  A vCPU
# found at SeaBIOS's default interrupt handler (f000:ff53, an iret) at
# three minutely looks in a row loops on an exception in the firmware and
# will never boot: that ends the wait at once, with the registers, and
# status 2 (1: no report within the wait, or xl create failed).
HVM_BOOT_WAIT=${HVM_BOOT_WAIT:-900}
hvm_boot()
{
    local name=$1 log d start el limit next=60 probe=0 stuck=0
    local where fw con msg st
    local t_rom= t_linux= t_init= t_rep=
    _GUESTS="$_GUESTS $name"
    timed "xl create $name (HVM)" xl create "/tmp/$name.cfg" || return 1
    log=$CONSOLE_DIR/hvm-$name.log
    d=$(guest_domid "$name") || return 1
    limit=$((HVM_BOOT_WAIT * XPCI_VM_SLOW))
    start=$(date +%s)
    while :; do
        el=$(($(date +%s) - start))
        if grep -q 'xpci-guest: pci-end' "$log" 2>/dev/null; then
            t_rep=$el
            [ -n "$t_init" ] || t_init=$el
            break
        fi
        [ "$el" -ge "$limit" ] && break
        if [ "$el" -lt "$probe" ]; then
            sleep 2
            continue
        fi
        probe=$((el + 10))
        if [ -z "$t_rom" ] &&
                xl dmesg 2>/dev/null | grep -q "(d$d) Booting from ROM"; then
            t_rom=$el
        fi
        where=$(_hvm_where "$d")
        st=$(xl list "$d" 2>/dev/null | awk 'NR == 2 { print $5 }')
        if [ -z "$st" ] || [ "${st#*s}" != "$st" ] || [ "${st#*c}" != "$st" ]
        then
            diag "HVM guest $name (domain $d) is gone or shut down ($st) at +$el s"
            diag "$(xl list -v 2>&1)"
            diag "$(/usr/lib/xen-*/bin/xenctx -a "$d" 0 2>&1 | head -n 30)"
            diag "$(tail -n 40 "/var/log/xen/xl-$name.log" 2>&1)"
            diag "$(tail -n 40 /var/log/xen/qemu-dm-"$name".log 2>&1)"
            diag "$(xl dmesg 2>&1 | tail -n 30)"
            diag "$(tail -c 2000 "$log" 2>&1)"
            break
        fi
        case "$where" in
        "rip ffffffff"*) [ -n "$t_linux" ] || t_linux=$el ;;
        esac
        if [ -z "$t_init" ] && grep -q 'xpci-guest: booted' "$log" 2>/dev/null
        then
            t_init=$el
        fi
        if [ "$el" -ge "$next" ]; then
            next=$((next + 60))
            fw=$(xl dmesg 2>/dev/null | tr -d '\r' | grep "(d$d) " |
                tail -n 1 | cut -c1-70)
            con=$(tr -d '\r' < "$log" 2>/dev/null | tail -n 1 | cut -c1-100)
            msg="HVM guest $name at +$el s: vCPU at $where,"
            msg="$msg $(_hvm_cpu "$d") s of CPU; firmware: $fw;"
            msg="$msg console ($(wc -c < "$log" 2>/dev/null || echo 0)"
            diag "$msg bytes): $con"
            case "$where" in
            "cs:eip f000:0000ff53"|"cs:eip d980:0000f15d") stuck=$((stuck + 1)) ;;
            *) stuck=0 ;;
            esac
            if [ "$stuck" -ge 3 ]; then
                msg="HVM guest $name: its vCPU was at SeaBIOS's default"
                msg="$msg interrupt handler (f000:ff53) at 3 looks in a row,"
                msg="$msg a minute apart: the firmware loops on an exception"
                diag "$msg and will not boot"
                diag "$(/usr/lib/xen-*/bin/xenctx -a "$d" 0 2>&1 |
                    head -n 30)"
                break
            fi
        fi
        sleep 2
    done
    msg="HVM guest $name boot, seconds after xl create: firmware to"
    msg="$msg 'Booting from ROM' ${t_rom:-?}, Linux running by"
    msg="$msg ${t_linux:-?}, its /init by ${t_init:-?}, first report"
    diag "$msg ${t_rep:-? (none within $el s)}"
    [ -n "$t_rep" ] && return 0
    [ "$stuck" -ge 3 ] && return 2
    return 1
}

# guest_net NAME BDF: the guest's last network test of its function at
# guest address BDF ("dhcp=... ping=... irqs=N"), status 1 when none.
guest_net()
{
    guest_console "$1" | awk -v b="$2" '
        $0 ~ "xpci-guest: net " b " " { sub(/.*xpci-guest: net [^ ]+ /, "");
                                         last = $0; seen = 1 }
        END { if (!seen) exit 1; print last }'
}

# dm_pid DOMID: the pid of the domain's device model (libxl's QEMU).
dm_pid()
{
    local p
    for p in $(pgrep -f xen-qemu-system-i386); do
        tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "-xen-domid $1 " &&
            { echo "$p"; return 0; }
    done
    return 1
}
