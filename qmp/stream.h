/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp/stream: split a byte stream into JSON objects, whatever the reads. */
#ifndef QMIGRATE_QMP_STREAM_H
#define QMIGRATE_QMP_STREAM_H

#include <stddef.h>

#include <jansson.h>

/*
 * QMP peers send JSON objects one after another, usually one a line with
 * CRLF, but a line ending is not required (and QEMU's pretty=on output
 * spans lines).  The splitter tracks braces, brackets and strings, so a
 * message split over many reads or several messages in one read come out
 * whole.  Whitespace between messages is skipped.  A message longer than
 * the cap, bytes that are not UTF-8, anything other than an object at the
 * top level, and invalid JSON are errors that name what was wrong.
 */

#define QMP_STREAM_DEFAULT_MAX ((size_t)16 * 1024 * 1024)

struct qmp_stream {
    char *buf;      /* owned; buf[head, len) not yet returned */
    size_t head;    /* bytes before it are consumed */
    size_t len;     /* bytes in buf */
    size_t cap;     /* allocated size of buf */
    size_t scanned; /* bytes of buf already scanned */
    size_t start;   /* where the current message starts, when in one */
    size_t max;     /* cap on one message, bytes */
    int depth;      /* nesting of {} and [] */
    int in_message; /* inside a top-level object */
    int in_string;
    int escaped; /* the previous byte was a backslash in a string */
    unsigned long long offset; /* stream position of buf[0], for messages */
};

/* max 0 means QMP_STREAM_DEFAULT_MAX. */
void qmp_stream_init(struct qmp_stream *s, size_t max);
/* Frees the buffer; the stream may be initialised again. */
void qmp_stream_reset(struct qmp_stream *s);

/* Appends bytes read from the peer.  Returns 0, or -1 when out of memory. */
int qmp_stream_feed(struct qmp_stream *s, const void *data, size_t len);

/*
 * Takes the next whole message.  Returns 1 and sets *msg (a new reference,
 * the caller owns it), 0 when more bytes are needed, or -1 on a protocol
 * error, with a message in errbuf.  After -1 the stream is unusable until
 * reset: the peer cannot be resynchronised.
 */
int qmp_stream_next(struct qmp_stream *s, json_t **msg, char *errbuf,
                    size_t errlen);

/* True when bytes of an unfinished message are buffered. */
int qmp_stream_pending(const struct qmp_stream *s);

/*
 * Checks that len bytes at data are well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF).  Returns -1 and sets *bad_offset
 * at the first bad byte, or 0.
 */
int qmp_utf8_check(const char *data, size_t len, size_t *bad_offset);

#endif /* QMIGRATE_QMP_STREAM_H */
