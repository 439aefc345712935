#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --disk blk (QEMU's block migration, 7.2): the disk is copied with the
# RAM; afterwards both disks are identical and the guest runs on the
# destination; the progress lines carry the disk apart from memory.
. "$(dirname "$0")/lib.sh"

qemu-img create -q -f qcow2 "$T/src.qcow2" 128M
qemu-io -f qcow2 -c "write -P 0x5a 0 16M" -c "write -P 0xa5 64M 8M" \
    "$T/src.qcow2" >/dev/null
qemu-img create -q -f qcow2 "$T/dst.qcow2" 128M
# shellcheck disable=SC2046
start_qemu src 256 16 $(disk_args "$T/src.qcow2")
# shellcheck disable=SC2046
start_qemu dst 256 16 $(disk_args "$T/dst.qcow2") -incoming "unix:$T/mig.sock"
wait_guest src

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
qemu-img compare -f qcow2 -F qcow2 "$T/src.qcow2" "$T/dst.qcow2" \
    >"$T/compare" 2>&1 || fail "disks differ: $(cat "$T/compare")"
echo "PASS"
