#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The stream across a shaped link between two hosts: TLS with
# certificates made here for host b's address completes, encrypted and
# without the clear-text warning; clear text across the link completes
# with its warning; a destination monitor given as tcp: on host b's
# address works and gets the loud warning.  The pace is the link's
# (100 Mbit/s, tbf): qmigrate sets no max-bandwidth.  The test guest
# dirties its working set as fast as the link drains it, so each run may
# take a downtime of up to 3 s to switch over.
. "$(dirname "$0")/lib.sh"
two_hosts_up 100mbit
make_pki "$T/pki" "IP:$HOST_B"
port=$((20000 + $$ % 20000))

# bytes per second over the migration, from the end line
rate_of() {
    sed -n 's/.*"event":"end".*"total_time_ms":\([0-9]*\),"transferred":\([0-9]*\).*/\2 \1/p' "$1" |
        awk '$2 > 0 { printf "%d", $1 / ($2 / 1000) }'
}

# --- TLS between the hosts ------------------------------------------------
start_qemu src 256 8
ON_HOST=b start_qemu dst 256 8 -incoming defer
wait_guest src
timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "tcp:$HOST_B:$port" --tls-dir "$T/pki" --downtime 3000 --json >"$T/tls.json" \
    2>"$T/tls.err"
expect_code 0 $? "migration over TLS across the link"
qmp src query-migrate-parameters | grep -q '"tls-creds":"qmigrate-tls-' ||
    fail "the source has no tls-creds"
grep -q "not encrypted" "$T/tls.err" && fail "a clear-text warning for TLS"
expect_grep '"action":"set-bandwidth","value":0' "$T/tls.json"
expect_status dst running
expect_status src postmigrate
verify_guest_memory dst 8
rate=$(rate_of "$T/tls.json")
echo "TLS: $rate B/s on a 100 Mbit/s link"
[ -n "$rate" ] && [ "$rate" -lt 13500000 ] ||
    fail "TLS moved $rate B/s: faster than the 100 Mbit/s link"
stop_qemu src dst

# --- clear text across the link: it completes, with its warning -----------
start_qemu src2 256 8
ON_HOST=b start_qemu dst2 256 8 -incoming "tcp:$HOST_B:$((port + 1))"
wait_guest src2
timeout 120 "$QMIGRATE" migrate --source "$T/src2.qmp" --dest "$T/dst2.qmp" \
    --to "tcp:$HOST_B:$((port + 1))" --downtime 3000 --json >"$T/clear.json" 2>"$T/clear.err"
expect_code 0 $? "clear-text migration across the link"
expect_grep "warning: the migration stream to tcp:$HOST_B:$((port + 1)) is not encrypted" \
    "$T/clear.err"
expect_status dst2 running
expect_status src2 postmigrate
rate=$(rate_of "$T/clear.json")
echo "clear text: $rate B/s on a 100 Mbit/s link"
[ -n "$rate" ] && [ "$rate" -lt 13500000 ] ||
    fail "clear text moved $rate B/s: faster than the 100 Mbit/s link"
stop_qemu src2 dst2

# --- a destination monitor on TCP across the link: loudly warned ----------
start_qemu src3 256 8
ON_HOST=b start_qemu dst3 256 8 -incoming defer \
    -qmp "tcp:$HOST_B:$((port + 2)),server=on,wait=off"
wait_guest src3
timeout 120 "$TWO_HOSTS" exec "$PAIR" a "$QMIGRATE" migrate \
    --source "$T/src3.qmp" --dest "tcp:$HOST_B:$((port + 2))" \
    --to "tcp:$HOST_B:$((port + 3))" --tls-dir "$T/pki" --downtime 3000 \
    >"$T/tcpmon.out" 2>&1
expect_code 0 $? "migration with a TCP destination monitor"
expect_grep "warning: monitor tcp:$HOST_B:$((port + 2)) is QMP over plain TCP: anyone who reaches that port controls the guest" \
    "$T/tcpmon.out"
expect_status dst3 running
echo "PASS"
