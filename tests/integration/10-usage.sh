#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad usage ends with exit 2 and the usage text; a missing monitor with 4.
. "$(dirname "$0")/lib.sh"

"$QMIGRATE" migrate --source "$T/x.qmp" --to unix:"$T/m" --no-such-flag \
    >"$T/out" 2>"$T/err"
expect_code 2 $? "unknown flag"
expect_grep "unknown option '--no-such-flag'" "$T/err"
expect_grep "Usage:" "$T/err"

"$QMIGRATE" migrate --to unix:"$T/m" >"$T/out" 2>"$T/err"
expect_code 2 $? "missing --source"
expect_grep "source QMP is required" "$T/err"

"$QMIGRATE" migrate --source "$T/x.qmp" --to unix:"$T/m" --downtime abc \
    >"$T/out" 2>"$T/err"
expect_code 2 $? "bad number"
expect_grep "\-\-downtime: 'abc' is not a whole number" "$T/err"

"$QMIGRATE" migrate --source "$T/x.qmp" --to "exec:cat >/dev/null" \
    >"$T/out" 2>"$T/err"
expect_code 2 $? "exec URI"
expect_grep "exec: URIs are refused" "$T/err"

"$QMIGRATE" frobnicate >"$T/out" 2>"$T/err"
expect_code 2 $? "unknown command"
expect_grep "unknown command 'frobnicate'" "$T/err"

"$QMIGRATE" migrate --source "$T/missing.qmp" --to unix:"$T/m" \
    >"$T/out" 2>"$T/err"
expect_code 4 $? "missing monitor"
expect_grep "$T/missing.qmp" "$T/err"
expect_grep "no such socket" "$T/err"

"$QMIGRATE" --help >"$T/out" 2>&1
expect_code 0 $? "--help"
expect_grep "qmigrate migrate --source QMP --to URI" "$T/out"
echo "PASS"
