#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Linux guest rewrites 64 MiB flat out at a link of 20 MiB/s: the
# switch-over would need ~3.2 s, 0.5 s (the default) is allowed.  Adaptive aborts (exit
# 3, a reason naming the numbers) and the guest runs on the source only:
# its heartbeat goes on there and never starts on the destination.
. "$(dirname "$0")/lib.sh"

work="qmigrate.work=vm qmigrate.mib=64"
start_linux src 384 "$work"
start_linux dst 384 "$work" -incoming "unix:$T/mig.sock"
wait_linux src

start=$(date +%s)
timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --bandwidth 20 --json >"$T/out.json" 2>"$T/err"
expect_code 3 $? "hopeless Linux migration under adaptive"
secs=$(($(date +%s) - start))
expect_grep '"action":"cancel"' "$T/out.json"
expect_grep '"result":"aborted"' "$T/out.json"
expect_grep 'allowed 0.5' "$T/out.json"
expect_status src running
expect_runs_only_on src dst
[ "$(heartbeat dst)" = -1 ] || fail "the destination printed a heartbeat"
echo "PASS (gave up after $secs s)"
