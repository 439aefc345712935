#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The migration stream stalls: the fake's stall-bandwidth lets nothing
# through the wire (QEMU's migration thread blocks in a write), the guest
# keeps running and dirtying.  In pre-copy the dead-stream rule aborts
# (exit 3) within --progress-timeout (plus a poll or two) of the stall,
# naming it ("no bytes moved for S s ... stream dead or frozen"), and the
# guest runs on the source; a stall shorter than the timeout is ridden
# out.  In post-copy nothing may cancel (the guest already runs on the
# destination): qmigrate ends after the progress timeout without
# cancelling (exit 1), or on a second signal.
#
# --progress-timeout is in qmigrate's (wall) seconds, as every timer of
# qmigrate's; the fake runs at --time-scale 1 here.
. "$(dirname "$0")/lib.sh"

# --- stalled for good, 1 s into pre-copy: aborted within ~2 s ------------
# a 4 GiB guest on 1 Gbit/s: pass 1 alone would take 30 s
start_fake dead --ram 4G --working-set 1G --dirty-rate 300000 --link 1gbit \
    --fault "on=status:active after=1s stall-bandwidth"
# (--preflight off: this guest is hopeless too, and the preflight would
# say so first; the dead-stream rule is the subject here)
qm dead 30 --progress-timeout 2 --preflight off
expect_code 3 "$RC" "stalled stream"
within 5 "stalled stream"
c=$(grep '"event":"action".*"action":"cancel"' "$T/dead.json")
echo "$c" | grep -q '"reason":"no bytes moved for [0-9.]* s .*stream dead or frozen' ||
    fail "stalled stream: cancel action: ${c:-none}"
end_reason dead | grep -q "no bytes moved for [0-9.]* s .*; the guest runs on the source" ||
    fail "stalled stream: $(end_reason dead)"
expect_grep '"event":"end".*"result":"aborted".*"exit_code":3' "$T/dead.json"
# not before the stall (1 s) plus the timeout (2 s)
t=$(sed -n 's/.*"event":"action","t":\([0-9.]*\),"action":"cancel".*/\1/p' "$T/dead.json")
awk -v t="$t" 'BEGIN { exit !(t >= 2.9) }' || fail "cancelled at $t s, before the progress timeout"
fake_is dead running cancelled

# --- stalled for 1 s, under a 3 s progress timeout: completes ------------
# a 4 GiB guest with a 32 MiB working set on 10 Gbit/s: about 2 s
start_fake blip --ram 4G --working-set 32M --link 10gbit \
    --fault "on=status:active after=0.5s stall-bandwidth:1s"
qm blip 30 --progress-timeout 3
expect_code 0 "$RC" "a short stall"
within 6 "a short stall"
awk -v s="$SECS" 'BEGIN { exit !(s >= 2.5) }' || fail "no stall seen ($SECS s)"
grep -q '"action":"cancel"' "$T/blip.json" && fail "a short stall was cancelled"
expect_grep '"event":"end".*"result":"completed"' "$T/blip.json"
fake_is blip postmigrate completed

# --- stalled in post-copy: never cancelled, the source never resumed -------
# The 64 GiB guest of 67-fake-policy-hopeless: adaptive starts post-copy
# at pass 4 (~4.5 s); 50 ms later the wire stops for good.  After
# --progress-timeout without a byte moved qmigrate gives up following it,
# without a cancel: exit 1, naming the stall, the split guest and QEMU's
# post-copy recovery.
PC=(--ram 64G --zero-share 0.95 --zero-scan-rate 100G --working-set 1G --dirty-rate 1000000 --link 10gbit)
start_fake post "${PC[@]}" --fault "on=status:postcopy-active after=0.05s stall-bandwidth"
qm post 60 --postcopy --progress-timeout 2
expect_code 1 "$RC" "stalled post-copy"
within 10 "stalled post-copy"
expect_grep '"action":"start-postcopy"' "$T/post.json"
expect_grep '"event":"progress".*"status":"postcopy-active"' "$T/post.json"
grep -q '"action":"cancel"' "$T/post.json" && fail "post-copy was cancelled"
r=$(end_reason post)
echo "$r" | grep -q "post-copy stalled: no bytes moved for [0-9.]* s" || fail "stalled post-copy: $r"
echo "$r" | grep -q "Do not resume the source" || fail "stalled post-copy: $r"
echo "$r" | grep -q "post-copy recovery" || fail "stalled post-copy: $r"
# the source stays stopped (finish-migrate: QEMU's run state through
# post-copy), the migration still post-copy
fake_is post finish-migrate postcopy-active

# --- ... and signals then: the first is refused, the second leaves ----------
# (--progress-timeout 60: only the signals can end it)
start_fake sig "${PC[@]}" --fault "on=status:postcopy-active after=0.05s stall-bandwidth"
"$QMIGRATE" migrate --source "$T/sig.qmp" --to tcp:127.0.0.1:4444 --json \
    --postcopy --progress-timeout 60 >"$T/sig.json" 2>"$T/sig.err" &
qmpid=$!
for _ in $(seq 300); do
    grep -q '"status":"postcopy-active"' "$T/sig.json" && break
    sleep 0.1
done
grep -q '"status":"postcopy-active"' "$T/sig.json" || fail "no post-copy to signal"
sleep 0.5
kill -TERM "$qmpid"
sleep 1
kill -0 "$qmpid" 2>/dev/null || fail "one SIGTERM ended qmigrate during post-copy"
expect_grep "not cancelling: post-copy has started" "$T/sig.err"
kill -INT "$qmpid"
t0=$(date +%s)
while kill -0 "$qmpid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt 10 ]; do
    sleep 0.1
done
kill -0 "$qmpid" 2>/dev/null && fail "a second signal did not end qmigrate"
wait "$qmpid"
RC=$?
echo "sig: exit $RC"
# the contract has no row for "left, on request, during post-copy": not
# 0 (not completed) and not 3 (nothing was cancelled); today 4.
[ "$RC" -ne 0 ] && [ "$RC" -ne 3 ] || fail "left during post-copy: exit $RC"
grep -q '"action":"cancel"' "$T/sig.json" && fail "post-copy was cancelled"
end_reason sig | grep -q "left during post-copy.*qmigrate watch --source" ||
    fail "left during post-copy: $(end_reason sig)"
fake_is sig finish-migrate postcopy-active

echo "PASS"
