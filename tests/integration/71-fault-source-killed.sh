#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: the source QEMU is killed in the middle of the migration.  The
# guest is gone with it; qmigrate says so clearly and exits 4 at once.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming "unix:$T/mig.sock"
wait_guest src

"$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --policy pray --bandwidth 100 --json >"$T/out.json" 2>"$T/err" &
qm=$!
wait_for '"status":"active"' "$T/out.json" 30 "not migrating yet"
kill -9 "$PID_src"
timeout 30 tail --pid=$qm -f /dev/null
wait $qm
expect_code 4 $? "source killed"
expect_grep '"result":"error"' "$T/out.json"
expect_grep 'lost the source monitor during the migration' "$T/err"
expect_grep 'QEMU may have died' "$T/err"
echo "PASS"
