/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/plot: where `qmigrate plot` puts its action labels (plot_layout.c). */
#ifndef QMIGRATE_CLI_PLOT_H
#define QMIGRATE_CLI_PLOT_H

#include <stdbool.h>
#include <stddef.h>

/* One action's label, in the x axis' units (seconds). */
struct plot_label {
    double t;     /* when the action happened: the label's mark */
    double width; /* the text's width */
    int level;    /* out: its row, 0 at the top of the plot; -1: none */
    bool right;   /* out: the text ends at the mark instead of starting */
};

/*
 * Gives each label, in the order of their times, the highest row on which
 * its text overlaps no other by less than gap; a text that would leave
 * the plot at xmax ends at its mark.  Labels at the same moment (a
 * set-bandwidth and a set-downtime at t = 0) so land on rows of their
 * own, one under the other.  When max_levels rows are not enough, a label
 * gets level -1: there is no room for its text.  Returns the number of
 * rows used.
 */
int plot_layout_labels(struct plot_label *labels, size_t n, double xmax,
                       double gap, int max_levels);

#endif
