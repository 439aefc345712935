#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# qmigrate watch follows a migration that a plain QMP client started: it
# shows progress and the policy's advice, sends only query commands, and
# exits 0 when QEMU reports completed.  With nothing migrating it says so.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming "unix:$T/mig.sock"
wait_guest src

"$QMIGRATE" watch --source "$T/src.qmp" >"$T/none.out" 2>&1
expect_code 0 $? "watch with nothing migrating"
expect_grep "no migration in progress" "$T/none.out"

# 64 MiB re-dirtied at 10 MiB/s needs ~6.4 s: it converges at 8000 ms,
# and slowly enough that watch (under valgrind too) attaches in time
qmp src migrate-set-parameters \
    '{"max-bandwidth": 10485760, "downtime-limit": 8000}' >/dev/null ||
    fail "set parameters"
qmp src migrate "{\"uri\": \"unix:$T/mig.sock\"}" >/dev/null || fail "migrate"

timeout 120 "$QMIGRATE" watch --source "$T/src.qmp" --json --trace "$T/trace" \
    >"$T/out.json" 2>"$T/err"
expect_code 0 $? "watch until completed"
expect_grep '"event":"progress"' "$T/out.json"
expect_grep '"event":"end".*"result":"completed"' "$T/out.json"
if grep -q '"event":"action"' "$T/out.json"; then
    fail "watch acted: $(grep '"event":"action"' "$T/out.json" | head -1)"
fi
# watch changed nothing: the limit is still the one the client set
qmp src query-migrate-parameters | grep -q '"downtime-limit":8000' ||
    fail "watch changed the downtime limit"
expect_status dst running
expect_status src postmigrate
verify_guest_memory dst 64
echo "PASS"
