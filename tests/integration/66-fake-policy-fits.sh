#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A large guest whose working set stalls at QEMU's 300 ms but fits in the
# allowed downtime, on the fake: 16 GiB at 10 Gbit/s, 768 MiB kept dirty
# (needs ~0.64 s to switch over), --downtime 1000.  adaptive sees the
# stall at pass 3 and sets the downtime the guest needs (~800 ms) in one
# set-downtime action: it completes, the source ends in postmigrate.
# nova with its defaults would take hours to get there: its downtime
# steps come every 75 s/GiB x 16 GiB = 1200 s (100 ms, 190 ms, ... 640 ms
# at step 6, after 2 h), its completion cap is 800 s/GiB x 16 GiB = 3.6 h.
# Shown with --completion-timeout 0.25 (s per GiB: a 4 s cap): aborted
# still at its first step, 100 ms, exit 3, the guest on the source.
#
# Time: the fake runs at --time-scale 1 here (zero pages are 80 % of RAM,
# so pass 1 takes ~3 s).  qmigrate measures bandwidth on its own wall
# clock while QEMU's dirty rate, mbps and downtime are in QEMU's time, so
# under --time-scale F adaptive's need (remaining / bandwidth) is off by
# up to F and its decisions are wrong (BUG note at the end); nova's and
# vdsm's time- and pass-driven schedules do not care (69-fake-policy-vdsm
# runs at a time scale).  All of qmigrate's timeouts are wall seconds.
. "$(dirname "$0")/lib.sh"

GUEST=(--ram 16G --zero-share 0.8 --working-set 768M --dirty-rate 1000000 --link 10gbit)

# --- adaptive: one set-downtime, completed ---------------------------------
# (--preflight off: the pass rule is this test's subject; the preflight's
# own raise on this guest, and its verdicts, are tests 33 and 67's)
start_fake ad "${GUEST[@]}"
qm ad 60 --downtime 1000 --preflight off
expect_code 0 "$RC" "adaptive, a stall that fits"
within 10 "adaptive, a stall that fits"
expect_grep '"event":"start".*"policy":"adaptive"' "$T/ad.json"
# the initial limit, then exactly one raise, at a pass boundary
[ "$(grep -c '"action":"set-downtime"' "$T/ad.json")" -eq 2 ] ||
    fail "expected the initial and one raised set-downtime"
a=$(grep '"action":"set-downtime","value":[0-9]*,"reason":"pass' "$T/ad.json")
v=$(echo "$a" | sed -n 's/.*"value":\([0-9]*\).*/\1/p')
[ -n "$v" ] && [ "$v" -gt 300 ] && [ "$v" -le 1000 ] ||
    fail "the raised downtime is '$v', not within 300..1000: $a"
echo "$a" | grep -q 'switch-over needs 0\.[5-7][0-9]* s, allowed 1\.0* s' ||
    fail "the reason does not name need and allowance: $a"
grep -q '"action":"cancel"' "$T/ad.json" && fail "adaptive cancelled"
expect_grep '"event":"end".*"result":"completed"' "$T/ad.json"
# QEMU's downtime stayed within what was set
d=$(sed -n 's/.*"event":"end".*"downtime_ms":\([0-9]*\).*/\1/p' "$T/ad.json")
[ -n "$d" ] && [ "$d" -le "$v" ] || fail "downtime '$d' ms above the $v ms set"
fake_is ad postmigrate completed
"$QMP_CMD" "$T/ad.qmp" query-migrate-parameters | grep -q "\"downtime-limit\":$v" ||
    fail "the fake's downtime-limit is not $v"

# --- nova, defaults but a 4 s completion cap: still at 100 ms, aborted -------
start_fake nova "${GUEST[@]}"
qm nova 60 --downtime 1000 --policy nova --completion-timeout 0.25
expect_code 3 "$RC" "nova, the same guest"
within 8 "nova, the same guest"
awk -v s="$SECS" 'BEGIN { exit !(s >= 4) }' || fail "nova gave up before its cap ($SECS s)"
[ "$(grep -c '"action":"set-downtime"' "$T/nova.json")" -eq 1 ] ||
    fail "nova stepped the downtime within 4 s"
expect_grep '"action":"set-downtime","value":100,' "$T/nova.json"
c=$(grep '"action":"cancel"' "$T/nova.json")
echo "$c" | grep -q 'completion timeout 4 s .*data 16.0 GiB' || fail "nova's cancel: $c"
expect_grep '"event":"end".*"result":"aborted".*"exit_code":3' "$T/nova.json"
fake_is nova running cancelled
# the per-GiB figure as given
echo "$c" | grep -q '(0.25 s/GiB x data 16.0 GiB)' || fail "completion timeout misprinted: $c"

# BUG: the same guest at --time-scale 5 (a 16 GiB migration in ~1 s of
# wall time) should behave the same, but adaptive measured "bandwidth
# 3094 MB/s" (bytes per wall second; the link is 1250 MB/s of model
# time), computed "needs 0.25 s", set 320 then 330 ms, and the migration
# stalled until the no-progress rule aborted it (exit 3).  At scale 20 it
# measured 44 MB/s and "needs 17.9 s"; at 60 it fell back on QEMU's mbps
# and got it right.  qmigrate should take the sample's time from QEMU's
# own clock (query-migrate's total-time), as it takes QEMU's rates:
# start_fake ad5 "${GUEST[@]}" --time-scale 5
# qm ad5 30 --downtime 1000 --progress-timeout 10
# expect_code 0 "$RC" "adaptive at --time-scale 5"
# grep '"action":"set-downtime","value":[0-9]*,"reason":"pass' "$T/ad5.json" |
#     grep -q 'switch-over needs 0\.[5-7]' || fail "wrong need at scale 5"

echo "PASS"
