/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for plot_layout: the rows of qmigrate plot's action labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/plot.h"

static struct plot_label
label(double t, double width)
{
    struct plot_label l;

    memset(&l, 0, sizeof(l));
    l.t = t;
    l.width = width;
    l.level = 99;
    return l;
}

/* set-bandwidth and set-downtime at t = 0: one under the other */
static void
test_same_moment_stacks(void **state)
{
    struct plot_label l[3] = {label(0, 2), label(0, 2), label(0, 1)};

    (void)state;
    assert_int_equal(plot_layout_labels(l, 3, 10, 0.1, 8), 3);
    assert_int_equal(l[0].level, 0);
    assert_int_equal(l[1].level, 1);
    assert_int_equal(l[2].level, 2);
    assert_false(l[0].right || l[1].right || l[2].right);
}

/* a text goes back to the top row once the row's last text has ended */
static void
test_rows_are_reused(void **state)
{
    struct plot_label l[4] = {label(0, 3), label(2, 0.5), label(3.05, 1),
                              label(3.2, 1)};

    (void)state;
    assert_int_equal(plot_layout_labels(l, 4, 10, 0.1, 8), 2);
    assert_int_equal(l[0].level, 0); /* 0 .. 3 */
    assert_int_equal(l[1].level, 1); /* 2 .. 2.5: overlaps the first */
    assert_int_equal(l[2].level, 1); /* 3.05: within the gap of row 0 */
    assert_int_equal(l[3].level, 0); /* 3.2: row 0 is free again */
}

/* a text that would leave the plot ends at its mark, and takes that room */
static void
test_right_edge(void **state)
{
    struct plot_label l[3] = {label(5, 3), label(9, 2), label(9.8, 1)};

    (void)state;
    assert_int_equal(plot_layout_labels(l, 3, 10, 0.1, 8), 2);
    assert_false(l[0].right);
    assert_true(l[1].right); /* 7 .. 9 overlaps 5 .. 8 */
    assert_int_equal(l[1].level, 1);
    assert_true(l[2].right); /* 8.8 .. 9.8: after the first */
    assert_int_equal(l[0].level, 0);
    assert_int_equal(l[2].level, 0);
    /* with room on the right: 5 .. 8, 9 .. 11 on row 0, 9.8 .. 10.8 not */
    assert_int_equal(plot_layout_labels(l, 3, 100, 0.1, 8), 2);
    assert_false(l[1].right || l[2].right);
    assert_int_equal(l[1].level, 0);
    assert_int_equal(l[2].level, 1);
}

/* more at once than rows allowed: no room for the last text, until a row
 * frees */
static void
test_too_many(void **state)
{
    struct plot_label l[4] = {label(0, 5), label(0, 2), label(0, 1),
                              label(2.5, 1)};

    (void)state;
    assert_int_equal(plot_layout_labels(l, 4, 10, 0.1, 2), 2);
    assert_int_equal(l[0].level, 0);
    assert_int_equal(l[1].level, 1);
    assert_int_equal(l[2].level, -1);
    assert_int_equal(l[3].level, 1); /* row 1 ended at 2 */
    assert_int_equal(plot_layout_labels(l, 3, 10, 0.1, 0), 1);
    assert_int_equal(l[0].level, 0);
    assert_int_equal(l[1].level, -1);
    assert_int_equal(plot_layout_labels(l, 0, 10, 0.1, 8), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_moment_stacks),
        cmocka_unit_test(test_rows_are_reused),
        cmocka_unit_test(test_right_edge),
        cmocka_unit_test(test_too_many),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
