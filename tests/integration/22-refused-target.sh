#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A destination port with nobody listening: exit 1 with QEMU's own error
# text, and the guest still runs on the source.
. "$(dirname "$0")/lib.sh"

start_qemu src 128 8
wait_guest src

timeout 60 "$QMIGRATE" migrate --source "$T/src.qmp" --to tcp:127.0.0.1:1 \
    >"$T/out" 2>&1
expect_code 1 $? "nobody listening"
expect_grep "Connection refused" "$T/out"
expect_grep "runs on the source" "$T/out"
expect_status src running
echo "PASS"
