#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --disk blk (QEMU's block migration, 7.2): the disk is copied with the
# RAM; afterwards both disks are identical and the guest runs on the
# destination; the progress lines carry the disk apart from memory.
# QEMU 9.1 and later have no block migration: there qmigrate refuses
# before it starts anything (exit 2, naming --disk mirror), and the guest
# keeps running on the source.
. "$(dirname "$0")/lib.sh"

"$QEMU_IMG" create -q -f qcow2 "$T/src.qcow2" 128M
"$QEMU_IO" -f qcow2 -c "write -P 0x5a 0 16M" -c "write -P 0xa5 64M 8M" \
    "$T/src.qcow2" >/dev/null
"$QEMU_IMG" create -q -f qcow2 "$T/dst.qcow2" 128M
# shellcheck disable=SC2046
start_qemu src 256 16 $(disk_args "$T/src.qcow2")
# shellcheck disable=SC2046
start_qemu dst 256 16 $(disk_args "$T/dst.qcow2") -incoming "unix:$T/mig.sock"
wait_guest src

if qemu_at_least 9.1; then
    timeout 60 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
        --to "unix:$T/mig.sock" --disk blk --json >"$T/out.json" 2>"$T/err"
    expect_code 2 $? "--disk blk on QEMU $QEMU_VERSION"
    major_minor=$(echo "$QEMU_VERSION" | cut -d. -f1-2)
    expect_grep "QEMU $major_minor has no block migration" "$T/err"
    expect_grep "use --disk mirror with --dest" "$T/err"
    expect_grep '"result":"error".*"exit_code":2' "$T/out.json"
    qmp src query-migrate | grep -q '"status"' && fail "a migration was started"
    expect_status src running
    echo "PASS (QEMU $QEMU_VERSION refuses block migration)"
    exit 0
fi

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "unix:$T/mig.sock" --disk blk --json >"$T/out.json" 2>"$T/err"
expect_code 0 $? "block migration"
expect_grep '"result":"completed"' "$T/out.json"
expect_grep '"disk":{"total":134217728' "$T/out.json"
expect_status dst running
expect_status src postmigrate
verify_guest_memory dst 16
# quit (not kill): QEMU writes its cached image metadata on the way out
qmp dst quit >/dev/null 2>&1
qmp src quit >/dev/null 2>&1
wait $PID_src $PID_dst 2>/dev/null
"$QEMU_IMG" compare -f qcow2 -F qcow2 "$T/src.qcow2" "$T/dst.qcow2" \
    >"$T/compare" 2>&1 || fail "disks differ: $(cat "$T/compare")"
echo "PASS"
