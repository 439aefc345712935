#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The same stall under --policy nova with a tiny --completion-timeout is
# aborted by the completion rule: exit 3, guest running on the source.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming "unix:$T/mig.sock"
wait_guest src

# nova's data size is at least 2 GiB: 2 s per GiB gives a 4 s cap
timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --policy nova --bandwidth 100 --completion-timeout 2 --json \
    >"$T/out.json" 2>"$T/err"
expect_code 3 $? "nova completion timeout"
expect_grep '"action":"cancel"' "$T/out.json"
expect_grep 'completion' "$T/out.json"
expect_grep '"result":"aborted"' "$T/out.json"
expect_status src running
echo "PASS"
