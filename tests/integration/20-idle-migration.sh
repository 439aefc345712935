#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An idle guest migrates: exit 0, the destination runs it, the source is
# postmigrate; the JSON lines follow DESIGN.md's contract.
. "$(dirname "$0")/lib.sh"

start_qemu src 128 0
start_qemu dst 128 0 -incoming "unix:$T/mig.sock"
wait_guest src

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --json >"$T/out.json" 2>"$T/err"
expect_code 0 $? "idle migration"
expect_status dst running
expect_status src postmigrate
expect_grep '"event":"start"' "$T/out.json"
expect_grep '"event":"progress"' "$T/out.json"
expect_grep '"event":"end".*"result":"completed"' "$T/out.json"
expect_grep '"downtime_ms":[0-9]' "$T/out.json"
# every line is an object with "event" and "t"
bad=$(grep -v '^{"event":"[a-z]*","t":[0-9.]*' "$T/out.json" | head -1)
[ -z "$bad" ] || fail "a JSON line without event and t: $bad"
echo "PASS"
