#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Migration over TLS: certificates made here with openssl; --tls-dir makes
# qmigrate create tls-creds-x509 objects on both sides; the migration
# completes encrypted, and a destination with another CA refuses it.
# A clear-text stream to another machine gets a warning.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl is not installed"

pki=$T/pki
make_pki "$pki"
make_pki "$T/other"

port=$((20000 + $$ % 20000))
start_qemu src 256 16
start_qemu dst 256 16 -incoming defer
wait_guest src
timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "tcp:127.0.0.1:$port" --tls-dir "$pki" --json >"$T/out.json" \
    2>"$T/err"
expect_code 0 $? "migration over TLS"
qmp src query-migrate-parameters | grep -q '"tls-creds":"qmigrate-tls-' ||
    fail "the source has no tls-creds"
grep -q "not encrypted" "$T/err" && fail "a warning for an encrypted stream"
expect_status dst running
verify_guest_memory dst 16

# the destination trusts another CA: the handshake fails, the guest stays
start_qemu src3 256 16 \
    -object "tls-creds-x509,id=tls0,dir=$pki,endpoint=client,verify-peer=on"
start_qemu dst3 256 16 -incoming defer \
    -object "tls-creds-x509,id=tls0,dir=$T/other,endpoint=server,verify-peer=on"
wait_guest src3
timeout 120 "$QMIGRATE" migrate --source "$T/src3.qmp" --dest "$T/dst3.qmp" \
    --to "tcp:127.0.0.1:$((port + 2))" --tls-creds tls0 >"$T/out3" 2>&1
expect_code 1 $? "migration to a host of another CA"
expect_grep "the guest runs on the source" "$T/out3"
expect_status src3 running

# clear text to another machine: a warning (the fake goes nowhere)
"$FAKE_QEMU" --qmp "unix:$T/fake.qmp" --ram 256M >"$T/fake.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 50); do [ -S "$T/fake.qmp" ] && break; sleep 0.1; done
timeout 60 "$QMIGRATE" migrate --source "$T/fake.qmp" --to tcp:192.0.2.1:4444 \
    >"$T/out4" 2>&1
expect_code 0 $? "fake migration"
expect_grep "warning: the migration stream to tcp:192.0.2.1:4444 is not encrypted" "$T/out4"
"$QMIGRATE" migrate --source "$T/fake.qmp" --to tcp:127.0.0.1:1 \
    --tls-creds "bad id" >"$T/out5" 2>&1
expect_code 2 $? "a bad object id"
expect_grep "is not a QEMU object id" "$T/out5"
echo "PASS"
