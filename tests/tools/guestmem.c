/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guestmem: checks the test guest's memory pattern in a pmemsave dump. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The test guest (tests/guest/dirty.S) walks its working set in address
 * order, incrementing the first 32-bit word of every 4 KiB page.  Stopped
 * at any instant, every page holds the same counter k, except that the
 * pages before the walker hold k + 1: the counters never rise along the
 * dump, and drop by exactly one at most once.  A page the migration lost
 * (sent stale, or never sent) breaks that.
 *
 * guestmem DUMP [MIN_COUNT]: exit 0 when the pattern holds (and the
 * counters are at least MIN_COUNT: the guest really ran), 1 when not,
 * with the first bad page named; 2 on usage or I/O errors.
 */

#define PAGE 4096

int
main(int argc, char **argv)
{
    unsigned long min_count = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
    unsigned char page[PAGE];
    uint32_t first = 0, prev = 0, v;
    size_t n = 0, drops = 0, drop_at = 0;
    FILE *f;

    if (argc < 2) {
        fprintf(stderr, "usage: guestmem DUMP [MIN_COUNT]\n");
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (f == NULL) {
        fprintf(stderr, "guestmem: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    while (fread(page, 1, PAGE, f) == PAGE) {
        memcpy(&v, page, sizeof(v));
        if (n == 0) {
            first = v;
        } else if (v == prev - 1) {
            drops++;
            drop_at = n;
        } else if (v != prev) {
            fprintf(stderr,
                    "guestmem: page %zu (guest address 0x%zx) holds %u "
                    "after %u: a page was lost or is stale\n",
                    n, (size_t)0x200000 + n * PAGE, v, prev);
            fclose(f);
            return 1;
        }
        prev = v;
        n++;
    }
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "guestmem: %s holds no whole page\n", argv[1]);
        return 2;
    }
    if (drops > 1) {
        fprintf(stderr, "guestmem: the counter drops %zu times\n", drops);
        return 1;
    }
    if (prev < min_count) {
        fprintf(stderr,
                "guestmem: counters are %u, below %lu: the guest did not "
                "run\n",
                prev, min_count);
        return 1;
    }
    printf("guestmem: %zu pages consistent: %u%s", n, first,
           drops ? "" : "\n");
    if (drops) {
        printf(" up to page %zu, then %u\n", drop_at, prev);
    }
    return 0;
}
