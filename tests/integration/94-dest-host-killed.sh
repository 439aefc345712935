#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The destination host's QEMU is killed in the first pre-copy pass.  Host
# b's kernel resets the connection, QEMU on host a reports the migration
# failed, and qmigrate says so: exit 1, the guest running on host a (and
# the destination's monitor named as lost).
. "$(dirname "$0")/lib.sh"
two_hosts_up 20mbit
port=$((20000 + $$ % 20000))

start_qemu src 512 12
ON_HOST=b start_qemu dst 512 12 -incoming defer
wait_guest src
migrate_bg killed --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "tcp:$HOST_B:$port" --downtime 8000
wait_active killed
sleep 1.5
# shellcheck disable=SC2154
kill -9 "$PID_dst"
wait $QM_PID
expect_code 1 $? "a migration whose destination QEMU was killed: $(end_reason killed)"
expect_grep '"result":"failed"' "$T/killed.json"
expect_grep "lost the destination monitor" "$T/killed.err"
end_reason killed | grep -q "the guest runs on the source" ||
    fail "the end reason does not say where the guest is: $(end_reason killed)"
runs_only_on src dst
echo "PASS"
