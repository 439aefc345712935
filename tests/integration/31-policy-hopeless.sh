#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A hopeless migration (256 MiB working set at 20 MiB/s needs ~13 s of
# downtime, 0.5 s allowed) is aborted by adaptive in well under a minute:
# exit 3, a reason naming the numbers, the guest running on the source.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 256
start_qemu dst 512 256 -incoming "unix:$T/mig.sock"
wait_guest src

start=$(date +%s)
timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --bandwidth 20 --json >"$T/out.json" 2>"$T/err"
expect_code 3 $? "hopeless migration under adaptive"
secs=$(($(date +%s) - start))
[ "$secs" -lt 60 ] || fail "took $secs s to give up"
expect_grep '"action":"cancel"' "$T/out.json"
expect_grep '"result":"aborted"' "$T/out.json"
expect_grep 'allowed 0.5' "$T/out.json"
expect_status src running
echo "PASS (gave up after $secs s)"
