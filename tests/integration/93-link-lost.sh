#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The link between the hosts goes down in the first pre-copy pass and
# stays down.  No byte moves; the progress timeout (here 3 s) aborts the
# migration: QEMU's cancel does not need the far side, so qmigrate ends
# with exit 3 and the guest running on host a, while host b's QEMU, cut
# off, still waits for a stream that will never come (never running).
. "$(dirname "$0")/lib.sh"
two_hosts_up 20mbit
port=$((20000 + $$ % 20000))

start_qemu src 512 12
ON_HOST=b start_qemu dst 512 12 -incoming defer
wait_guest src
migrate_bg lost --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "tcp:$HOST_B:$port" --downtime 8000 --progress-timeout 3
wait_active lost
sleep 1.5
link_down
wait $QM_PID
expect_code 3 $? "a migration whose link went down for good: $(end_reason lost)"
expect_grep '"result":"aborted"' "$T/lost.json"
# the rule fires at the first sample past 3 s still: "for 3 s" or "for 4 s"
end_reason lost | grep -q "no bytes moved for [34] s.*> progress timeout 3 s.*the guest runs on the source" ||
    fail "the end reason does not say why: $(end_reason lost)"
runs_only_on src dst
expect_status dst inmigrate
echo "PASS"
