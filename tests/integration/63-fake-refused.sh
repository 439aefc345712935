#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The source monitor refuses a command with a QMP error (the fake's
# error[:CLASS[:DESC]] replaces the reply; the command does not run).
#
# During set-up nothing was started: a refused query-status,
# migrate-set-capabilities or migrate-set-parameters is exit 2 with QEMU's
# text after the command's name; a refused 'migrate' is QEMU refusing the
# migration, exit 1 ("migration failed, QEMU reported it") with its text;
# a refused qmp_capabilities means the monitor cannot be used at all,
# exit 4.  The guest runs on the source, no migration started.
#
# Mid-migration, a refused action (the policy's set-downtime) is a
# warning naming the refusal, and a refused query-migrate ends qmigrate;
# either way in bounded time with the guest on one side.  Both show bugs,
# see the BUG notes.
. "$(dirname "$0")/lib.sh"

# start_fake NAME [fake-qemu options...]: its monitor is $T/NAME.qmp
start_fake() {
    local name=$1 i
    shift
    "$FAKE_QEMU" --qmp "unix:$T/$name.qmp" "$@" >"$T/$name-fake.log" 2>&1 &
    PIDS="$PIDS $!"
    eval "FAKE_$name=$!"
    for i in $(seq 100); do
        grep -qs '^ready' "$T/$name-fake.log" && return
        sleep 0.05
    done
    fail "fake-qemu $name did not start"
}

# qm NAME LIMIT [options...]: migrate from fake NAME under a wall-clock
# limit; sets RC and SECS (elapsed, to 0.01 s), output in $T/NAME.json/.err
qm() {
    local name=$1 limit=$2 t0
    shift 2
    t0=$(date +%s%N)
    timeout -k 5 "$limit" "$QMIGRATE" migrate --source "$T/$name.qmp" \
        --to tcp:127.0.0.1:4444 --json "$@" >"$T/$name.json" 2>"$T/$name.err"
    RC=$?
    SECS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    echo "$name: exit $RC after $SECS s"
}

# within SECONDS WHAT: the last qm run took less than SECONDS (+ slack
# for valgrind, which starts qmigrate slowly and runs it ~20x slower)
within() {
    local max=$1
    [ "${VALGRIND:-0}" = 1 ] && max=$(awk -v m="$max" 'BEGIN { print m + 5 }')
    awk -v s="$SECS" -v m="$max" 'BEGIN { exit !(s < m) }' ||
        fail "$2 took $SECS s, more than $max s"
}

# fake_is NAME RUNSTATE MIGRATION-STATUS ('none': no migration yet; '*':
# any), from query-status and query-migrate on the fake
fake_is() {
    local st mig
    st=$("$QMP_CMD" --timeout 5 "$T/$1.qmp" query-status |
        sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p')
    mig=$("$QMP_CMD" --timeout 5 "$T/$1.qmp" query-migrate |
        sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p')
    mig=${mig:-none}
    [ "$3" = "*" ] && mig="*"
    [ "$st $mig" = "$2 $3" ] ||
        fail "fake $1: run state '$st', migration '${mig:-none}'; expected $2, $3"
}

# end_reason NAME: the reason of the 'end' JSON line
end_reason() {
    sed -n 's/.*"event":"end".*"reason":"\(\([^"\\]\|\\.\)*\)".*/\1/p' "$T/$1.json"
}

# A 4 GiB guest with a 1 GiB working set on 1 Gbit/s: it does not
# converge, it only matters that it runs.
GUEST="--ram 4G --working-set 1G --dirty-rate 300000 --link 1gbit"

# --- qmp_capabilities refused: the monitor is not usable, exit 4 --------
start_fake neg $GUEST --fault "on=connect error"
qm neg 30
expect_code 4 "$RC" "refused qmp_capabilities"
within 2 "refused qmp_capabilities"
end_reason neg | grep -q "$T/neg.qmp refused qmp_capabilities: .*fake-qemu: injected error" ||
    fail "refused qmp_capabilities: $(end_reason neg)"
fake_is neg running none

# --- set-up commands refused: exit 2, nothing started --------------------
for cmd in query-status migrate-set-capabilities migrate-set-parameters; do
    name=${cmd//-/_}
    start_fake "$name" $GUEST \
        --fault "on=$cmd error GenericError:no $cmd for you (test $name)"
    qm "$name" 30
    expect_code 2 "$RC" "refused $cmd"
    within 2 "refused $cmd"
    end_reason "$name" | grep -q "^$cmd: no $cmd for you (test $name)" ||
        fail "refused $cmd: $(end_reason "$name")"
    expect_grep '"event":"end".*"result":"error".*"exit_code":2' "$T/$name.json"
    grep -q '"event":"progress"' "$T/$name.json" && fail "$cmd: a migration ran"
    fake_is "$name" running none
done

# --- migrate refused, as QEMU refuses a target it cannot reach: exit 1 ---
start_fake mig $GUEST \
    --fault "on=migrate error GenericError:Failed to connect to 'tcp:127.0.0.1:4444': Connection refused"
qm mig 30
expect_code 1 "$RC" "refused migrate"
within 2 "refused migrate"
end_reason mig | grep -q "QEMU refused the migration: migrate: Failed to connect to 'tcp:127.0.0.1:4444': Connection refused" ||
    fail "refused migrate: $(end_reason mig)"
expect_grep '"event":"end".*"result":"failed"' "$T/mig.json"
fake_is mig running none

# --- the policy's set-downtime refused mid-migration ----------------------
# A 2 GiB guest at 10 Gbit/s whose 768 MiB working set needs 0.64 s of
# downtime: adaptive sets ~800 ms (of --downtime 1000) at pass 3 and it
# completes in ~2 s (30-policy-stall-fixed, on the fake).  Here QEMU
# refuses that set-downtime once.
start_fake dt --ram 2G --zero-share 0.6 --working-set 768M \
    --dirty-rate 1000000 --link 10gbit \
    --fault "on=migrate-set-parameters:2 error GenericError:Parameter 'downtime-limit' expects uint64"
qm dt 60 --downtime 1000 --progress-timeout 3
within 20 "a refused set-downtime"
expect_grep '"action":"set-downtime","value":[0-9]*,"reason":"pass' "$T/dt.json"
expect_grep "warning: migrate-set-parameters: Parameter 'downtime-limit' expects uint64" "$T/dt.err"
case "$RC" in
0) fake_is dt postmigrate completed ;;
3) fake_is dt running cancelled ;;
*) fail "a refused set-downtime: exit $RC" ;;
esac
# BUG: after QEMU refused the set-downtime, qmigrate keeps reporting (and
# the policy keeps believing) the refused limit in force: progress lines
# say downtime_limit_ms 810 while QEMU still has 300, so adaptive never
# sets it again, the migration stalls and the no-progress backstop
# aborts it (exit 3, reason "none below the best ... progress timeout",
# not naming the refusal).  It should keep the limit QEMU has, so the
# policy sets it again at the next pass and the migration completes:
# expect_code 0 "$RC" "a refused set-downtime, set again"
# [ "$(grep -c '"action":"set-downtime","value":[0-9]*,"reason":"pass' "$T/dt.json")" -ge 2 ] ||
#     fail "the refused set-downtime was not set again"
# grep '"event":"progress"' "$T/dt.json" | tail -n 1 | grep -q '"downtime_limit_ms":300' ||
#     grep -q '"result":"completed"' "$T/dt.json" || fail "reports a limit QEMU refused"

# --- query-migrate refused mid-migration -----------------------------------
# a guest that converges by itself in about 2 s; one poll is refused
start_fake poll --ram 4G --working-set 32M --link 10gbit \
    --fault "on=status:active after=0.5s error GenericError:query-migrate refused (test)"
qm poll 30
within 4 "a refused query-migrate"
expect_grep "query-migrate: query-migrate refused (test)" "$T/poll.err"
case "$RC" in
0) fake_is poll postmigrate completed ;;
1 | 3) fake_is poll running cancelled ;;
4) fake_is poll running "*" ;; # the guest is still on the source
*) fail "a refused query-migrate: exit $RC" ;;
esac
# BUG: one refused query-migrate ends qmigrate with exit 4 and "lost the
# source monitor during the migration (query-migrate: ...)": the monitor
# was not lost (it answered, in QMP), and the migration is left running
# without qmigrate (the fake shows it active) although the monitor could
# cancel it.  It should poll again (the refusal may be transient) and
# follow the migration to its end, or cancel it and exit 1 naming the
# refused command:
# grep -q "lost the source monitor" "$T/poll.err" &&
#     fail "a refused query-migrate is called a lost monitor"
# [ "$RC" -ne 4 ] || fail "a refused query-migrate: exit 4"

echo "PASS"
