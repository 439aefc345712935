/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: QMP framing and JSON handling (qmp/stream), fed in pieces. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qmp/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the read size (1..64) and the message cap, so the
 * same input is also cut across reads; the rest is the stream.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qmp_stream s;
    size_t chunk, off = 1;
    char err[256];

    if (size < 1) {
        return 0;
    }
    chunk = (size_t)(data[0] & 63) + 1;
    qmp_stream_init(&s, data[0] & 64 ? 256 : 0);
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        json_t *msg;
        int rc;

        if (qmp_stream_feed(&s, data + off, n) < 0) {
            break;
        }
        off += n;
        while ((rc = qmp_stream_next(&s, &msg, err, sizeof(err))) == 1) {
            /* a message is an object with a known-length dump */
            if (!json_is_object(msg)) {
                __builtin_trap();
            }
            json_decref(msg);
        }
        if (rc < 0) {
            if (strlen(err) == 0) {
                __builtin_trap(); /* an error always says what */
            }
            break;
        }
    }
    qmp_stream_reset(&s);
    return 0;
}
