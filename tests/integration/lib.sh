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
TWO_HOSTS=$TOP/scripts/two-hosts
PAIR="" # the two hosts' pair ID, once two_hosts_up made them
# qemu-img and qemu-io of the same QEMU build: beside $QEMU when there
# (build/qemu/10.0/bin has both), else on PATH
qemu_tool() {
    local beside
    beside=$(dirname "$(command -v "$QEMU" || echo "$QEMU")")/$1
    if [ -x "$beside" ]; then
        echo "$beside"
    else
        echo "$1"
    fi
}
QEMU_IMG=${QEMU_IMG:-$(qemu_tool qemu-img)}
QEMU_IO=${QEMU_IO:-$(qemu_tool qemu-io)}
# X.Y.Z of $QEMU (tests/run-integration sets it once for the whole run)
[ -n "${QEMU_VERSION:-}" ] || QEMU_VERSION=$("$QEMU" --version 2>/dev/null |
    sed -n '1s/.*version \([0-9][0-9.]*\).*/\1/p')

# qemu_at_least MAJOR.MINOR: $QEMU is that version or later
qemu_at_least() {
    awk -v have="$QEMU_VERSION" -v want="$1" 'BEGIN {
        split(have, h, "."); split(want, w, ".")
        exit !(h[1] > w[1] || (h[1] == w[1] && h[2] >= w[2]))
    }'
}

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
    [ -n "$PAIR" ] && "$TWO_HOSTS" down "$PAIR"
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
    for f in "$T"/*.log "$T"/*.err; do
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
    local accel=${QMIGRATE_ACCEL:-}

    if [ "$accel" = tcg ]; then
        echo "-accel tcg"
    elif [ "${accel#kvm,}" != "$accel" ]; then
        echo "-accel $accel"
    elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        echo "-accel kvm -accel tcg"
    else
        echo "-accel tcg"
    fi
}

# start_qemu NAME MEM_MIB WORKING_SET_MIB [extra qemu args...]
# Starts the test guest with its monitor at $T/NAME.qmp.
start_qemu() {
    local name=$1 mem=$2 ws=$3
    shift 3
    # shellcheck disable=SC2046
    launch_qemu "$name" $(accel_args) -m "$mem" -kernel "$GUEST" \
        -append "$ws" "$@"
}

# launch_qemu NAME [qemu args...]: $QEMU without defaults, its serial
# console in $T/NAME.serial, its monitor at $T/NAME.qmp; returns once the
# monitor (and an '-incoming unix:PATH' socket) is there.  In host ON_HOST
# (a or b) when there are two hosts.
launch_qemu() {
    local name=$1 pid i=0 incoming="" prev="" wrap=()
    shift
    # the wrapper execs, so $! is QEMU's pid
    [ -n "$PAIR" ] && wrap=("$TWO_HOSTS" exec "$PAIR" "${ON_HOST:-a}")
    # an '-incoming unix:PATH' socket appears after the monitor's: wait for it
    for a in "$@"; do
        if [ "$prev" = "-incoming" ]; then
            case "$a" in unix:*) incoming=${a#unix:} ;; esac
        fi
        prev=$a
    done
    "${wrap[@]}" "$QEMU" -display none -nodefaults -no-user-config \
        -serial "file:$T/$name.serial" \
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

# make_pki DIR [SAN]: a CA and a server and client certificate in DIR,
# as QEMU's tls-creds-x509 reads them (ca-cert.pem, server-cert.pem, ...);
# the server's names are SAN (IP:127.0.0.1,DNS:localhost).
make_pki() {
    local d=$1 san=${2:-IP:127.0.0.1,DNS:localhost} name ext
    command -v openssl >/dev/null || skip "openssl is not installed"
    mkdir -p "$d"
    printf '[server]\nsubjectAltName = %s\nextendedKeyUsage = serverAuth\n[client]\nextendedKeyUsage = clientAuth\n' \
        "$san" >"$d/ext.cnf"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca-key.pem" \
        -subj "/CN=qmigrate test CA" -days 2 -out "$d/ca-cert.pem" \
        2>/dev/null || fail "CA in $d"
    for name in server client; do
        ext=$name
        openssl req -new -newkey rsa:2048 -nodes -keyout "$d/$name-key.pem" \
            -subj "/CN=$name" -out "$d/$name.csr" 2>/dev/null &&
            openssl x509 -req -in "$d/$name.csr" -CA "$d/ca-cert.pem" \
                -CAkey "$d/ca-key.pem" -CAcreateserial -days 2 \
                -extfile "$d/ext.cnf" -extensions "$ext" \
                -out "$d/$name-cert.pem" 2>/dev/null ||
            fail "$name certificate in $d"
    done
}

# --- two hosts (scripts/two-hosts) -------------------------------------

# two_hosts_up [RATE|-] [c]: hosts a (10.213.0.1) and b (10.213.0.2) on a
# veth link (shaped to RATE), and host c (10.213.1.3, linked to a) when
# asked; torn down at exit; skips (77) when network namespaces cannot be
# made here.  Sets HOST_A, HOST_B and HOST_C.
two_hosts_up() {
    "$TWO_HOSTS" check 2>"$T/two-hosts.why" ||
        skip "two hosts need network namespaces: $(cat "$T/two-hosts.why")"
    PAIR=q$$
    "$TWO_HOSTS" up "$PAIR" "$@" 2>"$T/two-hosts.log" ||
        fail "two-hosts up: $(cat "$T/two-hosts.log")"
    HOST_A=$("$TWO_HOSTS" addr a)
    HOST_B=$("$TWO_HOSTS" addr b)
    HOST_C=$("$TWO_HOSTS" addr c) # there when 'c' was asked for
}

# on HOST CMD...: CMD inside host a or b (here, when there are no hosts);
# start_qemu honours ON_HOST=a|b.  Not for '&': a function in the
# background is a subshell whose pid is not the command's.
on() {
    local host=$1
    shift
    if [ -n "$PAIR" ]; then
        "$TWO_HOSTS" exec "$PAIR" "$host" "$@"
    else
        "$@"
    fi
}

# link_down / link_up: the link between the hosts
link_down() { "$TWO_HOSTS" link "$PAIR" down || fail "link down"; }
link_up() { "$TWO_HOSTS" link "$PAIR" up || fail "link up"; }

# state_of NAME: the guest's run state, or "gone" when its QEMU is not
# there to answer
state_of() {
    local st
    st=$("$QMP_CMD" --timeout 5 "$T/$1.qmp" query-status 2>/dev/null |
        sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p')
    echo "${st:-gone}"
}

# runs_only_on NAME OTHER: the guest runs on NAME and not on OTHER
runs_only_on() {
    local here there
    here=$(state_of "$1")
    there=$(state_of "$2")
    [ "$here" = running ] && [ "$there" != running ] ||
        fail "the guest should run on $1 only: $1 is $here, $2 is $there"
    echo "the guest runs on $1 ($2 is $there)"
}

# migrate_bg NAME ARGS...: qmigrate migrate --json in the background,
# output in $T/NAME.json and $T/NAME.err, its pid in QM_PID
migrate_bg() {
    local name=$1
    shift
    timeout -k 5 240 "$QMIGRATE" migrate --json "$@" >"$T/$name.json" \
        2>"$T/$name.err" &
    QM_PID=$!
}

# wait_active NAME [PASS_PERCENT]: until the migration of migrate_bg NAME
# is active and has sent PASS_PERCENT (0) of its RAM
wait_active() {
    local i=0
    while ! awk -v p="${2:-0}" '/"event":"progress"/ && /"status":"active"/ {
            if (match($0, /"memory":\{[^}]*"percent":[0-9.]+/)) {
                s = substr($0, RSTART, RLENGTH); sub(/.*"percent":/, "", s)
                if (s + 0 >= p) { found = 1 } } }
            END { exit !found }' "$T/$1.json" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 600 ] && fail "the migration $1 did not become active: $(tail -c 600 "$T/$1.err")"
        kill -0 "$QM_PID" 2>/dev/null ||
            fail "qmigrate ended before the migration was active: $(tail -c 600 "$T/$1.err")"
        sleep 0.1
    done
}

# start_sshd HOST ADDR PORT: OpenSSH's sshd on ADDR:PORT inside HOST, with
# a host key and a user key made here, its own config, root's login by
# key only; SSH_OPTS are the --ssh-option arguments that trust it (the
# known host key SSH_KNOWN, and the user key SSH_KEY).  In $T/ssh,
# other_key is a key sshd does not know and changed_hosts says host b has
# another key.
start_sshd() {
    local host=$1 addr=$2 port=$3 d=$T/ssh i=0
    [ -x /usr/sbin/sshd ] || skip "sshd is not installed (openssh-server)"
    mkdir -p "$d" && chmod 700 "$d"
    for k in host_key user_key other_key; do
        ssh-keygen -q -t ed25519 -N '' -C "qmigrate test $k" -f "$d/$k" ||
            fail "ssh-keygen $k"
    done
    cp "$d/user_key.pub" "$d/authorized_keys"
    echo "[$addr]:$port $(cut -d' ' -f1,2 "$d/host_key.pub")" >"$d/known_hosts"
    echo "[$addr]:$port $(cut -d' ' -f1,2 "$d/other_key.pub")" >"$d/changed_hosts"
    cat >"$d/sshd_config" <<SSHD
ListenAddress $addr
Port $port
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowStreamLocalForwarding yes
StrictModes no
UsePAM no
PidFile none
LogLevel INFO
SSHD
    # sshd insists on its privilege separation directory
    [ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
    if [ -n "$PAIR" ]; then
        "$TWO_HOSTS" exec "$PAIR" "$host" /usr/sbin/sshd -D -e \
            -f "$d/sshd_config" >"$T/sshd.log" 2>&1 &
    else
        /usr/sbin/sshd -D -e -f "$d/sshd_config" >"$T/sshd.log" 2>&1 &
    fi
    PIDS="$PIDS $!"
    while ! grep -q "Server listening" "$T/sshd.log"; do
        i=$((i + 1))
        [ $i -gt 100 ] && fail "sshd did not start: $(cat "$T/sshd.log")"
        sleep 0.1
    done
    SSH_KNOWN="--ssh-option UserKnownHostsFile=$d/known_hosts"
    SSH_KEY="--ssh-option IdentityFile=$d/user_key --ssh-option IdentitiesOnly=yes"
    SSH_OPTS="$SSH_KNOWN $SSH_KEY"
}

# stop_qemu NAME...: ends QEMUs a test no longer needs (their CPU is
# for the next ones)
stop_qemu() {
    local pid
    for name in "$@"; do
        eval "pid=\${PID_$name:-}"
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null &&
            wait "$pid" 2>/dev/null
    done
    return 0
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

# wait_guest NAME: until the test guest printed that it runs.  Under KVM
# on these (nested) machines the firmware alone takes 2-4 s idle and over
# 13 s under load, so the bound is generous: it only stops a hang.
wait_guest() {
    local i=0 max=$((${2:-10} * 10))
    while ! grep -q "qmigrate-guest ready" "$T/$1.serial" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 600 ] && fail "guest $1 did not start within 60 s"
        sleep 0.1
    done
}

# wait_for PATTERN FILE SECONDS WHAT: until FILE holds PATTERN.  Tests wait
# for what qmigrate says rather than for a fixed time: under valgrind and
# on a loaded machine it starts seconds late.
wait_for() {
    local i=0
    while ! grep -q -- "$1" "$2" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $(($3 * 10)) ] && fail "$4: '$1' not in $2 after $3 s"
        sleep 0.1
    done
}

# qemu_version: MAJOR.MINOR of $QEMU
qemu_version() {
    echo "${QEMU_VERSION%.*}"
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

# --- the Linux test guest (tests/guest/linux) ----------------------------

LINUX_GUEST=$TOP/$BUILD/guest/linux

# The accelerator for the Linux guest: TCG, unless QMIGRATE_LINUX_ACCEL
# says otherwise.  The KVM of these machines (kvm_pvm) cannot boot a stock
# kernel with any -cpu model; on a host whose KVM can, set it to kvm.
linux_accel_args() {
    echo "-accel ${QMIGRATE_LINUX_ACCEL:-tcg}"
}

# start_linux NAME MEM_MIB WORKLOAD [extra qemu args...]: boots the Linux
# guest; WORKLOAD is its kernel command line past the console, e.g.
# "qmigrate.work=vm qmigrate.mib=64" (see tests/guest/linux/init).
start_linux() {
    local name=$1 mem=$2 work=$3
    shift 3
    [ -f "$LINUX_GUEST/initramfs.cpio.gz" ] ||
        fail "no Linux guest in $LINUX_GUEST (make $BUILD/guest/linux/initramfs.cpio.gz)"
    # shellcheck disable=SC2046
    launch_qemu "$name" $(linux_accel_args) -m "$mem" \
        -kernel "$LINUX_GUEST/vmlinuz" \
        -initrd "$LINUX_GUEST/initramfs.cpio.gz" \
        -append "console=ttyS0 quiet panic=-1 $work" -no-reboot "$@"
}

# wait_linux NAME: until init started the workload (a boot under TCG
# takes 3-5 s; a loaded machine may need more)
wait_linux() {
    local i=0
    while ! grep -q "qmigrate-linux ready" "$T/$1.serial" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 600 ] && fail "the Linux guest $1 did not start in 60 s"
        kill -0 "$(eval echo "\$PID_$1")" 2>/dev/null ||
            fail "QEMU $1 exited while the Linux guest booted"
        sleep 0.1
    done
    grep -q "qmigrate-linux stress-ng failed\|qmigrate-linux unknown\|qmigrate-linux disk failed" \
        "$T/$1.serial" && fail "the Linux guest $1: $(grep qmigrate-linux "$T/$1.serial")"
    return 0
}

# heartbeat NAME: the number of the last heartbeat on NAME's console
# (-1 when none)
heartbeat() {
    sed -n 's/^qmigrate-linux heartbeat \([0-9]*\).*/\1/p' "$T/$1.serial" \
        2>/dev/null | tail -n 1 | grep . || echo -1
}

# expect_heartbeat_after NAME N: within 15 s a heartbeat numbered above N
# shows on NAME's console (the guest runs there)
expect_heartbeat_after() {
    local i=0
    while [ "$(heartbeat "$1")" -le "$2" ]; do
        i=$((i + 1))
        [ $i -gt 150 ] &&
            fail "no heartbeat above $2 on $1 in 15 s (last: $(heartbeat "$1"))"
        sleep 0.1
    done
}

# expect_no_heartbeat NAME SECONDS: NAME's console gains no heartbeat in
# SECONDS (the guest does not run there)
expect_no_heartbeat() {
    local before
    before=$(heartbeat "$1")
    sleep "$2"
    [ "$(heartbeat "$1")" = "$before" ] ||
        fail "$1 still beats: heartbeat $before, then $(heartbeat "$1")"
}

# expect_runs_only_on NAME OTHER: the guest runs on NAME (its heartbeat
# goes on past the last one OTHER printed) and not on OTHER
expect_runs_only_on() {
    expect_heartbeat_after "$1" "$(heartbeat "$2")"
    expect_no_heartbeat "$2" 3
    expect_heartbeat_after "$1" "$(heartbeat "$1")"
}
