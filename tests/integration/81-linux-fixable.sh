#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Linux guest rewrites 64 MiB flat out (stress-ng --vm) while the
# link carries 25 MiB/s: the switch-over needs ~2.5 s, more than the
# default downtime.  Under adaptive with --downtime 4000 it completes after
# an action raising the downtime limit past what QEMU's default allows,
# and the guest then runs on the destination only.
. "$(dirname "$0")/lib.sh"

work="qmigrate.work=vm qmigrate.mib=64"
start_linux src 384 "$work"
start_linux dst 384 "$work" -incoming defer
wait_linux src

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "unix:$T/mig.sock" --bandwidth 25 --downtime 4000 --json \
    >"$T/out.json" 2>"$T/err"
expect_code 0 $? "a working set that needs more than the default downtime"
expect_grep '"result":"completed"' "$T/out.json"
# raised by a pass boundary, or by the dirty-rate measurements before it
v=$(grep -o '"action":"set-downtime","value":[0-9]*,"reason":"\(pass\|preflight\)' \
    "$T/out.json" | tail -1 | grep -o '[0-9]*')
[ -n "$v" ] || fail "no set-downtime action raised the limit: $(grep '"action"' "$T/out.json")"
# above the default --downtime (500 ms), within the allowed 4000
[ "$v" -gt 500 ] && [ "$v" -le 4000 ] || fail "raised downtime $v"
expect_status dst running
expect_status src postmigrate
expect_runs_only_on dst src
echo "PASS (downtime limit raised to $v ms)"
