#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# evacuate drives several real migrations from one loop, at most N at a
# time; one failure does not stop the others; the exit code is the worst.
. "$(dirname "$0")/lib.sh"

for i in 1 2 3; do
    start_qemu "s$i" 128 4
    start_qemu "d$i" 128 4 -incoming "unix:$T/m$i.sock"
done
start_qemu s4 128 4
for i in 1 2 3 4; do wait_guest "s$i"; done

cat >"$T/plan.ini" <<PLAN
[vm1]
source = $T/s1.qmp
to = unix:$T/m1.sock

[vm2]
source = $T/s2.qmp
to = unix:$T/m2.sock
downtime = 800

[vm3]
source = $T/s3.qmp
to = unix:$T/m3.sock
dest = $T/d3.qmp

[vm4]
# nobody listens there: this one fails, the others go on
source = $T/s4.qmp
to = unix:$T/nobody.sock
PLAN
timeout 120 "$QMIGRATE" evacuate --plan "$T/plan.ini" --max-parallel 2 \
    --json >"$T/out.json" 2>"$T/table"
expect_code 1 $? "evacuation with one failure"
for i in 1 2 3; do
    expect_grep "\"vm\":\"vm$i\".*\"result\":\"completed\"" "$T/out.json"
    expect_status "d$i" running
    expect_status "s$i" postmigrate
done
for i in 1 2 3; do verify_guest_memory "d$i" 4; done
expect_grep '"vm":"vm4".*"result":"failed"' "$T/out.json"
expect_status s4 running
expect_grep '"max_running":2' "$T/out.json"
expect_grep '^vm4 *failed' "$T/table"

printf '[vm1]\nsource = %s\n' "$T/s1.qmp" >"$T/bad.ini"
"$QMIGRATE" evacuate --plan "$T/bad.ini" >"$T/out" 2>&1
expect_code 2 $? "plan without --to"
expect_grep "\[vm1\]: --to URI is required" "$T/out"
printf '[vm1]\nsource = a\nto = unix:/x\nwhatever = 1\n' >"$T/bad2.ini"
"$QMIGRATE" evacuate --plan "$T/bad2.ini" >"$T/out" 2>&1
expect_code 2 $? "plan with an unknown key"
expect_grep "bad2.ini:4: \[vm1\]: unknown key 'whatever'" "$T/out"
echo "PASS"
