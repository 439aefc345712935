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
# (QMIGRATE_ACCEL=tcg forces TCG, to check what CI without KVM sees;
# QMIGRATE_ACCEL=kvm,PROPS asks for KVM with properties, e.g. a dirty ring).
accel_args() {
    if [ "${QMIGRATE_ACCEL:-}" = tcg ]; then
        echo "-accel tcg"
    elif [ "${QMIGRATE_ACCEL#kvm,}" != "${QMIGRATE_ACCEL:-}" ]; then
        echo "-accel $QMIGRATE_ACCEL"
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

# wait_guest NAME [SECONDS]: until the test guest printed that it runs
# (within 10 s; firmware under nested KVM may need longer)
wait_guest() {
    local i=0 max=$((${2:-10} * 10))
    while ! grep -q "qmigrate-guest ready" "$T/$1.serial" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $max ] && fail "guest $1 did not start"
        sleep 0.1
    done
}

# qemu_version: MAJOR.MINOR of $QEMU
qemu_version() {
    "$QEMU" --version | sed -n '1s/.*version \([0-9]*\.[0-9]*\).*/\1/p'
}

# version_at_least MAJOR.MINOR: $QEMU is that version or newer
version_at_least() {
    awk -v have="$(qemu_version)" -v want="$1" 'BEGIN {
        split(have, h, "."); split(want, w, ".")
        exit !(h[1] > w[1] || (h[1] == w[1] && h[2] >= w[2])) }'
}

# kvm_usable: /dev/kvm can be used (and TCG is not forced)
kvm_usable() {
    [ "${QMIGRATE_ACCEL:-}" != tcg ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]
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

# disk_args IMAGE: QEMU options for a qcow2 disk 'disk0' (node 'node0')
disk_args() {
    echo "-drive file=$1,format=qcow2,if=none,id=disk0,node-name=node0" \
        "-device virtio-blk-pci,drive=disk0"
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

# --- the scripted QEMU (tests/fake-qemu) -------------------------------

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
