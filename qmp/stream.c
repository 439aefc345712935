/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp/stream: split a byte stream into JSON objects, whatever the reads. */
#include "qmp/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
qmp_stream_init(struct qmp_stream *s, size_t max)
{
    memset(s, 0, sizeof(*s));
    s->max = max ? max : QMP_STREAM_DEFAULT_MAX;
}

void
qmp_stream_reset(struct qmp_stream *s)
{
    size_t max = s->max;

    free(s->buf);
    qmp_stream_init(s, max);
}

/* Moves the live bytes to the front of the buffer. */
static void
stream_compact(struct qmp_stream *s)
{
    if (s->head == 0) {
        return;
    }
    memmove(s->buf, s->buf + s->head, s->len - s->head);
    s->len -= s->head;
    s->scanned -= s->head;
    if (s->in_message) {
        s->start -= s->head;
    }
    s->offset += s->head;
    s->head = 0;
}

int
qmp_stream_feed(struct qmp_stream *s, const void *data, size_t len)
{
    if (len == 0) {
        return 0;
    }
    stream_compact(s);
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *buf;

        while (cap < s->len + len) {
            cap *= 2;
        }
        buf = realloc(s->buf, cap);
        if (buf == NULL) {
            return -1;
        }
        s->buf = buf;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return 0;
}

int
qmp_stream_pending(const struct qmp_stream *s)
{
    return s->in_message;
}

/* Drops the bytes before position n; they are reclaimed at the next feed. */
static void
stream_consume(struct qmp_stream *s, size_t n)
{
    s->head = n;
}

int
qmp_utf8_check(const char *data, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        unsigned int cp;
        size_t n, k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        if (i + n >= len) {
            goto bad; /* truncated sequence */
        }
        for (k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                goto bad;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            goto bad;
        }
        i += n + 1;
    }
    return 0;

bad:
    *bad_offset = i;
    return -1;
}

/* Parses buf[start, end) as one JSON object. */
static int
stream_parse(struct qmp_stream *s, size_t end, json_t **msg, char *errbuf,
             size_t errlen)
{
    const char *text = s->buf + s->start;
    size_t len = end - s->start;
    size_t bad = 0;
    json_error_t jerr;
    json_t *value;

    if (qmp_utf8_check(text, len, &bad) < 0) {
        snprintf(errbuf, errlen,
                 "invalid UTF-8 at byte %llu of the stream (0x%02x)",
                 s->offset + s->start + bad, (unsigned char)text[bad]);
        return -1;
    }
    value =
        json_loadb(text, len, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);
    if (value == NULL) {
        snprintf(errbuf, errlen, "invalid JSON at byte %llu of the stream: %s",
                 s->offset + s->start + (unsigned long long)jerr.position,
                 jerr.text);
        return -1;
    }
    if (!json_is_object(value)) {
        json_decref(value);
        snprintf(errbuf, errlen, "a message at byte %llu is not an object",
                 s->offset + s->start);
        return -1;
    }
    *msg = value;
    return 1;
}

int
qmp_stream_next(struct qmp_stream *s, json_t **msg, char *errbuf, size_t errlen)
{
    size_t i;

    *msg = NULL;
    for (i = s->scanned; i < s->len; i++) {
        unsigned char c = (unsigned char)s->buf[i];

        if (!s->in_message) {
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                continue;
            }
            if (c != '{') {
                s->scanned = i;
                snprintf(errbuf, errlen,
                         "expected '{' at byte %llu of the stream, "
                         "got 0x%02x",
                         s->offset + i, c);
                return -1;
            }
            /* forget the whitespace before this message */
            stream_consume(s, i);
            s->in_message = 1;
            s->start = i;
            s->depth = 1;
            continue;
        }
        if (i - s->start + 1 > s->max) {
            s->scanned = i;
            snprintf(errbuf, errlen,
                     "a message is longer than the cap of %zu bytes", s->max);
            return -1;
        }
        if (s->in_string) {
            if (s->escaped) {
                s->escaped = 0;
            } else if (c == '\\') {
                s->escaped = 1;
            } else if (c == '"') {
                s->in_string = 0;
            }
            continue;
        }
        if (c == '"') {
            s->in_string = 1;
        } else if (c == '{' || c == '[') {
            s->depth++;
        } else if (c == '}' || c == ']') {
            if (--s->depth == 0) {
                int rc = stream_parse(s, i + 1, msg, errbuf, errlen);

                s->in_message = 0;
                s->scanned = i + 1;
                if (rc < 0) {
                    return -1;
                }
                stream_consume(s, i + 1);
                return 1;
            }
        }
    }
    s->scanned = s->len;
    /* Whitespace only: drop it so the buffer does not grow. */
    if (!s->in_message) {
        stream_consume(s, s->len);
    }
    return 0;
}
