#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault: qmigrate gets SIGTERM (then, in a second run, SIGINT) in the
# middle of a migration: it cancels, waits until QEMU reports cancelled,
# exits 3, and the guest runs on the source.
. "$(dirname "$0")/lib.sh"

start_qemu src 512 64
wait_guest src

for sig in TERM INT; do
    start_qemu "dst$sig" 512 64 -incoming "unix:$T/mig$sig.sock"
    "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig$sig.sock" \
        --policy pray --bandwidth 100 --json >"$T/out$sig.json" \
        2>"$T/err$sig" &
    qm=$!
    wait_for '"status":"active"' "$T/out$sig.json" 30 "SIG$sig: not migrating yet"
    kill -"$sig" $qm
    timeout 60 tail --pid=$qm -f /dev/null
    wait $qm
    expect_code 3 $? "SIG$sig"
    expect_grep '"status":"cancelled"' "$T/out$sig.json"
    expect_grep '"result":"aborted"' "$T/out$sig.json"
    expect_grep "SIG$sig" "$T/out$sig.json"
    qmp src query-migrate | grep -q '"status":"cancelled"' ||
        fail "QEMU did not cancel on SIG$sig"
    expect_status src running
done
echo "PASS"
