#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A hopeless large guest on the fake: 64 GiB at 10 Gbit/s (a fresh guest:
# 95 % zero pages, so pass 1 takes ~3 s) rewriting a 1 GiB working set
# faster than the link carries it: the switch-over needs ~0.9 s, 0.5 s
# is allowed.  adaptive aborts within 3 passes of the end of pass 1
# (exit 3), the reason naming the dirty rate, the bandwidth, the needed
# and the allowed downtime; the guest runs on the source.  With
# --postcopy it escalates to post-copy instead (a start-postcopy action,
# the fake in postcopy-active, pages fetched on demand) and completes.
#
# --time-scale 1: see 66-fake-policy-fits on why adaptive's tests do not
# run the fake faster than the wall clock.
. "$(dirname "$0")/lib.sh"

# start_fake NAME [fake-qemu options...]: its monitor is $T/NAME.qmp
start_fake() {
    local name=$1
    shift
    "$FAKE_QEMU" --qmp "unix:$T/$name.qmp" "$@" >"$T/$name-fake.log" 2>&1 &
    PIDS="$PIDS $!"
    eval "FAKE_$name=$!"
    for _ in $(seq 100); do
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

GUEST=(--ram 64G --zero-share 0.95 --zero-scan-rate 100G --working-set 1G --dirty-rate 1000000 --link 10gbit)

# --- adaptive: aborted within 3 passes --------------------------------------
start_fake hope "${GUEST[@]}"
qm hope 60
expect_code 3 "$RC" "hopeless guest"
within 10 "hopeless guest"
c=$(grep '"event":"action".*"action":"cancel"' "$T/hope.json")
[ -n "$c" ] || fail "no cancel action"
echo "$c" | grep -q 'dirty rate [0-9]* MB/s \(keeps up with\|exceeds\) bandwidth 1[12][0-9][0-9] MB/s; switch-over needs 0\.[89][0-9]* s, allowed 0\.50* s: abort' ||
    fail "the cancel's reason does not name the numbers: $c"
# the pass of the last sample before the cancel: at most pass 1 + 3
it=$(sed -n '/"action":"cancel"/q; s/.*"event":"progress".*"iteration":\([0-9]*\).*/\1/p' "$T/hope.json" | tail -n 1)
[ -n "$it" ] && [ "$it" -le 4 ] || fail "aborted at pass '$it', more than 3 after pass 1"
echo "aborted at pass $it: $c"
# pass 1 ended (pass 2 began) at least once before the verdict
grep -q '"event":"progress".*"iteration":2,' "$T/hope.json" ||
    grep -q '"event":"progress".*"iteration":3,' "$T/hope.json" || fail "no pass 2 or 3 seen"
end_reason hope | grep -q "allowed 0\.50* s: abort; the guest runs on the source" ||
    fail "end reason: $(end_reason hope)"
fake_is hope running cancelled

# --- adaptive --postcopy: post-copy, completed ------------------------------
start_fake post "${GUEST[@]}"
qm post 60 --postcopy
expect_code 0 "$RC" "hopeless guest with --postcopy"
within 12 "hopeless guest with --postcopy"
p=$(grep '"event":"action".*"action":"start-postcopy"' "$T/post.json")
echo "$p" | grep -q 'switch-over needs 0\.[89][0-9]* s, allowed 0\.50* s: post-copy' ||
    fail "start-postcopy reason: ${p:-none}"
grep -q '"action":"cancel"' "$T/post.json" && fail "cancelled instead of post-copy"
# the fake went to postcopy-active (what qmigrate's polls read from it),
# and nothing was emitted after post-copy began
expect_grep '"event":"progress","t":[0-9.]*,"status":"postcopy-active"' "$T/post.json"
sed -n '/"status":"postcopy-active"/,$p' "$T/post.json" | grep -q '"event":"action"' &&
    fail "an action after post-copy began"
expect_grep '"event":"end".*"result":"completed"' "$T/post.json"
fake_is post postmigrate completed
# the destination fetched pages on demand: post-copy really ran on the fake
"$QMP_CMD" "$T/post.qmp" query-migrate | grep -q '"postcopy-requests":[1-9]' ||
    fail "the fake served no post-copy requests"

echo "PASS"
