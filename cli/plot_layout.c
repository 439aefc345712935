/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/plot_layout: rows for `qmigrate plot`'s action labels, so that no
 * two texts are drawn over each other. */
#include "cli/plot.h"

#define PLOT_MAX_LEVELS 64

int
plot_layout_labels(struct plot_label *labels, size_t n, double xmax, double gap,
                   int max_levels)
{
    double row_end[PLOT_MAX_LEVELS]; /* where each row's last text ends */
    int used = 0;
    size_t i;
    int k;

    if (max_levels > PLOT_MAX_LEVELS) {
        max_levels = PLOT_MAX_LEVELS;
    }
    if (max_levels < 1) {
        max_levels = 1;
    }
    for (i = 0; i < n; i++) {
        struct plot_label *l = &labels[i];
        double start = l->t;

        l->right = l->t + l->width > xmax;
        if (l->right) {
            start = l->t - l->width;
        }
        l->level = -1;
        for (k = 0; k < used && l->level < 0; k++) {
            if (start > row_end[k] + gap) {
                l->level = k;
            }
        }
        if (l->level < 0 && used < max_levels) {
            l->level = used++;
        }
        if (l->level >= 0) {
            row_end[l->level] = start + l->width;
        }
    }
    return used;
}
