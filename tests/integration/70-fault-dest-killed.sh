#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: the destination QEMU is killed in the middle of the migration.
# QEMU reports the failure; qmigrate exits 1 with QEMU's text, and the
# guest runs on the source.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming "unix:$T/mig.sock"
wait_guest src

# 64 MiB at 100 MiB/s never converges at 300 ms: the migration keeps going
"$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --policy pray --bandwidth 100 --json >"$T/out.json" 2>"$T/err" &
qm=$!
wait_for '"status":"active"' "$T/out.json" 30 "not migrating yet"
kill -9 "$PID_dst"
timeout 30 tail --pid=$qm -f /dev/null
wait $qm
expect_code 1 $? "destination killed"
expect_grep '"result":"failed"' "$T/out.json"
expect_grep 'QEMU: ' "$T/out.json"
expect_grep 'the guest runs on the source' "$T/out.json"
expect_status src running
echo "PASS"
