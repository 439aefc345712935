#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A working set that stalls at QEMU's 300 ms (64 MiB at 100 MiB/s needs
# ~640 ms) completes under the adaptive policy with --downtime 2000, with
# an action line raising the downtime; the guest runs on the destination.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming defer
wait_guest src

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "unix:$T/mig.sock" --bandwidth 100 --downtime 2000 --json \
    >"$T/out.json" 2>"$T/err"
expect_code 0 $? "stalled migration under adaptive"
# raised at a pass boundary, or from the dirty-rate measurements before it
expect_grep '"action":"set-downtime","value":[0-9]*,"reason":"\(pass\|preflight\)' \
    "$T/out.json"
expect_grep '"result":"completed"' "$T/out.json"
# the raised limit is above QEMU's 300 ms and within the allowed 2000 ms
v=$(grep -o '"action":"set-downtime","value":[0-9]*,"reason":"\(pass\|preflight\)' \
    "$T/out.json" | tail -1 | grep -o '[0-9]*')
[ "$v" -gt 300 ] && [ "$v" -le 2000 ] || fail "raised downtime $v"
expect_status dst running
expect_status src postmigrate
verify_guest_memory dst 64
echo "PASS"
