#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: the migration stream stalls (the destination is frozen with
# SIGSTOP).  No byte moves; the progress rule aborts after
# --progress-timeout; QEMU cancels; the guest runs on the source.
. "$(dirname "$0")/lib.sh"

# 256 MiB of data at 20 MiB/s: the first pass alone takes ~13 s, and the
# generous downtime keeps every other rule quiet; only the stall can end it.
# --preflight off: measured, the guest would get its ~25 s of downtime at
# once, and QEMU would switch over into the frozen destination, its
# monitor silent (it holds its big lock while it sends the rest)
start_qemu src 512 256
start_qemu dst 512 256 -incoming "unix:$T/mig.sock"
wait_guest src

"$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --bandwidth 20 --downtime 60000 --progress-timeout 4 --preflight off \
    --json \
    >"$T/out.json" 2>"$T/err" &
qm=$!
sleep 1.5
kill -STOP "$PID_dst"
start=$(date +%s)
timeout 60 tail --pid=$qm -f /dev/null
wait $qm
rc=$?
kill -CONT "$PID_dst" 2>/dev/null
expect_code 3 $rc "stalled stream"
secs=$(($(date +%s) - start))
[ "$secs" -ge 3 ] && [ "$secs" -le 20 ] ||
    fail "gave up $secs s after the stall (expected ~4)"
expect_grep 'no bytes moved for' "$T/out.json"
expect_grep '"action":"cancel"' "$T/out.json"
expect_grep '"result":"aborted"' "$T/out.json"
expect_status src running
echo "PASS (aborted $secs s after the stall)"
