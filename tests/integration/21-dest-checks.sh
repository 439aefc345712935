#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# With --dest, qmigrate starts the incoming side itself (-incoming defer),
# resumes a destination started with -S, and confirms the guest runs there.
. "$(dirname "$0")/lib.sh"

start_qemu src 128 8
start_qemu dst 128 8 -incoming defer -S
wait_guest src

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "unix:$T/mig.sock" >"$T/out" 2>&1
expect_code 0 $? "migration with --dest"
expect_grep "the guest runs on the destination" "$T/out"
expect_status dst running
expect_status src postmigrate

# A second run must refuse: the guest has left this source.
"$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig2.sock" \
    >"$T/out2" 2>&1
expect_code 2 $? "migrating a postmigrate source"
expect_grep "already migrated away" "$T/out2"
expect_status src postmigrate
verify_guest_memory dst 8
echo "PASS"
