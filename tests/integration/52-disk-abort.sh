#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An abort in the middle of the disk copy (SIGINT while the mirror runs):
# exit 3, no block job left behind, the source running on its disk,
# which is unchanged.  And --disk blk against a QEMU without block
# migration (the fake pretends to be 9.1) fails at once, naming mirror.
. "$(dirname "$0")/lib.sh"

"$QEMU_IMG" create -q -f qcow2 "$T/src.qcow2" 256M
"$QEMU_IO" -f qcow2 -c "write -P 0x5a 0 128M" "$T/src.qcow2" >/dev/null
cp "$T/src.qcow2" "$T/orig.qcow2"
"$QEMU_IMG" create -q -f qcow2 "$T/dst.qcow2" 256M
# shellcheck disable=SC2046
start_qemu src 256 16 $(disk_args "$T/src.qcow2")
# shellcheck disable=SC2046
start_qemu dst 256 16 $(disk_args "$T/dst.qcow2") -incoming defer -S
wait_guest src

# 256 MiB at 16 MiB/s: the mirror needs ~16 s; interrupt it after 3
# (--downtime 3000: the 16 MiB working set fits, so the dirty-rate
# preflight does not refuse the migration before the mirror starts)
"$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "unix:$T/mig.sock" --disk mirror --bandwidth 16 --downtime 3000 \
    --json \
    >"$T/out.json" 2>"$T/err" &
qm=$!
sleep 3
grep -q '"disk":{"total":268435456,"remaining":[1-9]' "$T/out.json" ||
    fail "the mirror is not under way"
kill -INT $qm
wait $qm
expect_code 3 $? "interrupted mirror"
expect_grep '"result":"aborted"' "$T/out.json"
expect_grep 'mirrors were cancelled' "$T/out.json"
expect_status src running
[ "$(qmp src query-block-jobs)" = "[]" ] || fail "a block job is left"
qmp src query-migrate | grep -q '"status"' && fail "a migration was started"
qmp dst query-block-exports | grep -q qmigrate && fail "an NBD export is left"
qmp src quit >/dev/null 2>&1
wait $PID_src 2>/dev/null
"$QEMU_IMG" compare -f qcow2 -F qcow2 "$T/orig.qcow2" "$T/src.qcow2" \
    >"$T/compare" 2>&1 || fail "the source disk changed: $(cat "$T/compare")"

# --disk blk on a QEMU without block migration
"$FAKE_QEMU" --qmp "unix:$T/fake.qmp" --version 9.1.0 >"$T/fake.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 50); do [ -S "$T/fake.qmp" ] && break; sleep 0.1; done
"$QMIGRATE" migrate --source "$T/fake.qmp" --to "unix:$T/x.sock" \
    --disk blk >"$T/blk.out" 2>&1
expect_code 2 $? "--disk blk on QEMU 9.1"
expect_grep "QEMU 9.1 has no block migration" "$T/blk.out"
expect_grep "use --disk mirror" "$T/blk.out"
echo "PASS"
