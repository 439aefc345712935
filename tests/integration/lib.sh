# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the integration tests: start QEMUs with the test
# guest, talk QMP, clean up whatever happens.  Sourced by each test.
set -u

BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
QMIGRATE=${QMIGRATE:-$TOP/$BUILD/qmigrate}
QMP_CMD=$TOP/$BUILD/tools/qmp-cmd
GUESTMEM=$TOP/$BUILD/tools/guestmem
GUEST=$TOP/$BUILD/guest/dirty.elf
FAKE_QEMU=$TOP/$BUILD/fake-qemu
QEMU=${QEMU:-qemu-system-x86_64}

T=$(mktemp -d /tmp/qmigrate-it.XXXXXX)
PIDS=""

# VALGRIND=1: every qmigrate run goes through memcheck, errors fatal (99).
if [ "${VALGRIND:-0}" = 1 ]; then
    cat >"$T/qmigrate" <<VG
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \\
    --errors-for-leak-kinds=definite,indirect "$QMIGRATE" "\$@"
VG
    chmod +x "$T/qmigrate"
    QMIGRATE=$T/qmigrate
fi

cleanup() {
    for pid in $PIDS; do
        kill -9 "$pid" 2>/dev/null
    done
    for pid in $PIDS; do
        wait "$pid" 2>/dev/null
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL: $*" >&2
    for f in "$T"/*.log; do
        [ -f "$f" ] || continue
        echo "--- $f" >&2
        tail -n 20 "$f" >&2
    done
    exit 1
}

skip() {
    echo "SKIP: $*" >&2
    exit 77
}

# The accelerator QEMU will use: KVM when /dev/kvm is usable, else TCG
# (QMIGRATE_ACCEL=tcg forces TCG, to check what CI without KVM sees).
accel_args() {
    if [ "${QMIGRATE_ACCEL:-}" = tcg ]; then
        echo "-accel tcg"
    elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        echo "-accel kvm -accel tcg"
    else
        echo "-accel tcg"
    fi
}

# start_qemu NAME MEM_MIB WORKING_SET_MIB [extra qemu args...]
# Starts the test guest with its monitor at $T/NAME.qmp.
start_qemu() {
    local name=$1 mem=$2 ws=$3 pid i=0 incoming="" prev=""
    shift 3
    # an '-incoming unix:PATH' socket appears after the monitor's: wait for it
    for a in "$@"; do
        if [ "$prev" = "-incoming" ]; then
            case "$a" in unix:*) incoming=${a#unix:} ;; esac
        fi
        prev=$a
    done
    # shellcheck disable=SC2046
    "$QEMU" $(accel_args) -m "$mem" -display none -nodefaults \
        -no-user-config -serial "file:$T/$name.serial" \
        -kernel "$GUEST" -append "$ws" \
        -qmp "unix:$T/$name.qmp,server=on,wait=off" \
        "$@" >"$T/$name.log" 2>&1 &
    pid=$!
    PIDS="$PIDS $pid"
    eval "PID_$name=$pid"
    while [ ! -S "$T/$name.qmp" ] || { [ -n "$incoming" ] && [ ! -S "$incoming" ]; }; do
        i=$((i + 1))
        [ $i -gt 100 ] && fail "QEMU $name did not create its sockets"
        kill -0 "$pid" 2>/dev/null || fail "QEMU $name exited at start"
        sleep 0.1
    done
}

# qmp NAME COMMAND [JSON-ARGS]: prints the return value
qmp() {
    local name=$1
    shift
    "$QMP_CMD" --timeout 10 "$T/$name.qmp" "$@"
}

# run_status NAME: the guest's run state (running, paused, postmigrate...)
run_status() {
    qmp "$1" query-status | sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p'
}

# wait_guest NAME: until the test guest printed that it runs
wait_guest() {
    local i=0
    while ! grep -q "qmigrate-guest ready" "$T/$1.serial" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 100 ] && fail "guest $1 did not start"
        sleep 0.1
    done
}

# expect_status NAME STATUS
expect_status() {
    local got
    got=$(run_status "$1")
    [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
}

# expect_code WANT GOT WHAT
expect_code() {
    [ "$2" -eq "$1" ] || fail "$3: exit code $2, expected $1"
}

# expect_grep PATTERN FILE
expect_grep() {
    grep -q -- "$1" "$2" || fail "'$1' not in $2: $(head -c 2000 "$2")"
}

# verify_guest_memory NAME WORKING_SET_MIB: nothing lost, nothing doubled.
# Stops the guest, saves its working set with pmemsave and checks the
# pattern the test guest writes (see tests/tools/guestmem.c).
verify_guest_memory() {
    local name=$1 ws=$2
    qmp "$name" stop >/dev/null || fail "stop $name"
    qmp "$name" pmemsave "{\"val\": 2097152, \"size\": $((ws << 20)), \"filename\": \"$T/$name.mem\"}" \
        >/dev/null || fail "pmemsave on $name"
    "$GUESTMEM" "$T/$name.mem" >"$T/$name.mem.log" 2>&1 ||
        fail "guest memory on $name: $(cat "$T/$name.mem.log")"
    rm -f "$T/$name.mem"
}
