#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --parallel N: multifd with N channels, set on both sides when --dest is
# given (before the destination listens); progress counts the bytes the
# channels carry; the guest's memory arrives intact.  Without --dest the
# operator sets the destination up, and qmigrate says so.
. "$(dirname "$0")/lib.sh"
export QMIGRATE_ACCEL=tcg

# --- with --dest: both sides set by qmigrate ------------------------------
start_qemu src 256 32
start_qemu dst 256 32 -incoming defer
wait_guest src
timeout -k 5 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "unix:$T/mig.sock" --parallel 3 --bandwidth 64 --json \
    >"$T/mf.json" 2>"$T/mf.err"
RC=$?
expect_code 0 "$RC" "multifd with --dest"
expect_grep '"event":"end".*"result":"completed"' "$T/mf.json"
for side in src dst; do
    qmp "$side" query-migrate-capabilities | grep -Eq '"state":true,"capability":"multifd"|"capability":"multifd","state":true' ||
        fail "multifd is not on on $side"
    qmp "$side" query-migrate-parameters | grep -q '"multifd-channels":3' ||
        fail "multifd-channels is not 3 on $side"
done
# the channels' bytes are counted: progress shows them, and the RAM sent
# is at least what they carried
last=$(grep '"event":"progress"' "$T/mf.json" | tail -1)
mb=$(echo "$last" | sed -n 's/.*"multifd_bytes":\([0-9]*\).*/\1/p')
xfer=$(echo "$last" | sed -n 's/.*"memory":{[^}]*"transferred":\([0-9]*\).*/\1/p')
[ "${mb:-0}" -gt $((32 << 20)) ] || fail "multifd bytes ${mb:-none}: the channels carried less than the working set"
[ "${xfer:-0}" -ge "$mb" ] || fail "transferred $xfer < multifd bytes $mb"
expect_status dst running
verify_guest_memory dst 32

# --- without --dest: qmigrate says what the destination needs ------------
start_qemu src2 128 0
start_qemu dst2 128 0 -incoming defer
qmp dst2 migrate-set-capabilities '{"capabilities": [{"capability": "multifd", "state": true}]}' >/dev/null
qmp dst2 migrate-set-parameters '{"multifd-channels": 2}' >/dev/null
qmp dst2 migrate-incoming "{\"uri\": \"unix:$T/mig2.sock\"}" >/dev/null
timeout -k 5 60 "$QMIGRATE" migrate --source "$T/src2.qmp" \
    --to "unix:$T/mig2.sock" --parallel 2 >"$T/nd.out" 2>&1
RC=$?
expect_code 0 "$RC" "multifd without --dest"
expect_grep "without --dest: the destination needs the multifd capability and multifd-channels 2 set before it listens" "$T/nd.out"

echo "PASS"
