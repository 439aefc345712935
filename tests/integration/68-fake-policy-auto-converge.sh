#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --auto-converge on the fake: 8 GiB at 10 Gbit/s rewriting a 2 GiB
# working set a little slower than the link carries it (needs ~1.4 s of
# downtime, 0.5 s allowed).  Without throttling it still converges, slowly:
# each pass leaves a little less, and the dirty-rate measurements (1.4 GB/s
# over a 2 GiB working set) cannot rule out that it fits, so adaptive
# never aborts a migration whose own passes keep reaching new lows (qmigrate
# 0.1.0 aborted it: a false verdict); it raises the limit and the migration
# completes after many passes (exit 0).  With --auto-converge adaptive raises the limit to --downtime
# and releases QEMU's throttle (an auto-converge action) at the first
# evidence; QEMU throttles the vCPUs (20 %, then 30 %: every two dirty-
# rate periods of >= 1 s, as QEMU 7.2 does), the passes shrink and the
# migration completes: exit 0, the source in postmigrate.
#
# --time-scale 1: see 66-fake-policy-fits.
. "$(dirname "$0")/lib.sh"

GUEST=(--ram 8G --zero-share 0.75 --working-set 2G --dirty-rate 350000 --link 10gbit)

# --- without --auto-converge: no false abort, completed slowly ---------------
start_fake plain "${GUEST[@]}"
qm plain 60
expect_code 0 "$RC" "no auto-converge"
grep -q '"action":"auto-converge"' "$T/plain.json" && fail "auto-converge not permitted, yet used"
grep -q '"action":"cancel"' "$T/plain.json" && fail "a converging migration aborted"
d=$(sed -n 's/.*"event":"end".*"downtime_ms":\([0-9]*\).*/\1/p' "$T/plain.json")
[ -n "$d" ] && [ "$d" -le 500 ] || fail "downtime '$d' ms, over the 500 allowed"
plain_secs=$SECS
fake_is plain postmigrate completed

# --- with it: throttled, completed ------------------------------------------
start_fake ac "${GUEST[@]}"
qm ac 60 --auto-converge
expect_code 0 "$RC" "--auto-converge"
within 15 "--auto-converge"
# throttling is what makes it quick: faster than without
awk -v a="$SECS" -v p="$plain_secs" 'BEGIN { exit !(a < p) }' ||
    fail "--auto-converge took $SECS s, no quicker than $plain_secs s without"
expect_grep '"event":"start".*"auto-converge":true' "$T/ac.json"
a=$(grep '"event":"action".*"action":"auto-converge"' "$T/ac.json")
[ "$(echo "$a" | grep -c .)" -eq 1 ] || fail "expected one auto-converge action: $a"
echo "$a" | grep -q 'switch-over needs [0-9.]* s, allowed 0\.50* s: throttle the guest' ||
    fail "auto-converge reason: $a"
# the limit went to the allowed maximum at the same evidence: --downtime
# less the 20 ms adaptive leaves for the device state once it measured the
# guest (docs/policy.md)
expect_grep '"action":"set-downtime","value":480,' "$T/ac.json"
# QEMU throttled only after the release, and more than once
sed -n '/"action":"auto-converge"/q; p' "$T/ac.json" | grep -q '"throttle_percent":[1-9]' &&
    fail "throttled before the release"
max=$(grep -o '"throttle_percent":[0-9]*' "$T/ac.json" | cut -d: -f2 | sort -n | tail -n 1)
[ "$max" -ge 30 ] || fail "the throttle reached only $max %"
echo "throttle up to $max %"
grep -q '"action":"cancel"' "$T/ac.json" && fail "cancelled"
expect_grep '"event":"end".*"result":"completed"' "$T/ac.json"
fake_is ac postmigrate completed
"$QMP_CMD" "$T/ac.qmp" query-migrate-capabilities |
    grep -q '"capability":"auto-converge","state":true\|"state":true,"capability":"auto-converge"' ||
    fail "auto-converge capability not set on the fake"

# --- short passes: adaptive waits for QEMU's throttle ------------------------
# 8 GiB, a 1 GiB working set at 700000 pages/s: passes of ~0.4 s, while
# QEMU raises the throttle only every second dirty-rate period of >= 1 s
# (migration_trigger_throttle): adaptive must wait seconds, not just
# passes, before it calls the throttle run out.
start_fake short --ram 8G --zero-share 0.8 --working-set 1G \
    --dirty-rate 700000 --link 10gbit
qm short 60 --auto-converge
expect_code 0 "$RC" "--auto-converge, short passes"
within 15 "--auto-converge, short passes"
expect_grep '"action":"auto-converge"' "$T/short.json"
grep -q '"action":"cancel"' "$T/short.json" && fail "short passes: cancelled"
grep -q 'throttle at 0 %' "$T/short.json" && fail "short passes: gave up at 0 % throttle"
grep -q '"throttle_percent":[1-9]' "$T/short.json" || fail "short passes: never throttled"
fake_is short postmigrate completed

echo "PASS"
