#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# qmigrate cancel stops a migration started elsewhere, waits for QEMU's
# 'cancelled', and confirms the guest runs on the source (exit 3).
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming "unix:$T/mig.sock"
wait_guest src

"$QMIGRATE" cancel --source "$T/src.qmp" >"$T/none.out" 2>&1
expect_code 0 $? "cancel with nothing migrating"
expect_grep "nothing to cancel" "$T/none.out"

# never converges: 64 MiB re-dirtied at 100 MiB/s needs ~640 ms > 300 ms
qmp src migrate-set-parameters '{"max-bandwidth": 104857600}' >/dev/null
qmp src migrate "{\"uri\": \"unix:$T/mig.sock\"}" >/dev/null || fail "migrate"
sleep 2
qmp src query-migrate | grep -q '"status":"active"' || fail "not active"

timeout 60 "$QMIGRATE" cancel --source "$T/src.qmp" --json >"$T/out.json" \
    2>"$T/err"
expect_code 3 $? "cancel"
expect_grep '"result":"aborted"' "$T/out.json"
expect_grep 'the guest runs on the source' "$T/out.json"
qmp src query-migrate | grep -q '"status":"cancelled"' || fail "not cancelled"
expect_status src running
echo "PASS"
