#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The source monitor speaks something that is not QMP: a line that is not
# JSON ({"return": {"status": "active",]}}) or a message holding invalid
# UTF-8 (ff fe c3 28), against the scripted fake QEMU.  Mid-migration,
# qmigrate ends the connection and reconnects once (docs/reliability.md):
# when the reconnect's greeting is garbage too it exits 4, naming the
# monitor and what it sent (invalid JSON / invalid UTF-8, where, which
# byte), in bounded time; the migration goes on in QEMU without it, as
# the message says.  Garbage once is survived: the migration completes.
# Garbage before 'migrate': exit 4, nothing started.  Garbage for
# migrate's reply (QEMU ran it) is a loss mid-migration.
. "$(dirname "$0")/lib.sh"

# A 4 GiB guest with a 1 GiB working set on 1 Gbit/s: pass 1 alone takes
# 30 s, so the migration is still active whenever a fault strikes.
GUEST=(--ram 4G --working-set 1G --dirty-rate 300000 --link 1gbit)
# One that converges by itself in about 2 s.
EASY=(--ram 4G --working-set 32M --link 10gbit)

for kind in garbage-json bad-utf8; do
    name=${kind//-/_}
    case "$kind" in
    garbage-json) what="sent something that is not QMP: invalid JSON at byte [0-9]* of the stream" ;;
    *) what="sent something that is not QMP: invalid UTF-8 at byte [0-9]* of the stream (0xff)" ;;
    esac

    # --- mid-migration, and again instead of the reconnect's greeting ----
    start_fake "$name" "${GUEST[@]}" --fault "on=status:active after=1s $kind" \
        --fault "on=connect:2 $kind"
    qm "$name" 30
    expect_code 4 "$RC" "$kind twice"
    within 4 "$kind twice"
    r=$(end_reason "$name")
    echo "$r" | grep -q "lost the source monitor during the migration (monitor $T/$name.qmp $what" ||
        fail "$kind: reason does not name the monitor and what it sent: $r"
    echo "$r" | grep -q "then the reconnect attempt: monitor $T/$name.qmp $what" ||
        fail "$kind: reason does not name what the reconnect got: $r"
    echo "$r" | grep -q "qmigrate watch --source" || fail "$kind: no way out: $r"
    expect_grep "$what.*); reconnecting once" "$T/$name.err"
    expect_grep '"exit_code":4' "$T/$name.json"
    fake_is "$name" running active

    # --- once mid-migration: the reconnect picks the migration up --------
    start_fake "${name}_once" "${EASY[@]}" --fault "on=status:active after=0.5s $kind"
    qm "${name}_once" 30
    expect_code 0 "$RC" "$kind once"
    within 5 "$kind once"
    expect_grep "$what.*); reconnecting once" "$T/${name}_once.err"
    expect_grep "reconnected to the source monitor" "$T/${name}_once.err"
    expect_grep '"event":"end".*"result":"completed"' "$T/${name}_once.json"
    fake_is "${name}_once" postmigrate completed

    # --- instead of the greeting: exit 4, nothing started ----------------
    start_fake "${name}_greet" "${GUEST[@]}" --fault "on=connect $kind"
    qm "${name}_greet" 30
    expect_code 4 "$RC" "$kind for a greeting"
    within 2 "$kind for a greeting"
    end_reason "${name}_greet" | grep -q "^monitor $T/${name}_greet.qmp $what" ||
        fail "$kind greeting: $(end_reason "${name}_greet")"
    fake_is "${name}_greet" running none

    # --- as the reply to a set-up command: exit 4, nothing started -------
    start_fake "${name}_caps" "${GUEST[@]}" --fault "on=migrate-set-capabilities $kind"
    qm "${name}_caps" 30
    expect_code 4 "$RC" "$kind for migrate-set-capabilities"
    within 2 "$kind for migrate-set-capabilities"
    end_reason "${name}_caps" | grep -q "^monitor $T/${name}_caps.qmp $what" ||
        fail "$kind set-up: $(end_reason "${name}_caps")"
    fake_is "${name}_caps" running none

    # --- as migrate's reply: QEMU did start the migration ----------------
    # qmigrate reconnects as it would mid-migration and follows it: a
    # guest that converges completes
    start_fake "${name}_mig" "${EASY[@]}" --fault "on=migrate $kind"
    qm "${name}_mig" 30
    expect_code 0 "$RC" "$kind for migrate"
    within 5 "$kind for migrate"
    expect_grep "$what.*); reconnecting once" "$T/${name}_mig.err"
    expect_grep '"event":"end".*"result":"completed"' "$T/${name}_mig.json"
    fake_is "${name}_mig" postmigrate completed
    # ... and when the reconnect is garbled too: exit 4, and the message
    # says the migration may go on and how to find it (it does go on)
    start_fake "${name}_mig2" "${GUEST[@]}" --fault "on=migrate $kind" \
        --fault "on=connect:2 $kind"
    qm "${name}_mig2" 30
    expect_code 4 "$RC" "$kind for migrate and the reconnect"
    within 3 "$kind for migrate and the reconnect"
    r=$(end_reason "${name}_mig2")
    echo "$r" | grep -q "monitor $T/${name}_mig2.qmp $what.*then the reconnect attempt: monitor $T/${name}_mig2.qmp $what" ||
        fail "$kind migrate twice: $r"
    echo "$r" | grep -q "the migration may go on without qmigrate" ||
        fail "$kind migrate twice: no word of the migration: $r"
    # the whole reason, down to the way to find the migration (the
    # reason once was cut at 511 bytes and lost exactly that)
    echo "$r" | grep -q "qmigrate watch --source $T/${name}_mig2.qmp)$" ||
        fail "$kind migrate twice: reason cut short: $r"
    fake_is "${name}_mig2" running active
done

echo "PASS"
