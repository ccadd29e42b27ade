#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# completion.sh - bash completion for xpci and xl-pci, driven the way bash
# drives it: the line is split into COMP_WORDS at COMP_WORDBREAKS, the
# completion function runs with COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT
# set, and COMPREPLY is what bash would insert.  The host is a generated
# tree (--root, or XPCI_ROOT for xl-pci); domains come from a stand-in xl
# in PATH that prints an `xl list` table.  Skipped (77) without the
# bash-completion package, which loads completions on a real system.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MKTREE="$top_builddir/tests/unit/mktree"
BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
unset XPCI_ROOT

if [ ! -r "$BASH_COMPLETION" ]; then
    echo "SKIP: $BASH_COMPLETION not installed"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

mkdir -p "$work/host" "$work/bin" "$work/cfgs"
"$MKTREE" host "$work/host" || not_ok "mktree host"
# a name for the function pciback holds (the persistent set's format)
mkdir -p "$work/host/var/lib/xpci"
echo "0000:09:00.0 pci0000:00/05.0/00.0 e1000e webnic" \
    >"$work/host/var/lib/xpci/assignable"
ln -s "$(cd "$top_builddir" && pwd)/tools/xpci/xpci" "$work/bin/xpci"
cat >"$work/bin/xl" <<'XL'
#!/bin/sh
[ "$1" = list ] || exit 1
cat <<'LIST'
Name                                        ID   Mem VCPUs	State	Time(s)
Domain-0                                     0  1024     2     r-----      12.3
web1                                         3   512     1     -b----       1.0
LIST
XL
chmod +x "$work/bin/xl"
touch "$work/cfgs/guest.cfg" "$work/cfgs/notes.txt"
export PATH="$work/bin:$PATH"

# shellcheck source=/dev/null
. "$BASH_COMPLETION"
# shellcheck source=../../completion/xpci
. "$top_srcdir/completion/xpci"

# complete LINE: run the completion for LINE (cursor at its end) and put
# what bash would offer, one per line, in $work/reply.
complete_line() {
    local line=$1 word= c i breaks=${COMP_WORDBREAKS//[\"\'@><;|&(]/}
    local -a split=()
    # readline's split: blanks end a word, a break character is a word
    for ((i = 0; i < ${#line}; i++)); do
        c=${line:i:1}
        if [ "$c" = " " ]; then
            [ -n "$word" ] && split+=("$word")
            word=
        elif [[ $breaks == *"$c"* && $c != " " ]]; then
            [ -n "$word" ] && split+=("$word")
            split+=("$c")
            word=
        else
            word+=$c
        fi
    done
    split+=("$word") # the word being completed, maybe empty
    COMP_WORDS=("${split[@]}")
    COMP_CWORD=$((${#split[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    case ${split[0]} in
    xpci) _xpci ;;
    xl-pci) _xl_pci ;;
    esac
    printf '%s\n' "${COMPREPLY[@]}" >"$work/reply"
}

# offers LINE DESCRIPTION WORD...: every WORD is offered
offers() {
    local line=$1 what=$2 w
    shift 2
    complete_line "$line"
    for w in "$@"; do
        if ! grep -qxF -- "$w" "$work/reply"; then
            not_ok "$what: '$w' not offered for '$line'"
            sed 's/^/#   /' "$work/reply" | head -n 12
            return
        fi
    done
    ok "$what"
}

# refuses LINE DESCRIPTION WORD...: no WORD is offered
refuses() {
    local line=$1 what=$2 w
    shift 2
    complete_line "$line"
    for w in "$@"; do
        if grep -qxF -- "$w" "$work/reply"; then
            not_ok "$what: '$w' offered for '$line'"
            return
        fi
    done
    ok "$what"
}

R="--root $work/host"

# ------------------------------------------------------------ xpci
offers "xpci " "commands" list check assignable-add attach detach help
offers "xpci assig" "commands by prefix" assignable-add assignable-remove \
    assignable-list
refuses "xpci assig" "only matching commands" list check
offers "xpci -" "global options" --root -v --help --version
offers "xpci capture --" "capture's options" --output --with-mac
offers "xpci cap" "the capture command" capture
offers "xpci $R ch" "a command after --root DIR" check
offers "xpci check --j" "a command's options" --json
offers "xpci check --" "check's options" --json --all --match --expect --root
refuses "xpci list --" "list takes no --all" --all
offers "xpci $R check 0000:0" "BDFs from the tree (after the last colon)" \
    01:00.0 07:10.2 00:1c.0
offers "xpci $R check " "BDFs for an empty word" 0000:01:00.0 0000:09:00.0
offers "xpci $R check pci" "location paths once pci is typed" \
    pci0000:00/1c.0/00.0 pci0000:00/03.0/10.2 pci0000:00/02.0/00.0/01.0
offers "xpci check 0000:01:00.0 --root=$work/host 0000:0" \
    "--root=DIR after the command is honoured" 07:00.0
complete_line "xpci --root $work/cfgs check 0000:0"
[ ! -s "$work/reply" ] || [ "$(cat "$work/reply")" = "" ] &&
    ok "a tree without functions offers no BDF" ||
    not_ok "BDFs offered from an empty tree: $(head -n 3 "$work/reply")"
offers "xpci $R assignable-remove " "assignable-remove: BDF and name" \
    0000:09:00.0 webnic
refuses "xpci $R assignable-remove " "assignable-remove: not dom0's" \
    0000:01:00.0
offers "xpci $R attach " "attach: domain names and ids" web1 3 Domain-0 0
offers "xpci $R attach web1 " "attach: then assignable functions" \
    webnic 0000:09:00.0
offers "xpci $R detach --dry-run web1 -f " "detach: options don't count" \
    webnic
offers "xpci attached " "attached: a domain" web1
offers "xpci --root $work/cfgs prepare $work/cfgs/" "prepare: .cfg files" \
    "$work/cfgs/guest.cfg"
refuses "xpci --root $work/cfgs prepare $work/cfgs/" "prepare: only .cfg" \
    "$work/cfgs/notes.txt"
offers "xpci help " "help: commands" assignable-add recover
# selectors
offers "xpci $R list --match " "selector keys" vendor= class= pf= numa= \
    location= driver= address= device=
offers "xpci $R list --match vendor=8086,d" "a later key keeps the terms" \
    8086,device=
offers "xpci $R list --match pf=0000:07" "pf= takes BDFs (after the last colon)" \
    07:00.0
offers "xpci $R list --match vendor=8086,device=" \
    "a later term's values (after the last =)" 10ed 10d3
offers "xpci $R check --match driver=ixg" "driver= takes drivers" \
    ixgbe ixgbevf
offers "xpci $R check --match class=" "class= takes classes" \
    0200 0108
offers "xpci $R check --match location=pci0000:00/03" \
    "location= takes location paths" 00/03.0/00.0
refuses "xpci $R list --match vendor=8086 --expect " "--expect takes a count" \
    0000:01:00.0

# ------------------------------------------------------------ xl-pci
export XPCI_ROOT="$work/host"
offers "xl-pci " "xl-pci: xl's commands" pci-attach pci-detach pci-list \
    pci-assignable-add pci-assignable-remove pci-assignable-list
offers "xl-pci -" "xl-pci: xl's global options" -v -f -N
offers "xl-pci pci-assignable-add 0000:0" "xl-pci: BDFs from XPCI_ROOT" \
    01:00.0 07:10.2
offers "xl-pci pci-assignable-remove " "xl-pci: assignable names" \
    webnic 0000:09:00.0
offers "xl-pci pci-assignable-remove -" "xl-pci: remove's -r" -r
offers "xl-pci pci-attach " "xl-pci: domains" web1 3
offers "xl-pci pci-attach web1 " "xl-pci: then assignable functions" webnic
complete_line "xl-pci pci-attach web1 webnic "
[ ! -s "$work/reply" ] || [ "$(cat "$work/reply")" = "" ] &&
    ok "xl-pci: one spec only" || not_ok "xl-pci: a second spec offered"
offers "xl-pci pci-detach -" "xl-pci: detach's -f" -f
unset XPCI_ROOT

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
