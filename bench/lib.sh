# SPDX-License-Identifier: GPL-2.0-or-later
# bench/lib.sh: helpers the bench parts share (sourced, not run).
# Expects TOP and BUILD set; every part cleans up what it starts.

QEMU=${QEMU:-qemu-system-x86_64}
QMIGRATE=$TOP/$BUILD/qmigrate
FAKE_QEMU=$TOP/$BUILD/fake-qemu
GUEST=$TOP/$BUILD/guest/dirty.elf
RUNSTAT=$TOP/$BUILD/bench/runstat
QMP_TAP=$TOP/$BUILD/bench/qmp-tap
QMP_RTT=$TOP/$BUILD/bench/qmp-rtt
POLICY_SIM=$TOP/$BUILD/bench/policy-sim
# Debian's interpreter, not whatever python3 comes first in PATH.
PYTHON=${PYTHON:-/usr/bin/python3}

# PIDs to kill on the way out (each part adds what it starts).
BENCH_PIDS=""

bench_cleanup() {
    local pid
    for pid in $BENCH_PIDS; do
        kill -9 "$pid" 2>/dev/null
    done
    for pid in $BENCH_PIDS; do
        wait "$pid" 2>/dev/null
    done
    BENCH_PIDS=""
}

# forget PID: it ended and was waited for
bench_forget() {
    local pid keep=""
    for pid in $BENCH_PIDS; do
        [ "$pid" = "$1" ] || keep="$keep $pid"
    done
    BENCH_PIDS=$keep
}

# stop PID: SIGTERM, wait up to 10 s, then SIGKILL
bench_stop() {
    local pid=$1 i=0
    kill "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    bench_forget "$pid"
}

note() {
    echo "bench: $*" >&2
}

die() {
    echo "bench: error: $*" >&2
    exit 1
}

# The accelerator QEMU gets: KVM when /dev/kvm is usable, else TCG
# (QMIGRATE_ACCEL=tcg forces TCG), as tests/integration/lib.sh does.
bench_accel() {
    if [ "${QMIGRATE_ACCEL:-}" = tcg ]; then
        echo tcg
    elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        echo kvm
    else
        echo tcg
    fi
}

# median: of the numbers on stdin, one a line ("–" when none)
median() {
    sort -g | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "–"; exit }
            if (NR % 2) { print v[(NR + 1) / 2] }
            else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 }
        }'
}

# json_num KEY FILE...: the number after "KEY": in each line
json_num() {
    local key=$1
    shift
    sed -n "s/.*\"$key\":\(-\{0,1\}[0-9.e+-]*\).*/\1/p" "$@"
}

# json_str KEY FILE...: the string after "KEY": in each line
json_str() {
    local key=$1
    shift
    sed -n "s/.*\"$key\":\"\([^\"]*\)\".*/\1/p" "$@"
}

# One line saying where and when a table was made.
bench_machine() {
    local cpu kvm qv load
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    kvm=$(bench_accel | tr a-z A-Z)
    qv=$("$QEMU" --version 2>/dev/null | head -1 | sed 's/QEMU emulator version //')
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    printf '%s, %s cores (%s), Linux %s, QEMU %s with %s; load average %s at the start' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "${cpu:-unknown CPU}" \
        "$(uname -r)" "${qv:-absent}" "$kvm" "$load"
}

# wait_for FILE TEXT SECONDS PID: until FILE holds TEXT, PID still alive
wait_for() {
    local file=$1 text=$2 limit=$3 pid=$4 i=0
    while ! grep -q -- "$text" "$file" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $((limit * 10)) ] && return 1
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 0
}
