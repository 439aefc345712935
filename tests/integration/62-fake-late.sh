#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The source monitor replies late (the fake's late:T holds a reply back T
# seconds; later commands queue behind it, as in QEMU, whose monitor runs
# commands in order).
#
# Within --command-timeout a late reply is no fault: qmigrate waits, and
# the migration completes.
#
# Beyond it, qmigrate treats the monitor as unreachable: exit 4 within
# about --command-timeout, the message naming the command, the monitor
# and the timeout.  Mid-migration it makes no reconnect attempt (a monitor
# that stops answering would not greet either) and does not cancel: a
# migrate_cancel would queue behind the reply that does not come.  So the
# migration goes on in QEMU without qmigrate, the guest still running on
# the source, and the message says so and how to pick it up
# ('qmigrate watch'); exit 4's row of the contract, "guest unchanged".
# That is the sensible end when qmigrate cannot tell a slow QEMU from a
# hung one; --command-timeout (30 s by default) is how long it waits.
# Before the migration nothing was started.
. "$(dirname "$0")/lib.sh"

# A 4 GiB guest with a 1 GiB working set on 1 Gbit/s: pass 1 alone takes
# 30 s, so the migration is still active whenever a fault strikes.
GUEST=(--ram 4G --working-set 1G --dirty-rate 300000 --link 1gbit)
# One that converges by itself in about 2 s.
EASY=(--ram 4G --working-set 32M --link 10gbit)

# --- late, but within --command-timeout (default 30 s): completes -------
# a set-up command 1 s late, then a poll 2 s late mid-migration
start_fake ok "${EASY[@]}" --fault "on=migrate-set-capabilities late:1s" \
    --fault "on=status:active after=0.5s late:2s"
qm ok 30
expect_code 0 "$RC" "late replies within the timeout"
awk -v s="$SECS" 'BEGIN { exit !(s >= 3) }' ||
    fail "the late replies were not waited for (done after $SECS s)"
within 8 "late replies within the timeout"
expect_grep '"event":"end".*"result":"completed"' "$T/ok.json"
fake_is ok postmigrate completed

# --- a poll 5 s late mid-migration, --command-timeout 1: exit 4 ---------
start_fake poll "${GUEST[@]}" --fault "on=status:active after=1s late:5s"
qm poll 30 --command-timeout 1
expect_code 4 "$RC" "a poll later than --command-timeout"
within 4 "a poll later than --command-timeout"
r=$(end_reason poll)
echo "$r" | grep -q "QMP command 'query-migrate' got no reply from $T/poll.qmp within 1.0 s" ||
    fail "late poll: reason does not name the command, monitor and timeout: $r"
echo "$r" | grep -q "last status active" || fail "late poll: $r"
echo "$r" | grep -q "qmigrate watch --source" || fail "late poll: no way out: $r"
grep -q "reconnecting" "$T/poll.err" && fail "reconnected to a monitor that did not answer"
# not cancelled: QEMU migrates on, the guest runs on the source
fake_is poll running active

# --- the greeting 5 s late, --greeting-timeout 1: "busy", exit 4 ----------
start_fake greet "${GUEST[@]}" --fault "on=connect late:5s"
qm greet 30 --greeting-timeout 1
expect_code 4 "$RC" "a late greeting"
within 3 "a late greeting"
end_reason greet | grep -q "monitor $T/greet.qmp is busy: it accepted the connection but sent no greeting within 1.0 s" ||
    fail "late greeting: $(end_reason greet)"
fake_is greet running none

# --- qmp_capabilities 5 s late, --command-timeout 1: exit 4 -------------
start_fake neg "${GUEST[@]}" --fault "on=qmp_capabilities late:5s"
qm neg 30 --command-timeout 1
expect_code 4 "$RC" "a late qmp_capabilities"
within 3 "a late qmp_capabilities"
end_reason neg | grep -q "$T/neg.qmp did not answer qmp_capabilities within 1.0 s" ||
    fail "late qmp_capabilities: $(end_reason neg)"
fake_is neg running none

# --- set-up commands 5 s late, --command-timeout 1: exit 4, nothing started
for cmd in migrate-set-parameters migrate; do
    start_fake "${cmd//-/_}" "${GUEST[@]}" --fault "on=$cmd late:5s"
    qm "${cmd//-/_}" 30 --command-timeout 1
    expect_code 4 "$RC" "a late $cmd"
    within 3 "a late $cmd"
    end_reason "${cmd//-/_}" | grep -q "QMP command '$cmd' got no reply from $T/${cmd//-/_}.qmp within 1.0 s" ||
        fail "late $cmd: $(end_reason "${cmd//-/_}")"
    # The fake runs a held command only when its reply is due, and drops
    # it when the client leaves first: nothing started.  A real QEMU slow
    # to answer 'migrate' may yet start the migration, and qmigrate says so.
    if [ "$cmd" = migrate ]; then
        end_reason migrate | grep -q "the migration may go on without qmigrate.*qmigrate watch --source" ||
            fail "late migrate: no word of a migration that may start: $(end_reason migrate)"
    fi
    fake_is "${cmd//-/_}" running none
done

echo "PASS"
