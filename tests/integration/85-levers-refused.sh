#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A lever that cannot work on this QEMU is refused before anything starts:
# exit 2, naming the version and the reason, the guest left running on
# the source, nothing set on the destination.  What is refused depends on
# $QEMU's version, and each case asserts the documented answer for it:
# dirty-limit (8.1+, and only with a KVM dirty ring), multifd with
# post-copy (before 10.1), multifd with --disk blk, multifd with a
# destination that already listens.  The guests run under TCG (fast to
# boot): dirty-limit is then refused for the missing dirty ring.
. "$(dirname "$0")/lib.sh"
export QMIGRATE_ACCEL=tcg

V=$(qemu_version)
echo "QEMU $V"

# refused NAME WHAT PATTERN [qmigrate options...]: exit 2, the reason
# matches PATTERN, and nothing started on either side
refused() {
    local name=$1 what=$2 pattern=$3
    shift 3
    timeout -k 5 60 "$QMIGRATE" migrate --source "$T/src.qmp" \
        --to "unix:$T/mig.sock" --json "$@" >"$T/$name.json" 2>"$T/$name.err"
    RC=$?
    expect_code 2 "$RC" "$what"
    grep -q '"event":"end".*"result":"error".*"exit_code":2' "$T/$name.json" ||
        fail "$what: no end line with exit 2: $(cat "$T/$name.json")"
    end_reason "$name" | grep -q -- "$pattern" ||
        fail "$what: the reason does not say '$pattern': $(end_reason "$name")"
    grep -q '"event":"start"' "$T/$name.json" && fail "$what: it started"
    expect_status src running
    [ "$(qmp src query-migrate)" = "{}" ] ||
        fail "$what: a migration ran on the source: $(qmp src query-migrate)"
    echo "ok: $what: $(end_reason "$name")"
}

start_qemu src 128 0
start_qemu dst 128 0 -incoming defer
start_qemu lis 128 0 -incoming "unix:$T/lis.sock"

# --- dirty-limit ---------------------------------------------------------
if qemu_at_least 8.1; then
    refused dl "dirty-limit without a dirty ring" \
        "--dirty-limit: QEMU $V cannot limit this guest's dirty rate: .*dirty-ring-size" \
        --dirty-limit
    qmp src query-migrate-capabilities | grep -q '"state":true,"capability":"dirty-limit"\|"capability":"dirty-limit","state":true' &&
        fail "dirty-limit was left on after the refusal"
else
    refused dl "dirty-limit before 8.1" \
        "--dirty-limit: QEMU $V has no dirty-limit (it came in 8.1)" \
        --dirty-limit --auto-converge
fi

# --- multifd with post-copy ------------------------------------------------
if ! qemu_at_least 10.1; then
    refused mp "multifd with post-copy" \
        "--parallel and --postcopy exclude each other on QEMU $V (before 10.1 its post-copy cannot use multifd channels)" \
        --parallel 2 --postcopy --dest "$T/dst.qmp"
    # the destination waits as it did: nothing set, not listening
    [ "$(qmp dst query-migrate)" = "{}" ] ||
        fail "the destination was touched: $(qmp dst query-migrate)"
    expect_status dst inmigrate
fi

# --- multifd with block migration ----------------------------------------
refused blk "multifd with --disk blk" \
    "--parallel and --disk blk exclude each other" --parallel 2 --disk blk

# --- multifd with a destination that already listens ---------------------
refused lis "multifd to a listening destination" \
    "--parallel: the destination $T/lis.qmp already listens.*-incoming defer" \
    --parallel 4 --dest "$T/lis.qmp"
qmp lis query-migrate-capabilities | grep -q '"state":true,"capability":"multifd"\|"capability":"multifd","state":true' &&
    fail "multifd was set on the listening destination"

# --- bad values: usage errors, before any monitor is touched --------------
for bad in "--parallel -1" "--parallel 256" "--recover-timeout 0" \
    "--recover-uri exec:true" "--recover-uri bogus:x"; do
    # shellcheck disable=SC2086
    "$QMIGRATE" migrate --source "$T/src.qmp" --to "unix:$T/mig.sock" $bad \
        >"$T/bad.out" 2>"$T/bad.err"
    RC=$?
    expect_code 2 "$RC" "$bad"
    opt=${bad%% *}
    grep -q -- "$opt" "$T/bad.err" || fail "$bad: the error does not name $opt: $(cat "$T/bad.err")"
done

echo "PASS"
