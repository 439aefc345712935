#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The newer levers against the scripted QEMU, where their physics are
# under the test's control: a source and a destination in one fake (the
# destination 'incoming = defer', linked by the source's migrate URI).
#  - dirty-limit: the hopeless guest of 67 (1 GiB rewritten faster than
#    10 Gbit/s) completes within the 500 ms allowed once adaptive limits
#    its vCPUs; progress carries QEMU's throttle time; nothing is left in
#    service after the end.
#  - multifd: at 400 MB/s a channel (--channel-rate), 4 channels carry
#    4 times what one does; both sides must agree (the fake fails a
#    migration whose destination has other channels, as QEMU would hang).
#  - post-copy recovery: the stream breaks in post-copy (break-stream):
#    qmigrate recovers and the migration completes; a stream that only
#    stalls is broken by qmigrate after the progress timeout, then
#    recovered.
. "$(dirname "$0")/lib.sh"

# scenario NAME EXTRA...: a source NAME and a destination NAMEd
scenario() {
    local name=$1
    shift
    {
        echo "ram = 64G"
        echo "zero-share = 0.95"
        echo "zero-scan-rate = 100G"
        echo "working-set = 1G"
        echo "dirty-rate = 1000000"
        echo "link = 10gbit"
        echo "version = 10.0.2"
        for line in "$@"; do echo "$line"; done
        echo "[vm $name]"
        echo "qmp = unix:$T/$name.qmp"
        echo "[vm ${name}d]"
        echo "qmp = unix:$T/${name}d.qmp"
        echo "incoming = defer"
    } >"$T/$name.ini"
    "$FAKE_QEMU" --scenario "$T/$name.ini" >"$T/$name-fake.log" 2>&1 &
    PIDS="$PIDS $!"
    for _ in $(seq 100); do
        grep -qs '^ready' "$T/$name-fake.log" && return
        sleep 0.05
    done
    fail "fake-qemu $name did not start: $(cat "$T/$name-fake.log")"
}

# qmd NAME LIMIT [options]: qm with the destination's monitor
qmd() {
    local name=$1 limit=$2
    shift 2
    qm "$name" "$limit" --dest "$T/${name}d.qmp" "$@"
}

# --- dirty-limit: the hopeless guest completes ------------------------------
scenario dl "dirty-ring-size = 4096"
qmd dl 60 --dirty-limit
expect_code 0 "$RC" "hopeless guest with --dirty-limit"
a=$(grep '"action":"dirty-limit"' "$T/dl.json" | head -1)
[ -n "$a" ] || fail "no dirty-limit action"
echo "$a"
grep -q '"dirty_limit_throttle_us":[1-9]' "$T/dl.json" ||
    fail "progress never carried QEMU's throttle time"
d=$(sed -n 's/.*"event":"end".*"downtime_ms":\([0-9]*\).*/\1/p' "$T/dl.json")
[ "${d:-9999}" -le 500 ] || fail "downtime $d ms over the 500 allowed"
[ "$("$QMP_CMD" "$T/dl.qmp" query-vcpu-dirty-limit)" = "[]" ] ||
    fail "a limit is left on the source"
grep -q '"action":"cancel"' "$T/dl.json" && fail "it was aborted"

# ... and without a dirty ring: refused before anything starts
scenario nr
qmd nr 30 --dirty-limit
expect_code 2 "$RC" "dirty-limit without a ring"
end_reason nr | grep -q "dirty-ring-size" || fail "no ring: $(end_reason nr)"

# --- multifd: channels carry more when one is the limit --------------------
# 4 GiB (2 GiB of data), 64 MiB rewritten slowly, a channel 400 MB/s
for n in 1 4; do
    scenario "mf$n" "ram = 4G" "zero-share = 0.5" "working-set = 64M" \
        "dirty-rate = 1000" "channel-rate = 400M"
    qmd "mf$n" 60 --parallel "$n"
    expect_code 0 "$RC" "--parallel $n"
done
t1=$(sed -n 's/.*"event":"end".*"total_time_ms":\([0-9]*\).*/\1/p' "$T/mf1.json")
t4=$(sed -n 's/.*"event":"end".*"total_time_ms":\([0-9]*\).*/\1/p' "$T/mf4.json")
echo "1 channel: $t1 ms, 4 channels: $t4 ms"
awk -v a="$t1" -v b="$t4" 'BEGIN { exit !(b * 2.5 < a) }' ||
    fail "4 channels ($t4 ms) not much faster than 1 ($t1 ms)"
grep '"event":"progress"' "$T/mf4.json" | tail -1 | grep -q '"multifd_bytes":[1-9]' ||
    fail "progress does not count the channels' bytes"
# the destination's channels differ: QEMU never connects; the fake fails it
scenario mx "ram = 1G" "zero-share = 0.5" "working-set = 64M" "dirty-rate = 1000"
"$QMP_CMD" "$T/mxd.qmp" migrate-set-capabilities \
    '{"capabilities": [{"capability": "multifd", "state": true}]}' >/dev/null
"$QMP_CMD" "$T/mxd.qmp" migrate-set-parameters '{"multifd-channels": 8}' >/dev/null
"$QMP_CMD" "$T/mxd.qmp" migrate-incoming '{"uri": "tcp:127.0.0.1:4444"}' >/dev/null
qm mx 30 --parallel 2
expect_code 1 "$RC" "multifd channels differ"
end_reason mx | grep -q "multifd: the destination" || fail "mismatch: $(end_reason mx)"

# --- post-copy: the stream breaks, qmigrate recovers -----------------------
scenario pb "fault = vm=pb on=status:postcopy-active after=0.2s break-stream"
qmd pb 60 --postcopy --recover-uri tcp:127.0.0.1:4445
expect_code 0 "$RC" "a post-copy that breaks once"
for step in migrate-recover migrate-resume; do
    grep -q "\"action\":\"$step\".*tcp:127.0.0.1:4445" "$T/pb.json" ||
        fail "no $step at --recover-uri"
done
grep -q '"action":"migrate-pause"' "$T/pb.json" && fail "a broken stream was paused"
expect_grep '"status":"postcopy-paused"' "$T/pb.json"
expect_grep '"event":"end".*"result":"completed"' "$T/pb.json"

# --- post-copy: the stream stalls; qmigrate breaks it, then recovers --------
scenario ps "fault = vm=ps on=status:postcopy-active after=0.2s stall-bandwidth"
qmd ps 60 --postcopy --progress-timeout 2
expect_code 0 "$RC" "a post-copy that stalls"
for step in migrate-pause migrate-recover migrate-resume; do
    grep -q "\"action\":\"$step\"" "$T/ps.json" || fail "no $step"
done
expect_grep '"event":"end".*"result":"completed"' "$T/ps.json"

echo "PASS"
