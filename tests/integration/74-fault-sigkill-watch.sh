#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: qmigrate is killed with SIGKILL mid-migration.  QEMU's migration
# goes on without it; qmigrate watch attaches and follows it to the end.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming "unix:$T/mig.sock"
wait_guest src

# 64 MiB re-dirtied at 30 MiB/s needs ~2.1 s: the 3 s limit set up front
# lets QEMU converge by itself after a few passes
"$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --bandwidth 30 --downtime 3000 --downtime-initial 3000 --json \
    >"$T/out.json" 2>"$T/err" &
qm=$!
wait_for '"status":"active"' "$T/out.json" 30 "not migrating yet"
kill -9 $qm
wait $qm 2>/dev/null
qmp src query-migrate | grep -q '"status":"active"' ||
    fail "the migration did not go on"

timeout 120 "$QMIGRATE" watch --source "$T/src.qmp" --json >"$T/watch.json" \
    2>"$T/watch.err"
expect_code 0 $? "watch after SIGKILL"
expect_grep '"result":"completed"' "$T/watch.json"
expect_status dst running
expect_status src postmigrate
verify_guest_memory dst 64
echo "PASS"
