#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# evacuate host a to two destination hosts across 100 Mbit/s links: four
# test guests, two bound for host b and two for host c, with
# --max-parallel 4 and --max-parallel-per-dest 1.  All complete; never
# two at once to one host, and both hosts at once; every guest runs on
# its destination only, its memory intact.
. "$(dirname "$0")/lib.sh"
two_hosts_up 100mbit c
port=$((20000 + $$ % 20000))

for i in 1 2 3 4; do
    start_qemu "s$i" 128 4
    wait_guest "s$i"
    host=b addr=$HOST_B
    [ "$i" -gt 2 ] && host=c addr=$HOST_C
    ON_HOST=$host start_qemu "d$i" 128 4 -incoming "tcp:$addr:$((port + i))"
    printf '[vm%d]\nsource = %s\nto = tcp:%s:%d\ndest = %s\ndowntime = 2000\n\n' \
        "$i" "$T/s$i.qmp" "$addr" $((port + i)) "$T/d$i.qmp" >>"$T/plan.ini"
done
timeout 240 "$QMIGRATE" evacuate --plan "$T/plan.ini" --max-parallel 4 \
    --max-parallel-per-dest 1 --json >"$T/out.json" 2>"$T/table"
expect_code 0 $? "evacuation to two hosts: $(tail -n 5 "$T/table")"
for i in 1 2 3 4; do
    expect_grep "\"vm\":\"vm$i\".*\"result\":\"completed\"" "$T/out.json"
    runs_only_on "d$i" "s$i"
    expect_status "s$i" postmigrate
done
for i in 1 2 3 4; do verify_guest_memory "d$i" 4; done
expect_grep '"event":"summary".*"destinations":2,"max_running":2,"max_running_per_dest":1' \
    "$T/out.json"
# vm3 (host c) began before vm2 (host b, behind vm1)
first=$(grep -o '"vm":"vm[0-9]","event":"begin"\|"event":"begin"[^}]*"vm":"vm[0-9]"' "$T/out.json" |
    grep -o 'vm[0-9]' | head -n 2 | tr '\n' ' ')
[ "$first" = "vm1 vm3 " ] || fail "the first two begun are '$first', expected vm1 vm3"
echo "PASS"
