#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Traces written by qmigrate 0.1.0 (tests/fixtures, one from real QEMU 7.2,
# one from the fake) replay to the very actions that run recorded, for
# ever; a field a newer qmigrate adds is ignored, one an older lacked gets
# its default; a trace carries its format's version.
. "$(dirname "$0")/lib.sh"

FIX=$TOP/tests/fixtures
for n in stall hopeless; do
    "$QMIGRATE" replay "$FIX/trace-0.1.0-$n.jsonl" --json >"$T/$n" \
        2>"$T/$n.err"
    expect_code 0 $? "replay of the 0.1.0 $n trace"
    diff -u "$FIX/trace-0.1.0-$n.actions" "$T/$n" >"$T/$n.diff" ||
        fail "the 0.1.0 $n trace replays differently: $(cat "$T/$n.diff")"
done

# a newer writer's extra field, and an older one's missing optional fields
sed -e 's/"event":"sample",/"event":"sample","from_the_future":{"x":1},/' \
    -e 's/,"throttle_percent":0//' -e 's/,"pass_event":false//' \
    "$FIX/trace-0.1.0-stall.jsonl" >"$T/edited.jsonl"
grep -q from_the_future "$T/edited.jsonl" || fail "the edit did not apply"
grep -q throttle_percent "$T/edited.jsonl" && fail "the edit did not apply"
"$QMIGRATE" replay "$T/edited.jsonl" --json >"$T/edited" 2>"$T/edited.err"
expect_code 0 $? "replay of the edited trace"
diff -u "$FIX/trace-0.1.0-stall.actions" "$T/edited" >"$T/edited.diff" ||
    fail "the edited trace replays differently: $(cat "$T/edited.diff")"

# a sample without a time is refused, naming the line and the field
sed -e '4s/"t":[0-9.]*,//' "$FIX/trace-0.1.0-stall.jsonl" >"$T/no-t.jsonl"
sed -n 4p "$T/no-t.jsonl" | grep -q '"event":"sample"' ||
    fail "line 4 of the fixture is not a sample"
"$QMIGRATE" replay "$T/no-t.jsonl" --json >"$T/no-t" 2>"$T/no-t.err"
expect_code 2 $? "replay of a sample without t"
expect_grep "sample: 't' is missing" "$T/no-t.err"

# what qmigrate writes now says which format it is
start_fake f --ram 1G --working-set 0 --dirty-rate 0 --link 10gbit
qm f 30 --trace "$T/new.jsonl"
expect_code 0 "$RC" "a traced migration on the fake"
head -n 1 "$T/new.jsonl" | grep -q '"event":"start".*"trace_format":2' ||
    fail "the start line has no trace_format: $(head -n 1 "$T/new.jsonl")"
echo "PASS"
