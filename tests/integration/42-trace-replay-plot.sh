#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --trace records a real migration; replay under the same policy gives the
# very same action lines as migrate --json wrote; replay under nova shows
# its own decisions; plot draws a PNG; --metrics leaves a Prometheus file.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
start_qemu dst 512 64 -incoming "unix:$T/mig.sock"
wait_guest src

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --bandwidth 100 --downtime 2000 --json --trace "$T/trace.jsonl" \
    --metrics "$T/qmigrate.prom" >"$T/out.json" 2>"$T/err"
expect_code 0 $? "traced migration"
verify_guest_memory dst 64
expect_grep '"event":"sample"' "$T/trace.jsonl"
expect_grep '"event":"start".*"settings"' "$T/trace.jsonl"

grep '"event":"action"' "$T/out.json" >"$T/recorded"
[ -s "$T/recorded" ] || fail "the migration recorded no action"
"$QMIGRATE" replay "$T/trace.jsonl" --json >"$T/replayed" 2>"$T/replay.err"
expect_code 0 $? "replay"
diff -u "$T/recorded" "$T/replayed" >"$T/diff" ||
    fail "replay differs: $(cat "$T/diff")"

"$QMIGRATE" replay "$T/trace.jsonl" >"$T/table" 2>&1
expect_code 0 $? "replay table"
expect_grep "the decisions agree" "$T/table"

"$QMIGRATE" replay "$T/trace.jsonl" --policy nova >"$T/nova" 2>&1
expect_code 0 $? "replay under nova"
expect_grep "through policy nova" "$T/nova"
expect_grep "<>" "$T/nova"

"$QMIGRATE" plot "$T/trace.jsonl" -o "$T/m.png" >"$T/plot.out" 2>&1
expect_code 0 $? "plot"
file "$T/m.png" | grep -q "PNG image data" || fail "not a PNG: $(file "$T/m.png")"

expect_grep '^qmigrate_memory_total_bytes{vm=""} 5' "$T/qmigrate.prom"
expect_grep '^qmigrate_exit_code{vm="",result="completed"} 0' "$T/qmigrate.prom"
expect_grep '^# TYPE qmigrate_progress_ratio gauge' "$T/qmigrate.prom"

"$QMIGRATE" replay "$T/missing.jsonl" >"$T/out" 2>&1
expect_code 2 $? "replay of a missing trace"
expect_grep "missing.jsonl" "$T/out"
echo "garbage" >"$T/bad.jsonl"
"$QMIGRATE" replay "$T/bad.jsonl" >"$T/out" 2>&1
expect_code 2 $? "replay of a bad trace"
expect_grep "bad.jsonl:1: not a trace line" "$T/out"
echo "PASS"
