#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# QEMU fails the migration with an error-desc (the fake's
# fail-migration:DESC): exit 1 ("migration failed, QEMU reported it"),
# QEMU's text in the message, in bounded time; the guest runs on the
# source.  At 'migrate' (a target that refuses the connection), in the
# middle of pre-copy, and in post-copy, where the source must NOT be
# resumed: the guest already ran on the destination.
. "$(dirname "$0")/lib.sh"

# A 4 GiB guest, 1 GiB working set, 10 Gbit/s: pass 1 takes about 2 s and
# it never converges at 500 ms.
GUEST=(--ram 4G --working-set 1G --dirty-rate 1000000 --link 10gbit)

# --- right after 'migrate' (QEMU returns {}, then MIGRATION failed) ------
DESC="Failed to connect to 'tcp:127.0.0.1:4444': Connection refused"
start_fake early "${GUEST[@]}" --fault "on=migrate fail-migration:$DESC"
qm early 30
expect_code 1 "$RC" "failed at migrate"
within 2 "failed at migrate"
end_reason early | grep -q "^the migration failed (QEMU: $DESC); the guest runs on the source" ||
    fail "failed at migrate: $(end_reason early)"
expect_grep '"event":"end".*"result":"failed".*"exit_code":1' "$T/early.json"
fake_is early running failed
"$QMP_CMD" "$T/early.qmp" query-migrate | grep -q "\"error-desc\":\"$DESC\"" ||
    fail "the fake lost its error-desc"

# --- mid-migration, as pass 2 begins ---------------------------------------
DESC="Unable to write to socket: Connection reset by peer"
start_fake mid "${GUEST[@]}" --fault "on=pass:2 fail-migration:$DESC"
qm mid 30
expect_code 1 "$RC" "failed at pass 2"
within 5 "failed at pass 2"
end_reason mid | grep -q "^the migration failed (QEMU: $DESC); the guest runs on the source" ||
    fail "failed at pass 2: $(end_reason mid)"
expect_grep '"event":"progress".*"status":"failed"' "$T/mid.json"
expect_grep "error: the migration failed (QEMU: $DESC)" "$T/mid.err"
fake_is mid running failed

# --- in post-copy: the source stays paused --------------------------------
# A 64 GiB guest (95 % zero pages) whose 1 GiB working set needs 0.9 s of
# downtime: adaptive starts post-copy at pass 4 (67-fake-policy-hopeless),
# and 0.1 s into post-copy the migration fails.
DESC="Detected IO failure for postcopy. Migration paused."
start_fake post --ram 64G --zero-share 0.95 --zero-scan-rate 100G \
    --working-set 1G --dirty-rate 1000000 --link 10gbit \
    --fault "on=status:postcopy-active after=0.1s fail-migration:$DESC"
qm post 30 --postcopy
expect_code 1 "$RC" "failed in post-copy"
within 10 "failed in post-copy"
expect_grep '"action":"start-postcopy"' "$T/post.json"
expect_grep '"event":"progress".*"status":"postcopy-active"' "$T/post.json"
end_reason post | grep -q "^the migration failed (QEMU: $DESC)" ||
    fail "failed in post-copy: $(end_reason post)"
# never resumed, and never advised to be: the guest ran on the
# destination after the switch, the source's RAM is stale
end_reason post | grep -q "WARNING: post-copy had started.*do NOT resume the source" ||
    fail "failed in post-copy, no warning: $(end_reason post)"
end_reason post | grep -q "migrate-recover" ||
    fail "failed in post-copy, no way out named: $(end_reason post)"
end_reason post | grep -q "resume the source with 'cont'" &&
    fail "advises 'cont' on the source after post-copy: $(end_reason post)"
fake_is post postmigrate failed

echo "PASS"
