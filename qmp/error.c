/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp/error: the error record every qmp_ call fills on failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qmp/qmp.h"

const char *
qmp_error_kind_name(enum qmp_error_kind kind)
{
    switch (kind) {
    case QMP_ERROR_NONE:
        return "none";
    case QMP_ERROR_ADDRESS:
        return "address";
    case QMP_ERROR_CONNECT:
        return "connect";
    case QMP_ERROR_BUSY:
        return "busy";
    case QMP_ERROR_PROTOCOL:
        return "protocol";
    case QMP_ERROR_CLOSED:
        return "closed";
    case QMP_ERROR_TIMEOUT:
        return "timeout";
    case QMP_ERROR_COMMAND:
        return "command";
    case QMP_ERROR_NOMEM:
        return "nomem";
    case QMP_ERROR_STATE:
        return "state";
    }
    return "unknown";
}

void
qmp_error_clear(struct qmp_error *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
}

void
qmp_error_set(struct qmp_error *err, enum qmp_error_kind kind, int errnum,
              const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return;
    }
    memset(err, 0, sizeof(*err));
    err->kind = kind;
    err->errnum = errnum;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}
