#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# 20-xpci-check - xpci list / xpci check on a real dom0: the e1000e is seen
# and judged assignable, the IOMMU is reported on, and a function dom0
# cannot give away (the host bridge) is refused.  Needs the xpci stage.
. "$XPCI_VM_IN/lib.sh"

E1000E_ID=8086:10d3
HOST_BRIDGE=0000:00:00.0

# ---------------------------------------------------------------- JSON
# Every assertion on xpci's JSON, as jq filters evaluated with --arg bdf.
# Schema xpci-check/1: {"schema", "xen": {"running", "iommu", ...},
# "devices": [{"bdf", "location", "verdict", "checks": [{"id", "level",
# "reason", "remedy"}]}]}.  Levels: pass, warn, fail, unknown.
J_LIST_HAS='[.. | objects | select(.bdf? == $bdf)] | length >= 1'
J_SCHEMA='.schema == "xpci-check/1"'
J_XEN_RUNNING='.xen.running == true'
J_XEN_IOMMU='.xen.iommu == true'
# $bdf carries the expected value here: xl info's xen_version, then the
# release of the tools in this dom0 ("4.20" of /usr/lib/xen-4.20).
J_XEN_VERSION='.xen.version == $bdf'
J_XEN_BUILT_FOR='.xen.built_for == $bdf'
J_NOOP='.xen.noop_options == ["msitranslate", "power_mgmt"]'
J_DEV='.devices[] | select(.bdf == $bdf)'
J_HAS_DEV="[$J_DEV] | length == 1"
J_IOMMU_PASS="[$J_DEV | .checks[] | select(.id == \"xen.iommu\")] | length >= 1 and all(.level == \"pass\")"
J_NOT_FAIL="[$J_DEV | .verdict] == [\"pass\"] or [$J_DEV | .verdict] == [\"warn\"] or [$J_DEV | .verdict] == [\"unknown\"]"
J_FAIL="[$J_DEV | .verdict] == [\"fail\"]"
J_ENDPOINT_FAIL="[$J_DEV | .checks[] | select(.id == \"device.endpoint\" and .level == \"fail\")] | length >= 1"
J_VERDICT="$J_DEV | .verdict"
J_CHECK_SHAPE='all(.devices[].checks[]; (.id | type) == "string" and (.level | IN("pass", "warn", "fail", "unknown")))'

# json_assert DESC FILE BDF FILTER: one test point per jq assertion.
json_assert()
{
    local desc=$1 file=$2 bdf=$3 filter=$4
    if jq -e --arg bdf "$bdf" "$filter" "$file" > /dev/null 2>&1; then
        tap_ok "$desc"
    else
        tap_fail "$desc" "jq filter: $filter" \
            "$(jq -c --arg bdf "$bdf" "$J_DEV" "$file" 2>&1 | cut -c1-600)"
    fi
}

if [ "${XPCI_VM_HAVE_XPCI:-0}" != 1 ]; then
    tap_skip_all "no xpci stage (XPCI_STAGE unset on the host)"
    exit 0
fi

if ! command -v xpci > /dev/null; then
    tap_fail "xpci is installed from the stage"
    tap_done
    exit 1
fi
missing=$(ldd "$(command -v xpci)" | grep 'not found')
if [ -z "$missing" ]; then
    tap_ok "xpci and its libraries load"
else
    tap_fail "xpci and its libraries load" "$missing"
fi

bdf=$(find_bdf "$E1000E_ID")
[ -n "$bdf" ] || { tap_fail "an e1000e is present"; tap_done; exit 1; }
diag "e1000e at $bdf"
o=$XPCI_VM_OUT

# ---------------------------------------------------------------- list
xpci list > "$o/xpci-list.txt" 2> "$o/xpci-list.err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "$bdf" "$o/xpci-list.txt"; then
    tap_ok "xpci list succeeds and shows $bdf"
else
    tap_fail "xpci list succeeds and shows $bdf" "exit $rc" \
        "$(head -n 20 "$o/xpci-list.txt" "$o/xpci-list.err")"
fi
xpci list --json > "$o/xpci-list.json" 2> "$o/xpci-list-json.err"
rc=$?
if [ "$rc" -eq 0 ] && jq -e . "$o/xpci-list.json" > /dev/null 2>&1; then
    tap_ok "xpci list --json succeeds with valid JSON"
else
    tap_fail "xpci list --json succeeds with valid JSON" "exit $rc" \
        "$(head -c 600 "$o/xpci-list-json.err")"
fi
json_assert "xpci list --json includes $bdf" "$o/xpci-list.json" "$bdf" "$J_LIST_HAS"

# ---------------------------------------------------------------- check
xpci check --all --json > "$o/xpci-check.json" 2> "$o/xpci-check.err"
rc=$?
# --all exits 1 as soon as any function fails, and the host bridge does.
if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then
    tap_ok "xpci check --all --json exits 0 or 1 (got $rc)"
else
    tap_fail "xpci check --all --json exits 0 or 1" "exit $rc" \
        "$(head -c 600 "$o/xpci-check.err")"
fi
if jq -e . "$o/xpci-check.json" > /dev/null 2>&1; then
    tap_ok "its output is valid JSON"
else
    tap_fail "its output is valid JSON" "$(head -c 600 "$o/xpci-check.json")"
fi
json_assert "schema is xpci-check/1" "$o/xpci-check.json" "" "$J_SCHEMA"
json_assert "every check has an id and a known level" "$o/xpci-check.json" "" "$J_CHECK_SHAPE"
json_assert "xen.running is true" "$o/xpci-check.json" "" "$J_XEN_RUNNING"
json_assert "xen.iommu is true (IOMMU on)" "$o/xpci-check.json" "" "$J_XEN_IOMMU"
xen_version=$(xl info | sed -n 's/^xen_version *: //p')
tools_release=$(ls -d /usr/lib/xen-4.* | sed -n 's|^/usr/lib/xen-||p' | head -n1)
diag "xl info: xen_version $xen_version; tools $tools_release"
json_assert "xen.version is xl info's ($xen_version)" "$o/xpci-check.json" \
    "$xen_version" "$J_XEN_VERSION"
json_assert "xen.built_for is this dom0's Xen release ($tools_release)" \
    "$o/xpci-check.json" "$tools_release" "$J_XEN_BUILT_FOR"
json_assert "xen.noop_options: msitranslate, power_mgmt" "$o/xpci-check.json" \
    "" "$J_NOOP"
tap_check "xpci check's header names Xen $xen_version" \
    sh -c "xpci check $HOST_BRIDGE | head -n1 | grep -qF 'Xen $xen_version (xpci built for Xen $tools_release)'"
json_assert "the e1000e $bdf is reported" "$o/xpci-check.json" "$bdf" "$J_HAS_DEV"
json_assert "$bdf: check xen.iommu is pass" "$o/xpci-check.json" "$bdf" "$J_IOMMU_PASS"
json_assert "$bdf: verdict is not fail" "$o/xpci-check.json" "$bdf" "$J_NOT_FAIL"
json_assert "host bridge $HOST_BRIDGE: verdict fail" "$o/xpci-check.json" "$HOST_BRIDGE" "$J_FAIL"
json_assert "host bridge $HOST_BRIDGE: device.endpoint fails" "$o/xpci-check.json" "$HOST_BRIDGE" "$J_ENDPOINT_FAIL"

# The exit status of a single-device check follows its verdict.
verdict=$(jq -r --arg bdf "$bdf" "$J_VERDICT" "$o/xpci-check.json" 2>/dev/null)
xpci check "$bdf" > "$o/xpci-check-e1000e.txt" 2>&1
rc=$?
want=0
[ "$verdict" = fail ] && want=1
if [ "$rc" -eq "$want" ]; then
    tap_ok "xpci check $bdf exits $rc for verdict $verdict"
else
    tap_fail "xpci check $bdf exits $want for verdict $verdict" "got $rc" \
        "$(head -n 20 "$o/xpci-check-e1000e.txt")"
fi
xpci check --json "$bdf" > "$o/xpci-check-e1000e.json" 2>&1
v1=$(jq -r --arg bdf "$bdf" "$J_VERDICT" "$o/xpci-check-e1000e.json" 2>/dev/null)
if [ -n "$v1" ] && [ "$v1" = "$verdict" ]; then
    tap_ok "xpci check --json $bdf gives the same verdict ($v1)"
else
    tap_fail "xpci check --json $bdf gives the same verdict" \
        "alone: '$v1', with --all: '$verdict'"
fi
xpci check "$HOST_BRIDGE" > "$o/xpci-check-hostbridge.txt" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then
    tap_ok "xpci check $HOST_BRIDGE exits 1 (refused)"
else
    tap_fail "xpci check $HOST_BRIDGE exits 1 (refused)" "got $rc" \
        "$(head -n 20 "$o/xpci-check-hostbridge.txt")"
fi

diag "xpci check $bdf:" "$(cat "$o/xpci-check-e1000e.txt")"
tap_done
