#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Linux guest (tests/guest/linux), idle, migrates under the default
# policy: exit 0; its heartbeat goes on on the destination, past the last
# one the source printed, and stops on the source.
. "$(dirname "$0")/lib.sh"

start_linux src 256 "qmigrate.work=idle"
start_linux dst 256 "qmigrate.work=idle" -incoming "unix:$T/mig.sock"
wait_linux src
expect_heartbeat_after src 0

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" \
    --json >"$T/out.json" 2>"$T/err"
expect_code 0 $? "idle Linux migration"
expect_grep '"event":"end".*"result":"completed"' "$T/out.json"
expect_status dst running
expect_status src postmigrate
expect_runs_only_on dst src
echo "PASS (heartbeat $(heartbeat src) on the source, then up to $(heartbeat dst) on the destination)"
