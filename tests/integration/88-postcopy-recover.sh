#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Post-copy that survives the network, on real QEMU: the destination is
# frozen (SIGSTOP) during post-copy, past the progress timeout: qmigrate
# breaks the stalled stream (migrate-pause), and once the destination
# thaws runs migrate-recover there and migrate with resume on the source;
# the migration completes with the guest's memory intact.  Every step is
# an action line.  The preempt channel is set on both sides where QEMU has
# it (7.1+).  When recovery is impossible (the destination died) or does
# not succeed within --recover-timeout, exit 1 with the manual steps.
# (Breaking the link between two hosts is left to the two-host tests.)
. "$(dirname "$0")/lib.sh"
export QMIGRATE_ACCEL=tcg

# A 128 MiB working set over 32 MiB/s: hopeless, adaptive switches to
# post-copy (about pass 4).  The destination's guest then faults its
# pages in over a second or two; it is frozen as post-copy starts.
WS=128
# pair NAME: a source (with a second monitor, NAMEx, for the test) and a
# destination waiting for migrate-incoming; post-copy's background copy
# at 2 MiB/s, so that the faults carry most of it
pair() {
    start_qemu "$1" 256 $WS -qmp "unix:$T/${1}x.qmp,server=on,wait=off"
    start_qemu "$1d" 256 $WS -incoming defer \
        -qmp "unix:$T/${1}dx.qmp,server=on,wait=off"
    wait_guest "$1"
    qmp "$1" migrate-set-parameters '{"max-postcopy-bandwidth": 2097152}' >/dev/null
}

# run NAME [options]: qmigrate in the background, to NAME.json
run() {
    local name=$1
    shift
    "$QMIGRATE" migrate --source "$T/$name.qmp" --dest "$T/${name}d.qmp" \
        --to "unix:$T/$name.sock" --bandwidth 32 --postcopy \
        --progress-timeout 3 --json "$@" >"$T/$name.json" 2>"$T/$name.err" &
    QM_PID=$!
}

# wait_json NAME PATTERN SECONDS
wait_json() {
    for _ in $(seq $(($3 * 50))); do
        grep -q -- "$2" "$T/$1.json" && return
        kill -0 "$QM_PID" 2>/dev/null || fail "qmigrate ended before '$2': $(end_reason "$1")"
        sleep 0.02
    done
    fail "no '$2' within $3 s"
}

# freeze_in_postcopy NAME: SIGSTOP the destination as soon as the guest
# runs there (post-copy's switch-over done: QEMU can recover from here)
freeze_in_postcopy() {
    local pid
    wait_json "$1" '"action":"start-postcopy"' 90
    for _ in $(seq 500); do
        [ "$(run_status "${1}dx")" = running ] && break
        sleep 0.02
    done
    eval "pid=\$PID_${1}d"
    kill -STOP "$pid"
    [ "$(run_status "${1}x")" != running ] || fail "the source runs after post-copy"
}

# finished WANT WHAT: qmigrate's exit code, within 120 s
finished() {
    local i=0
    while kill -0 "$QM_PID" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 1200 ] && fail "$2: qmigrate still running after 120 s"
        sleep 0.1
    done
    wait "$QM_PID"
    RC=$?
    expect_code "$1" "$RC" "$2"
}

# --- frozen past the progress timeout, then thawed: recovered ------------
pair a
run a --recover-timeout 60
freeze_in_postcopy a
if qemu_at_least 7.1; then
    qmp ax query-migrate-capabilities | grep -Eq '"state":true,"capability":"postcopy-preempt"|"capability":"postcopy-preempt","state":true' ||
        fail "postcopy-preempt is not on on the source"
fi
wait_json a '"action":"migrate-pause"' 30
t_pause=$(sed -n 's/.*"event":"action","t":\([0-9.]*\),"action":"migrate-pause".*/\1/p' "$T/a.json")
sleep 2
# the rest at full speed once recovered (faults alone take a minute)
qmp ax migrate-set-parameters '{"max-postcopy-bandwidth": 0}' >/dev/null
# shellcheck disable=SC2154 # set by start_qemu (eval)
kill -CONT "$PID_ad"
finished 0 "post-copy frozen and thawed"
if qemu_at_least 7.1; then
    qmp ad query-migrate-capabilities | grep -Eq '"state":true,"capability":"postcopy-preempt"|"capability":"postcopy-preempt","state":true' ||
        fail "postcopy-preempt is not on on the destination"
fi
for step in migrate-pause migrate-recover migrate-resume; do
    grep -q "\"action\":\"$step\"" "$T/a.json" || fail "no $step action: $(grep action "$T/a.json")"
done
grep -q '"action":"migrate-pause".*no bytes moved for [0-9]* s in post-copy' "$T/a.json" ||
    fail "migrate-pause without its reason"
grep -q "\"action\":\"migrate-recover\".*listens on unix:$T/a.sock" "$T/a.json" ||
    fail "migrate-recover not at the --to address"
expect_grep '"event":"progress".*"status":"postcopy-paused"' "$T/a.json"
expect_grep "post-copy paused: the stream broke" "$T/a.err"
expect_grep "post-copy recovered after" "$T/a.err"
grep -q '"action":"cancel"' "$T/a.json" && fail "post-copy was cancelled"
# the stall was noticed after the progress timeout, not before
t_pc=$(grep -m1 '"action":"start-postcopy"' "$T/a.json" | sed -n 's/.*"t":\([0-9.]*\).*/\1/p')
awk -v a="$t_pc" -v b="$t_pause" 'BEGIN { exit !(b - a >= 3) }' ||
    fail "migrate-pause at $t_pause s, less than 3 s after post-copy was asked for ($t_pc s)"
expect_grep '"event":"end".*"result":"completed"' "$T/a.json"
expect_status ad running
verify_guest_memory ad $WS

# --- the destination dies: recovery impossible, the steps printed --------
pair b
run b --recover-timeout 60
freeze_in_postcopy b
# shellcheck disable=SC2154 # set by start_qemu (eval)
kill -9 "$PID_bd"
finished 1 "destination died in post-copy"
r=$(end_reason b)
echo "$r" | grep -Eq "lost the destination monitor|the destination monitor is gone" ||
    fail "dead destination: $r"
echo "$r" | grep -q "The guest is split" || fail "dead destination: $r"
echo "$r" | grep -q "Do not resume the source" || fail "dead destination: $r"
echo "$r" | grep -q 'migrate-recover\\", \\"arguments\\": {\\"uri\\": \\"unix:' ||
    fail "dead destination, no migrate-recover step: $r"
echo "$r" | grep -q 'resume\\": true' || fail "dead destination, no resume step: $r"
grep -q '"action":"cancel"' "$T/b.json" && fail "post-copy was cancelled"
[ "$(run_status b)" != running ] || fail "the source was resumed"

# --- frozen for good: --recover-timeout ends it, the steps printed ---------
pair c
run c --recover-timeout 6 --command-timeout 2
freeze_in_postcopy c
finished 1 "frozen for good"
# shellcheck disable=SC2154 # set by start_qemu (eval)
kill -CONT "$PID_cd"
r=$(end_reason c)
echo "$r" | grep -q "did not succeed within --recover-timeout 6 s" || fail "frozen for good: $r"
echo "$r" | grep -q "migrate-recover" || fail "frozen for good: $r"
expect_grep '"action":"migrate-pause"' "$T/c.json"

echo "PASS"
