#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The source monitor refuses a command with a QMP error (the fake's
# error[:CLASS[:DESC]] replaces the reply; the command does not run).
#
# During set-up nothing was started: a refused query-status,
# migrate-set-capabilities or migrate-set-parameters is exit 2 with QEMU's
# text after the command's name; a refused 'migrate' is QEMU refusing the
# migration, exit 1 ("migration failed, QEMU reported it") with its text;
# a refused qmp_capabilities means the monitor cannot be used at all,
# exit 4.  The guest runs on the source, no migration started.
#
# Mid-migration, a refused action (the policy's set-downtime) is a
# warning naming the refusal; the limit QEMU kept stays in force, and the
# policy sets it again.  A refused query-migrate is polled again; refused
# three times in a row, qmigrate cancels the migration (exit 1).
. "$(dirname "$0")/lib.sh"

# A 4 GiB guest with a 1 GiB working set on 1 Gbit/s: it does not
# converge, it only matters that it runs.
GUEST=(--ram 4G --working-set 1G --dirty-rate 300000 --link 1gbit)

# --- qmp_capabilities refused: the monitor is not usable, exit 4 --------
start_fake neg "${GUEST[@]}" --fault "on=connect error"
qm neg 30
expect_code 4 "$RC" "refused qmp_capabilities"
within 2 "refused qmp_capabilities"
end_reason neg | grep -q "$T/neg.qmp refused qmp_capabilities: .*fake-qemu: injected error" ||
    fail "refused qmp_capabilities: $(end_reason neg)"
fake_is neg running none

# --- set-up commands refused: exit 2, nothing started --------------------
for cmd in query-status migrate-set-capabilities migrate-set-parameters; do
    name=${cmd//-/_}
    start_fake "$name" "${GUEST[@]}" \
        --fault "on=$cmd error GenericError:no $cmd for you (test $name)"
    qm "$name" 30
    expect_code 2 "$RC" "refused $cmd"
    within 2 "refused $cmd"
    end_reason "$name" | grep -q "^$cmd: no $cmd for you (test $name)" ||
        fail "refused $cmd: $(end_reason "$name")"
    expect_grep '"event":"end".*"result":"error".*"exit_code":2' "$T/$name.json"
    grep -q '"event":"progress"' "$T/$name.json" && fail "$cmd: a migration ran"
    fake_is "$name" running none
done

# --- migrate refused, as QEMU refuses a target it cannot reach: exit 1 ---
start_fake mig "${GUEST[@]}" \
    --fault "on=migrate error GenericError:Failed to connect to 'tcp:127.0.0.1:4444': Connection refused"
qm mig 30
expect_code 1 "$RC" "refused migrate"
within 2 "refused migrate"
end_reason mig | grep -q "QEMU refused the migration: migrate: Failed to connect to 'tcp:127.0.0.1:4444': Connection refused" ||
    fail "refused migrate: $(end_reason mig)"
expect_grep '"event":"end".*"result":"failed"' "$T/mig.json"
fake_is mig running none

# --- the policy's set-downtime refused mid-migration ----------------------
# A 2 GiB guest at 10 Gbit/s whose 768 MiB working set needs 0.64 s of
# downtime: adaptive sets ~800 ms (of --downtime 1000) at pass 3 and it
# completes in ~2 s (30-policy-stall-fixed, on the fake).  Here QEMU
# refuses that set-downtime once.
start_fake dt --ram 2G --zero-share 0.6 --working-set 768M \
    --dirty-rate 1000000 --link 10gbit \
    --fault "on=migrate-set-parameters:2 error GenericError:Parameter 'downtime-limit' expects uint64"
qm dt 60 --downtime 1000 --progress-timeout 3
expect_code 0 "$RC" "a refused set-downtime, set again"
within 8 "a refused set-downtime"
expect_grep "warning: migrate-set-parameters: Parameter 'downtime-limit' expects uint64" "$T/dt.err"
# the limit QEMU kept stays the one reported, so the policy sets it again
[ "$(grep -c '"action":"set-downtime","value":[0-9]*,"reason":"pass' "$T/dt.json")" -ge 2 ] ||
    fail "the refused set-downtime was not set again"
sed -n '/"action":"set-downtime","value":[0-9]*,"reason":"pass/,/"action":"set-downtime","value":[0-9]*,"reason":"pass/p' \
    "$T/dt.json" | grep '"event":"progress"' | grep -qv '"downtime_limit_ms":300,' &&
    fail "a refused limit was reported in force"
expect_grep '"event":"end".*"result":"completed"' "$T/dt.json"
fake_is dt postmigrate completed

# --- query-migrate refused mid-migration -----------------------------------
# once, on a guest that converges by itself in about 2 s: polled again,
# followed to the end
start_fake poll --ram 4G --working-set 32M --link 10gbit \
    --fault "on=status:active after=0.5s error GenericError:query-migrate refused (test)"
qm poll 30
expect_code 0 "$RC" "a refused query-migrate"
within 5 "a refused query-migrate"
expect_grep "warning: query-migrate: query-migrate refused (test) (refusal 1 of 3)" "$T/poll.err"
grep -q "lost the source monitor" "$T/poll.err" &&
    fail "a refused query-migrate is called a lost monitor"
expect_grep '"event":"end".*"result":"completed"' "$T/poll.json"
fake_is poll postmigrate completed
# three times in a row: qmigrate cannot follow the migration, so it
# cancels it (the monitor still works) and says why: exit 1
start_fake poll3 "${GUEST[@]}" \
    --fault "on=query-migrate:4 error GenericError:no (test)" \
    --fault "on=query-migrate:5 error GenericError:no (test)" \
    --fault "on=query-migrate:6 error GenericError:no (test)" \
    --fault "on=query-migrate:7 error GenericError:no (test)"
qm poll3 30
expect_code 1 "$RC" "query-migrate refused 3 times"
within 5 "query-migrate refused 3 times"
end_reason poll3 | grep -q "QEMU refused query-migrate 3 times in a row (query-migrate: no (test)).*the guest runs on the source" ||
    fail "query-migrate refused 3 times: $(end_reason poll3)"
fake_is poll3 running cancelled

echo "PASS"
