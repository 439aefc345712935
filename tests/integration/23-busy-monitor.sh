#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A monitor held by another client: qmigrate says it is busy (exit 4)
# within the greeting timeout, and nothing changes.
. "$(dirname "$0")/lib.sh"

start_qemu src 128 0
"$QMP_CMD" --hold 20 "$T/src.qmp" query-status >/dev/null 2>&1 &
holder=$!
PIDS="$PIDS $holder"
sleep 0.5

start=$(date +%s)
timeout 30 "$QMIGRATE" migrate --source "$T/src.qmp" --to unix:"$T/m" \
    --greeting-timeout 1 >"$T/out" 2>&1
expect_code 4 $? "busy monitor"
end=$(date +%s)
expect_grep "busy" "$T/out"
[ $((end - start)) -le 10 ] || fail "took $((end - start)) s to say busy"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
expect_status src running
echo "PASS"
