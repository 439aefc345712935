#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The source monitor goes away: hang-ups (a whole message, or half of one)
# and a QEMU that dies, against the scripted fake QEMU.  Each ends qmigrate
# with the contract's code, a message naming the monitor and what happened,
# in bounded time, never a crash or a hang.
#
# During a migration qmigrate reconnects once (docs/reliability.md), so a
# single hang-up is survived: here the reconnect is hung up on as well
# (on=connect:2), and qmigrate must give up with exit 4 naming both.  It
# cannot cancel through a monitor it has lost, so the migration goes on in
# QEMU without it; the message says so and how to pick it up, and
# 'qmigrate cancel' then does (the guest stays on the source).
#
# Faults fire "on=status:active after=1s": one wall second into the
# migration, however slowly qmigrate starts (VALGRIND=1).
. "$(dirname "$0")/lib.sh"

# A 4 GiB guest with a 1 GiB working set on 1 Gbit/s: pass 1 alone takes
# 30 s, so the migration is still active whenever a fault strikes.
GUEST=(--ram 4G --working-set 1G --dirty-rate 300000 --link 1gbit)

# --- hang-up mid-migration, and again on the reconnect: exit 4 ---------
for kind in hangup hangup-mid-message; do
    start_fake "${kind//-/_}" "${GUEST[@]}" --fault "on=status:active after=1s $kind" \
        --fault "on=connect:2 $kind"
    kind=${kind//-/_}
    qm "$kind" 30
    expect_code 4 "$RC" "$kind twice"
    within 4 "$kind twice"
    r=$(end_reason "$kind")
    case "$kind" in
    hangup) want="closed the connection, then" ;;
    *) want="closed the connection in the middle of a message, then" ;;
    esac
    echo "$r" | grep -q "lost the source monitor during the migration" ||
        fail "$kind: reason does not say the monitor was lost: $r"
    echo "$r" | grep -q "monitor $T/$kind.qmp $want" ||
        fail "$kind: reason does not name the monitor and the fault: $r"
    echo "$r" | grep -q "then the reconnect attempt: monitor $T/$kind.qmp closed the connection before its greeting" ||
        fail "$kind: reason does not name the failed reconnect: $r"
    echo "$r" | grep -q "last status active" || fail "$kind: no last status: $r"
    echo "$r" | grep -q "qmigrate watch --source" || fail "$kind: no way out: $r"
    expect_grep "reconnecting once" "$T/$kind.err"
    expect_grep '"exit_code":4' "$T/$kind.json"
    # qmigrate could not cancel: the guest still runs on the source and
    # QEMU still migrates, as the message warned
    fake_is "$kind" running active
done

# ... and what the message says to do works: cancel it from outside
timeout 30 "$QMIGRATE" cancel --source "$T/hangup.qmp" >"$T/cancel.out" 2>&1
expect_code 3 $? "qmigrate cancel after the hang-ups"
fake_is hangup running cancelled

# --- one hang-up mid-message only: the reconnect picks the migration up -
# (a 4 GiB guest with a 32 MiB working set on 10 Gbit/s converges alone,
# in about 2 s)
start_fake once --ram 4G --working-set 32M --link 10gbit \
    --fault "on=status:active after=0.5s hangup-mid-message"
qm once 30
expect_code 0 "$RC" "one hang-up mid-message"
within 5 "one hang-up mid-message"
expect_grep "closed the connection in the middle of a message); reconnecting once" "$T/once.err"
expect_grep "reconnected to the source monitor" "$T/once.err"
expect_grep '"event":"end".*"result":"completed"' "$T/once.json"
fake_is once postmigrate completed

# --- hang-ups before the migration: exit 4, nothing started -------------
# before the greeting (the first client is hung up on)
start_fake greet "${GUEST[@]}" --fault "on=connect hangup"
qm greet 30
expect_code 4 "$RC" "hang-up instead of the greeting"
within 2 "hang-up instead of the greeting"
end_reason greet | grep -q "monitor $T/greet.qmp closed the connection before its greeting" ||
    fail "greeting hang-up: $(end_reason greet)"
fake_is greet running none
# instead of query-status's reply (the command does not run)
start_fake qs "${GUEST[@]}" --fault "on=query-status hangup"
qm qs 30
expect_code 4 "$RC" "hang-up on query-status"
within 2 "hang-up on query-status"
end_reason qs | grep -q "monitor $T/qs.qmp closed the connection" ||
    fail "query-status hang-up: $(end_reason qs)"
expect_grep '"exit_code":4' "$T/qs.json"
fake_is qs running none
# instead of migrate's reply (the command does not run either): qmigrate
# cannot know whether QEMU took 'migrate', so it reconnects as it would
# mid-migration, finds no migration and says none was started: exit 1
start_fake mig "${GUEST[@]}" --fault "on=migrate hangup"
qm mig 30
expect_code 1 "$RC" "hang-up on migrate"
within 5 "hang-up on migrate"
expect_grep "closed the connection); reconnecting once" "$T/mig.err"
end_reason mig | grep -q "the reply to 'migrate' was lost and QEMU reports no migration: none was started; the guest runs on the source" ||
    fail "migrate hang-up: $(end_reason mig)"
fake_is mig running none

# --- QEMU dies mid-migration: exit 4, the reconnect is refused ---------
start_fake die "${GUEST[@]}" --fault "on=status:active after=1s die"
qm die 30
expect_code 4 "$RC" "QEMU died"
within 4 "QEMU died"
r=$(end_reason die)
echo "$r" | grep -q "monitor $T/die.qmp closed the connection, then the reconnect attempt: cannot connect to monitor $T/die.qmp: Connection refused" ||
    fail "death: reason does not name the close and the refused reconnect: $r"
echo "$r" | grep -q "QEMU may have died" || fail "death: $r"
# the fake QEMU is gone (exit 1: a VM died), its socket file left behind
wait "$FAKE_die"
expect_code 1 $? "the dead fake QEMU"
[ -S "$T/die.qmp" ] || fail "the dead QEMU's socket file is gone"

echo "PASS"
