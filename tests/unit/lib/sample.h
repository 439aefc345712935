/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tests/unit/lib/sample: policy samples for tests, built one way. */
#ifndef QMIGRATE_TESTS_SAMPLE_H
#define QMIGRATE_TESTS_SAMPLE_H

#include "policy/policy.h"

/*
 * A sample as QEMU's replies read: everything else zero, 4 KiB pages, no
 * expected downtime, QEMU's 300 ms limit in force.
 */
struct policy_sample test_sample(double t, enum migration_status status,
                                 uint64_t ram_total, uint64_t remaining,
                                 uint64_t transferred, uint64_t sync);

#endif /* QMIGRATE_TESTS_SAMPLE_H */
