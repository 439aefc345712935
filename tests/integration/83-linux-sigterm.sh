#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGTERM in the middle of migrating the Linux guest (stress-ng --vm on
# 64 MiB, a link of 20 MiB/s): qmigrate cancels, waits for QEMU's
# 'cancelled', exits 3, and the guest runs on the source only.
. "$(dirname "$0")/lib.sh"

work="qmigrate.work=vm qmigrate.mib=64"
start_linux src 384 "$work"
start_linux dst 384 "$work" -incoming "unix:$T/mig.sock"
wait_linux src

# --policy pray: nothing but the signal ends it (adaptive would judge this
# guest hopeless from its dirty rate within seconds, as 82 shows)
"$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --policy pray --bandwidth 20 --json >"$T/out.json" 2>"$T/err" &
qm=$!
i=0
until grep -q '"status":"active"' "$T/out.json" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 300 ] && fail "the migration did not become active in 30 s"
    sleep 0.1
done
sleep 2
kill -TERM $qm
timeout 60 tail --pid=$qm -f /dev/null
wait $qm
expect_code 3 $? "SIGTERM"
expect_grep '"status":"cancelled"' "$T/out.json"
expect_grep '"result":"aborted"' "$T/out.json"
expect_grep "SIGTERM" "$T/out.json"
qmp src query-migrate | grep -q '"status":"cancelled"' ||
    fail "QEMU did not cancel on SIGTERM"
expect_status src running
expect_runs_only_on src dst
[ "$(heartbeat dst)" = -1 ] || fail "the destination printed a heartbeat"
echo "PASS"
