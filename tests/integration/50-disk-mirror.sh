#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --disk mirror: the destination exports its disk over NBD, the source
# mirrors onto it, RAM follows; afterwards qemu-img compare finds both
# disks identical, the guest runs on the destination, and the progress
# lines show the disk reaching 100 % before memory finishes.
. "$(dirname "$0")/lib.sh"

"$QEMU_IMG" create -q -f qcow2 "$T/src.qcow2" 256M
"$QEMU_IO" -f qcow2 -c "write -P 0x5a 0 24M" -c "write -P 0xa5 100M 8M" \
    -c "write -P 0x3c 250M 1M" "$T/src.qcow2" >/dev/null
"$QEMU_IMG" create -q -f qcow2 "$T/dst.qcow2" 256M
# shellcheck disable=SC2046
start_qemu src 256 16 $(disk_args "$T/src.qcow2")
# shellcheck disable=SC2046
start_qemu dst 256 16 $(disk_args "$T/dst.qcow2") -incoming defer -S
wait_guest src

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "unix:$T/mig.sock" --disk mirror --json >"$T/out.json" 2>"$T/err"
expect_code 0 $? "mirror migration"
expect_grep '"result":"completed"' "$T/out.json"
expect_status dst running
expect_status src postmigrate
# the disk reached 100 % in a progress line before memory did
awk '/"event":"progress"/ {
        if (!disk && $0 ~ /"disk":{[^}]*"percent":100/) disk = NR
        if (!mem && $0 ~ /"memory":{[^}]*"percent":100/) mem = NR
     }
     END { exit !(disk && (!mem || disk < mem)) }' "$T/out.json" ||
    fail "disk progress did not reach 100 % before memory"
expect_grep '"disk":{"total":268435456' "$T/out.json"
verify_guest_memory dst 16
# quit (not kill): QEMU writes its cached image metadata on the way out
qmp dst quit >/dev/null 2>&1
qmp src quit >/dev/null 2>&1
wait $PID_src $PID_dst 2>/dev/null
"$QEMU_IMG" compare -f qcow2 -F qcow2 "$T/src.qcow2" "$T/dst.qcow2" \
    >"$T/compare" 2>&1 || fail "disks differ: $(cat "$T/compare")"
echo "PASS"
