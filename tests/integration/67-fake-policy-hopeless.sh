#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A hopeless large guest on the fake: 64 GiB at 10 Gbit/s (a fresh guest:
# 95 % zero pages, so pass 1 takes ~3 s) rewriting a 1 GiB working set
# faster than the link carries it: the switch-over needs ~0.9 s, 0.5 s
# is allowed.  adaptive aborts within 3 passes of the end of pass 1
# (exit 3), the reason naming the dirty rate, the bandwidth, the needed
# and the allowed downtime; the guest runs on the source.  With
# --postcopy it escalates to post-copy instead (a start-postcopy action,
# the fake in postcopy-active, pages fetched on demand) and completes.
#
# --time-scale 1: see 66-fake-policy-fits on why adaptive's tests do not
# run the fake faster than the wall clock.
. "$(dirname "$0")/lib.sh"

GUEST=(--ram 64G --zero-share 0.95 --zero-scan-rate 100G --working-set 1G --dirty-rate 1000000 --link 10gbit)

# --- adaptive: aborted within 3 passes --------------------------------------
start_fake hope "${GUEST[@]}"
qm hope 60
expect_code 3 "$RC" "hopeless guest"
within 10 "hopeless guest"
c=$(grep '"event":"action".*"action":"cancel"' "$T/hope.json")
[ -n "$c" ] || fail "no cancel action"
echo "$c" | grep -q 'dirty rate [0-9]* MB/s \(keeps up with\|exceeds\) bandwidth 1[12][0-9][0-9] MB/s; switch-over needs 0\.[89][0-9]* s, allowed 0\.50* s: abort' ||
    fail "the cancel's reason does not name the numbers: $c"
# the pass of the last sample before the cancel: at most pass 1 + 3
it=$(sed -n '/"action":"cancel"/q; s/.*"event":"progress".*"iteration":\([0-9]*\).*/\1/p' "$T/hope.json" | tail -n 1)
[ -n "$it" ] && [ "$it" -le 4 ] || fail "aborted at pass '$it', more than 3 after pass 1"
echo "aborted at pass $it: $c"
# pass 1 ended (pass 2 began) at least once before the verdict
grep -q '"event":"progress".*"iteration":2,' "$T/hope.json" ||
    grep -q '"event":"progress".*"iteration":3,' "$T/hope.json" || fail "no pass 2 or 3 seen"
end_reason hope | grep -q "allowed 0\.50* s: abort; the guest runs on the source" ||
    fail "end reason: $(end_reason hope)"
fake_is hope running cancelled

# --- adaptive --postcopy: post-copy, completed ------------------------------
start_fake post "${GUEST[@]}"
qm post 60 --postcopy
expect_code 0 "$RC" "hopeless guest with --postcopy"
within 12 "hopeless guest with --postcopy"
p=$(grep '"event":"action".*"action":"start-postcopy"' "$T/post.json")
echo "$p" | grep -q 'switch-over needs 0\.[89][0-9]* s, allowed 0\.50* s: post-copy' ||
    fail "start-postcopy reason: ${p:-none}"
grep -q '"action":"cancel"' "$T/post.json" && fail "cancelled instead of post-copy"
# the fake went to postcopy-active (what qmigrate's polls read from it),
# and nothing was emitted after post-copy began
expect_grep '"event":"progress","t":[0-9.]*,"status":"postcopy-active"' "$T/post.json"
sed -n '/"status":"postcopy-active"/,$p' "$T/post.json" | grep -q '"event":"action"' &&
    fail "an action after post-copy began"
expect_grep '"event":"end".*"result":"completed"' "$T/post.json"
fake_is post postmigrate completed
# the destination fetched pages on demand: post-copy really ran on the fake
"$QMP_CMD" "$T/post.qmp" query-migrate | grep -q '"postcopy-requests":[1-9]' ||
    fail "the fake served no post-copy requests"

echo "PASS"
