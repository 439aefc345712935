#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Linux guest rewrites 512 MiB of its 1 GiB flat out (stress-ng --vm)
# on a 50 MiB/s link, --downtime 500: adaptive's dirty-rate measurements
# judge it hopeless within 5 s of qmigrate's start, under 100 MiB sent,
# naming the measurement that decided; the guest runs on the source only.
. "$(dirname "$0")/lib.sh"

work="qmigrate.work=vm qmigrate.mib=512"
start_linux src 1024 "$work"
start_linux dst 1024 "$work" -incoming "unix:$T/mig.sock"
wait_linux src
sleep 2 # stress-ng has written its 512 MiB once

t0=$(date +%s%N)
timeout 60 "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --bandwidth 50 --downtime 500 --json >"$T/out.json" 2>"$T/err"
expect_code 3 $? "hopeless Linux guest under adaptive"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 5000 ] || fail "judged after $ms ms, not within 5 s"
expect_grep '"result":"aborted"' "$T/out.json"
expect_grep '"reason":"preflight: measurement [0-9]' "$T/out.json"
sent=$(sed -n 's/.*"event":"end".*"transferred":\([0-9]*\).*/\1/p' "$T/out.json")
[ -n "$sent" ] && [ "$sent" -lt $((100 << 20)) ] ||
    fail "sent '$sent' bytes before the verdict, not under 100 MiB"
expect_status src running
expect_runs_only_on src dst
echo "PASS (judged after $ms ms, $sent bytes sent)"
