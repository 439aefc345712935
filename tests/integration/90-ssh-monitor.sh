#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The far monitor over SSH: a real sshd (OpenSSH) in host b, with a host
# key and a user key made here.  qmigrate runs in host a and reaches the
# destination's monitor as ssh://root@HOST_B:2222/PATH, migrates the test
# guest there, then back with --source ssh://.  Each way ssh can fail
# ends quickly with exit 4 and ssh's cause in words; the source monitor's
# tunnel, killed mid-migration, is set up again by the one reconnect; a
# SIGINT cancels through the tunnel.  No tunnel directory or ssh process
# is left behind; when qmigrate is killed with SIGKILL, its ssh still
# ends (PR_SET_PDEATHSIG), though its empty directory stays, as
# documented.  Without network namespaces, sshd listens on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
command -v ssh >/dev/null || skip "ssh is not installed (openssh-client)"

if [ "${QMIGRATE_NO_NETNS:-0}" != 1 ] && "$TWO_HOSTS" check 2>/dev/null; then
    two_hosts_up
    SSH_PORT=2222
else
    HOST_A=127.0.0.1
    HOST_B=127.0.0.1
    SSH_PORT=$((20000 + $$ % 20000))
fi
start_sshd b "$HOST_B" "$SSH_PORT"
mkdir -p "$T/tmp"
export TMPDIR=$T/tmp # where qmigrate makes its private tunnel directories
far() { echo "ssh://root@$HOST_B:$SSH_PORT$1"; }
port=$((30000 + $$ % 20000))

# nothing of a tunnel is left: no directory, no ssh
no_tunnel_left() {
    [ -z "$(ls -A "$T/tmp")" ] || fail "left in TMPDIR: $(ls -A "$T/tmp")"
    pgrep -f -- "-L $T/tmp/" >/dev/null && fail "an ssh process is left"
    return 0
}

# qm_ssh NAME LIMIT ARGS...: qmigrate in host a; sets RC and SECS
qm_ssh() {
    local name=$1 limit=$2 t0
    shift 2
    t0=$(date +%s%N)
    # shellcheck disable=SC2086
    on a timeout -k 5 "$limit" "$QMIGRATE" migrate $SSH_OPTS "$@" \
        >"$T/$name.out" 2>&1
    RC=$?
    SECS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    echo "$name: exit $RC after $SECS s"
}

# --- a migration with the destination's monitor over SSH -----------------
start_qemu src 256 16
ON_HOST=b start_qemu dst 256 16 -incoming defer
wait_guest src
qm_ssh there 120 --source "$T/src.qmp" --dest "$(far "$T/dst.qmp")" \
    --to "tcp:$HOST_B:$port" -v
expect_code 0 "$RC" "migration with --dest ssh://"
expect_grep "connected to $(far "$T/dst.qmp"): QEMU" "$T/there.out"
expect_status dst running
expect_status src postmigrate
no_tunnel_left

# --- and back, with the source's monitor over SSH ------------------------
start_qemu back 256 16 -incoming "tcp:$HOST_A:$((port + 1))"
qm_ssh back 120 --source "$(far "$T/dst.qmp")" --dest "$T/back.qmp" \
    --to "tcp:$HOST_A:$((port + 1))"
expect_code 0 "$RC" "migration with --source ssh://"
expect_status back running
expect_status dst postmigrate
verify_guest_memory back 16
no_tunnel_left
stop_qemu src dst back

# --- every way ssh can fail: exit 4, at once, in ssh's words ---------------
start_qemu s2 256 16
wait_guest s2
d=$T/ssh
check_fails() { # NAME WORDS ARGS...
    local name=$1 words=$2
    shift 2
    qm_ssh "$name" 30 --source "$T/s2.qmp" --to "tcp:$HOST_B:$((port + 2))" "$@"
    expect_code 4 "$RC" "$name: $(cat "$T/$name.out")"
    within 5 "$name"
    expect_grep "error: destination: cannot [a-z ]*monitor ssh://root@.*: $words (ssh said: " "$T/$name.out"
    expect_status s2 running
    no_tunnel_left
}
SSH_OPTS="--ssh-option UserKnownHostsFile=/dev/null $SSH_KEY" \
    check_fails unknown "host key unknown" --dest "$(far "$T/dst.qmp")"
SSH_OPTS="--ssh-option UserKnownHostsFile=$d/changed_hosts $SSH_KEY" \
    check_fails changed "host key changed" --dest "$(far "$T/dst.qmp")"
SSH_OPTS="$SSH_KNOWN --ssh-option IdentityFile=$d/other_key
    --ssh-option IdentitiesOnly=yes" \
    check_fails denied "authentication refused" --dest "$(far "$T/dst.qmp")"
check_fails nosocket "no such socket" --dest "$(far "$T/nosuch.qmp")"
check_fails refused "connection refused" \
    --dest "ssh://root@$HOST_B:$((SSH_PORT + 1))$T/dst.qmp"
expect_grep "Permission denied (publickey)" "$T/denied.out"

# a malformed address is a usage error before anything starts
"$QMIGRATE" migrate --source "$T/s2.qmp" --dest "ssh://root@$HOST_B:0/x" \
    --to "tcp:$HOST_B:1" >"$T/bad.out" 2>&1
expect_code 2 $? "ssh://HOST:0"
expect_grep "port '0' is not 1..65535" "$T/bad.out"
stop_qemu s2

# --- the source's tunnel dies mid-migration: one reconnect, a new tunnel ---
start_qemu s3 256 24
ON_HOST=b start_qemu d3 256 24 -incoming "tcp:$HOST_B:$((port + 3))"
wait_guest s3
in_a=()
[ -n "$PAIR" ] && in_a=("$TWO_HOSTS" exec "$PAIR" a)
# shellcheck disable=SC2086
"${in_a[@]}" "$QMIGRATE" migrate $SSH_OPTS --source "$(far "$T/s3.qmp")" \
    --to "tcp:$HOST_B:$((port + 3))" --bandwidth 8 --downtime 5000 \
    >"$T/recon.out" 2>&1 &
qpid=$!
i=0
while ! pgrep -f -- "-L $T/tmp/.*:$T/s3.qmp" >/dev/null; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "no tunnel for the source monitor"
    sleep 0.1
done
sleep 1.5
sshpid=$(pgrep -f -- "-L $T/tmp/.*:$T/s3.qmp")
kill -9 "$sshpid" # the tunnel qmigrate started, found by its unique path
wait $qpid
RC=$?
expect_code 0 "$RC" "migration whose tunnel was killed"
expect_grep "lost the source monitor" "$T/recon.out"
expect_grep "reconnected to the source monitor" "$T/recon.out"
expect_status d3 running
expect_status s3 postmigrate
no_tunnel_left
stop_qemu s3 d3

# --- SIGINT cancels through the tunnel; ssh is not hit by the signal ------
start_qemu s4 256 24
ON_HOST=b start_qemu d4 256 24 -incoming defer
wait_guest s4
# shellcheck disable=SC2086
"${in_a[@]}" "$QMIGRATE" migrate $SSH_OPTS --source "$(far "$T/s4.qmp")" \
    --dest "$(far "$T/d4.qmp")" --to "tcp:$HOST_B:$((port + 4))" \
    --policy pray --bandwidth 2 >"$T/int.out" 2>&1 &
qpid=$!
for _ in $(seq 100); do
    grep -q "migrating" "$T/int.out" && break
    sleep 0.1
done
sleep 1
kill -INT $qpid
wait $qpid
expect_code 3 $? "SIGINT through the tunnel"
expect_grep "the guest runs on the source" "$T/int.out"
expect_status s4 running
no_tunnel_left

# --- qmigrate killed with SIGKILL: its ssh does not outlive it -------------
ON_HOST=b start_qemu d5 256 24 -incoming "tcp:$HOST_B:$((port + 5))"
# shellcheck disable=SC2086
"${in_a[@]}" "$QMIGRATE" migrate $SSH_OPTS --source "$(far "$T/s4.qmp")" \
    --to "tcp:$HOST_B:$((port + 5))" --policy pray --bandwidth 2 \
    >"$T/kill.out" 2>&1 &
qpid=$!
for _ in $(seq 100); do
    grep -q "migrating" "$T/kill.out" && break
    sleep 0.1
done
sshpid=$(pgrep -f -- "-L $T/tmp/.*:$T/s4.qmp") || fail "no tunnel for s4"
kill -9 $qpid
wait $qpid 2>/dev/null
for _ in $(seq 50); do
    kill -0 "$sshpid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$sshpid" 2>/dev/null && fail "ssh $sshpid outlived the qmigrate that started it"
echo "PASS"
