#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --policy vdsm on the fake, run faster than the wall clock: its schedule's
# set-downtime steps appear as actions, in the schedule's order, at VDSM's
# 10 s monitor polls.
#
# Time: vdsm decides at most once per 10 s of qmigrate's clock (wall
# seconds), on the pass count (n = passes since the first poll), not on
# rates; so the fake may run faster: --time-scale F makes QEMU's passes F
# times as frequent and the test no longer.  Both runs go side by side.
#  * The stock profile (minimal-downtime: init 100, then 150, 200, 300,
#    400, 500, abort) on a 16 GiB guest at 10 Gbit/s whose 300 MiB
#    working set stalls up to 200 ms and converges at 300 ms, at
#    --time-scale 10: 150 at 10 s, 200 at 20 s, 300 at 30 s, completed;
#    five minutes of QEMU's time in 30 s.
#  * A schedule file (init 100, 1 -> 250, last -> abort) on a hopeless
#    64 GiB guest at 1 Gbit/s (400 MiB working set, needs 3.4 s) at
#    --time-scale 60: 100, 250 at 10 s, abort at 20 s, exit 3 naming the
#    schedule; twenty minutes of QEMU's time in 20 s.
. "$(dirname "$0")/lib.sh"

# the set-downtime values of a run, in order, on one line
steps() {
    sed -n 's/.*"event":"action".*"action":"set-downtime","value":\([0-9]*\),.*/\1/p' \
        "$T/$1.json" | tr '\n' ' '
}

cat >"$T/short.sched" <<'SCHED'
# a short schedule for the test
init set-downtime 100
1 set-downtime 250
last abort
SCHED

start_fake stock --ram 16G --working-set 300M --dirty-rate 1000000 \
    --link 10gbit --time-scale 10
start_fake file --ram 64G --working-set 400M --dirty-rate 1000000 \
    --link 1gbit --time-scale 60
qm file 90 --policy vdsm --schedule "$T/short.sched" &
filejob=$!
qm stock 90 --policy vdsm
wait $filejob
expect_code 0 $? "the qm helper (file)"
# qm set RC/SECS in a subshell for 'file': read them back from its output
RC_file=$(sed -n 's/.*"event":"end".*"exit_code":\([0-9]*\).*/\1/p' "$T/file.json")

# --- stock profile: 100, 150, 200, 300, completed ---------------------------
expect_code 0 "$RC" "vdsm, stock profile"
within 40 "vdsm, stock profile"
expect_grep '"event":"start".*"policy":"vdsm".*"name":"minimal-downtime"' "$T/stock.json"
[ "$(steps stock)" = "100 150 200 300 " ] ||
    fail "stock profile steps: '$(steps stock)', expected '100 150 200 300 '"
expect_grep '"action":"set-downtime","value":100,"reason":"init action of schedule minimal-downtime' "$T/stock.json"
# each step is the schedule's next entry, at a later pass and >= 9.5 s
# after the one before (VDSM's 10 s polls)
grep '"action":"set-downtime"' "$T/stock.json" | tail -n +2 |
    sed -n 's/.*"t":\([0-9.]*\),.*"reason":"iteration \([0-9]*\) > limit \([0-9]*\) of schedule minimal-downtime.*/\1 \2 \3/p' \
        >"$T/stock.steps"
[ "$(cut -d' ' -f3 "$T/stock.steps" | tr '\n' ' ')" = "1 2 3 " ] ||
    fail "steps are not the schedule's entries 1, 2, 3: $(cat "$T/stock.steps")"
awk 'NR > 1 && !($1 >= t + 9.5 && $2 > it) { exit 1 } { t = $1; it = $2 }' \
    "$T/stock.steps" || fail "steps not 10 s and some passes apart: $(cat "$T/stock.steps")"
grep -q '"action":"cancel"' "$T/stock.json" && fail "stock profile cancelled"
expect_grep '"event":"end".*"result":"completed"' "$T/stock.json"
fake_is stock postmigrate completed

# --- schedule file: 100, 250, abort -------------------------------------------
expect_code 3 "$RC_file" "vdsm, schedule file"
ms=$(sed -n 's/.*"event":"end".*"total_time_ms":\([0-9]*\).*/\1/p' "$T/file.json")
[ "$ms" -lt 30000 ] || fail "the schedule file's run took $ms ms"
expect_grep '"event":"start".*"policy":"vdsm".*"name":"short.sched"' "$T/file.json"
[ "$(steps file)" = "100 250 " ] || fail "file steps: '$(steps file)', expected '100 250 '"
c=$(grep '"event":"action".*"action":"cancel"' "$T/file.json")
echo "$c" | grep -q 'limit last of schedule short.sched: abort (downtime 250 ms did not converge)' ||
    fail "schedule abort: ${c:-none}"
# the abort comes after the 250 ms step
sed -n '/"action":"cancel"/q; p' "$T/file.json" | grep -q '"value":250,' ||
    fail "aborted before the 250 ms step"
expect_grep '"event":"end".*"result":"aborted".*"exit_code":3' "$T/file.json"
fake_is file running cancelled

echo "PASS"
