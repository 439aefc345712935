#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: --timeout-action force-complete pauses the guest, and then the
# migration fails (the destination dies).  qmigrate resumes the guest on
# the source before it exits 1.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming "unix:$T/mig.sock"
wait_guest src

# nova's cap: 2 GiB x 1 s = 2 s; then force-complete pauses (no post-copy).
# Paused at 10 MiB/s, the 64 MiB left need ~6 s to drain: time to fail it.
"$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --policy nova --completion-timeout 1 --timeout-action force-complete \
    --bandwidth 10 --json >"$T/out.json" 2>"$T/err" &
qm=$!
for _ in $(seq 100); do
    grep -q '"action":"pause"' "$T/out.json" && break
    sleep 0.1
done
expect_grep '"action":"pause"' "$T/out.json"
# (the monitor is qmigrate's now: the pause shows in its progress lines)
kill -9 "$PID_dst"
timeout 60 tail --pid=$qm -f /dev/null
wait $qm
expect_code 1 $? "failed after force-complete"
expect_grep '"result":"failed"' "$T/out.json"
expect_grep 'the guest was resumed and runs on the source' "$T/out.json"
expect_status src running
echo "PASS"
