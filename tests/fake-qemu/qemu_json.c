/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: print JSON as QEMU's qobject_to_json() prints it. */
#include "tests/fake-qemu/query_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* QEMU's QDict has this many buckets and hashes keys with tdb_hash. */
#define QDICT_BUCKETS 512

struct buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

static void
put(struct buf *b, const char *s, size_t n)
{
    if (b->failed) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *d;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static unsigned
bucket(const char *key)
{
    uint32_t value = 0x238F13AFu * (uint32_t)strlen(key);
    size_t i;

    for (i = 0; key[i] != '\0'; i++) {
        value += (uint32_t)(unsigned char)key[i] << (i * 5 % 24);
    }
    return (1103515243u * value + 12345u) % QDICT_BUCKETS;
}

/* Decodes one UTF-8 sequence; returns its length, or 1 and U+FFFD. */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
    size_t n;
    size_t i;
    uint32_t c = s[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        c &= 0x07;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return n;
}

static void
put_string(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[16];

    puts_(b, "\"");
    while (*p != '\0') {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);

        p += n;
        switch (cp) {
        case '"':
            puts_(b, "\\\"");
            break;
        case '\\':
            puts_(b, "\\\\");
            break;
        case '\b':
            puts_(b, "\\b");
            break;
        case '\f':
            puts_(b, "\\f");
            break;
        case '\n':
            puts_(b, "\\n");
            break;
        case '\r':
            puts_(b, "\\r");
            break;
        case '\t':
            puts_(b, "\\t");
            break;
        default:
            if (cp > 0xFFFF) {
                cp -= 0x10000;
                snprintf(esc, sizeof(esc), "\\u%04X\\u%04X",
                         (unsigned)(0xD800 | (cp >> 10)),
                         (unsigned)(0xDC00 | (cp & 0x3FF)));
                puts_(b, esc);
            } else if (cp < 0x20 || cp > 0x7E) {
                snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)cp);
                puts_(b, esc);
            } else {
                char c = (char)cp;

                put(b, &c, 1);
            }
            break;
        }
    }
    puts_(b, "\"");
}

struct member {
    const char *key;
    json_t *value;
    unsigned bucket;
    size_t order;
};

static int
member_cmp(const void *a, const void *b)
{
    const struct member *x = a;
    const struct member *y = b;

    if (x->bucket != y->bucket) {
        return x->bucket < y->bucket ? -1 : 1;
    }
    /* within a bucket QEMU lists the newest insertion first */
    return x->order > y->order ? -1 : x->order < y->order;
}

static void put_value(struct buf *b, const json_t *v);

static void
put_object(struct buf *b, const json_t *v)
{
    size_t n = json_object_size(v);
    struct member *members;
    const char *key;
    json_t *value;
    size_t i = 0;

    if (n == 0) {
        puts_(b, "{}");
        return;
    }
    members = calloc(n, sizeof(*members));
    if (members == NULL) {
        b->failed = true;
        return;
    }
    json_object_foreach ((json_t *)v, key, value) {
        members[i].key = key;
        members[i].value = value;
        members[i].bucket = bucket(key);
        members[i].order = i;
        i++;
    }
    qsort(members, n, sizeof(*members), member_cmp);
    puts_(b, "{");
    for (i = 0; i < n; i++) {
        if (i > 0) {
            puts_(b, ", ");
        }
        put_string(b, members[i].key);
        puts_(b, ": ");
        put_value(b, members[i].value);
    }
    puts_(b, "}");
    free(members);
}

static void
put_value(struct buf *b, const json_t *v)
{
    char num[64];
    size_t i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(b, v);
        break;
    case JSON_ARRAY:
        puts_(b, "[");
        for (i = 0; i < json_array_size(v); i++) {
            if (i > 0) {
                puts_(b, ", ");
            }
            put_value(b, json_array_get(v, i));
        }
        puts_(b, "]");
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        puts_(b, num);
        break;
    case JSON_REAL:
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        puts_(b, num);
        break;
    case JSON_TRUE:
        puts_(b, "true");
        break;
    case JSON_FALSE:
        puts_(b, "false");
        break;
    case JSON_NULL:
        puts_(b, "null");
        break;
    }
}

char *
fq_json_dumps_qemu(const json_t *v)
{
    struct buf b = {0};

    put_value(&b, v);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}
