/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tests/unit/lib/sample: policy samples for tests, built one way. */
#include <string.h>

#include "tests/unit/lib/sample.h"

struct policy_sample
test_sample(double t, enum migration_status status, uint64_t ram_total,
            uint64_t remaining, uint64_t transferred, uint64_t sync)
{
    struct policy_sample s;

    memset(&s, 0, sizeof(s));
    s.t = t;
    s.status = status;
    s.ram_total = ram_total;
    s.ram_remaining = remaining;
    s.ram_transferred = transferred;
    s.ram_dirty_sync_count = sync;
    s.ram_page_size = 4096;
    s.expected_downtime_ms = -1;
    s.downtime_limit_ms = 300;
    return s;
}
