/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp: a minimal non-blocking QMP client on libev and jansson. */
#ifndef QMIGRATE_QMP_H
#define QMIGRATE_QMP_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>
#include <jansson.h>

/*
 * The client knows the QMP protocol (greeting, capabilities negotiation,
 * commands with ids, replies, errors, events) and nothing of migration.
 * Many clients can share one loop; there is no global state.
 *
 * Lifetimes: every command's reply callback runs exactly once (with the
 * return value, or with an error: QEMU refused it, it timed out, or the
 * connection ended), and its free function runs exactly once after that,
 * whatever happens.  Callbacks may call any function here, including
 * qmp_client_free().
 */

enum qmp_error_kind {
    QMP_ERROR_NONE = 0,
    QMP_ERROR_ADDRESS,  /* the monitor address is malformed */
    QMP_ERROR_CONNECT,  /* the socket could not be connected (errnum) */
    QMP_ERROR_BUSY,     /* connected, but no greeting came: monitor busy */
    QMP_ERROR_PROTOCOL, /* the peer sent something that is not QMP */
    QMP_ERROR_CLOSED,   /* the connection ended (peer hung up, or closed) */
    QMP_ERROR_TIMEOUT,  /* a command got no reply in time */
    QMP_ERROR_COMMAND,  /* QEMU refused the command (qmp_class, message) */
    QMP_ERROR_NOMEM,
    QMP_ERROR_STATE, /* the call makes no sense now (e.g. closed) */
};

struct qmp_error {
    enum qmp_error_kind kind;
    int errnum;         /* errno, when the system said it */
    char qmp_class[64]; /* QEMU's error class for QMP_ERROR_COMMAND */
    char message[512];  /* names what was wrong */
};

/*
 * Is text a monitor address this client understands?  Checks the form
 * only (no name is resolved, no socket touched): 0, or -1 with
 * QMP_ERROR_ADDRESS naming what is wrong.
 */
int qmp_address_check(const char *text, struct qmp_error *err);

/*
 * Is opt something to hand ssh as "-o OPT"?  KEY=VALUE or "KEY VALUE",
 * no control characters: 0, or -1 with QMP_ERROR_ADDRESS.
 */
int qmp_ssh_option_check(const char *opt, struct qmp_error *err);

/* "busy", "protocol", ...: a word for logs. */
const char *qmp_error_kind_name(enum qmp_error_kind kind);
/* Fills err (if not NULL); fmt is printf-like. */
void qmp_error_set(struct qmp_error *err, enum qmp_error_kind kind, int errnum,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void qmp_error_clear(struct qmp_error *err);

struct qmp_greeting {
    int major, minor, micro; /* QEMU's version */
    char package[128];
    bool oob; /* the server offers out-of-band execution */
};

struct qmp_options {
    double connect_timeout;  /* seconds to connect (5) */
    double greeting_timeout; /* seconds to wait for the greeting (3) */
    double command_timeout;  /* seconds for a reply, from submission (30) */
    size_t max_message;      /* bytes in one message (16 MiB) */
    unsigned max_in_flight;  /* commands sent and unanswered, 1..8 (4) */
    bool oob; /* enable out-of-band execution when offered (false) */
    /*
     * ssh:// addresses: each string is handed to ssh as "-o OPT"
     * (IdentityFile=..., UserKnownHostsFile=...).  Copied by
     * qmp_client_new(); NULL when none.
     */
    const char *const *ssh_options;
    size_t n_ssh_options;
};

void qmp_options_init(struct qmp_options *opts);

struct qmp_client;

/* ret is borrowed: NULL when err is set; err is NULL on success. */
typedef void qmp_reply_fn(struct qmp_client *client, json_t *ret,
                          const struct qmp_error *err, void *opaque);
typedef void qmp_free_fn(void *opaque);

struct qmp_handlers {
    /* Greeting read and capabilities negotiated: commands now flow. */
    void (*ready)(struct qmp_client *client, void *opaque);
    /* An asynchronous event; data is borrowed and may be NULL. */
    void (*event)(struct qmp_client *client, const char *name, json_t *data,
                  double timestamp, void *opaque);
    /*
     * The connection ended, or could not be made, for a reason other than
     * qmp_client_close() or qmp_client_free().  Runs at most once per
     * qmp_client_connect(), after every pending command has failed.
     */
    void (*closed)(struct qmp_client *client, const struct qmp_error *why,
                   void *opaque);
    void *opaque;
};

/* opts NULL means defaults; both are copied.  NULL when out of memory. */
struct qmp_client *qmp_client_new(struct ev_loop *loop,
                                  const struct qmp_options *opts,
                                  const struct qmp_handlers *handlers);

/*
 * Starts connecting to a monitor: "unix:PATH", a bare PATH,
 * "tcp:HOST:PORT" (HOST may be [IPv6]), or
 * "ssh://[USER@]HOST[:PORT]/PATH": a UNIX socket on another host,
 * reached through OpenSSH's stream-local forwarding.  For ssh the client
 * runs `ssh -N -L` itself (execvp, no shell, BatchMode) with a socket in
 * a private 0700 directory, connects through it, and ends ssh and
 * removes the directory whenever the connection ends; ssh gets
 * connect_timeout seconds to reach the host and twice that to set up
 * the forward, and a failure says why in ssh's words (host key unknown
 * or changed, authentication refused, no such socket, connection
 * refused) as QMP_ERROR_CONNECT.  Returns 0 when the attempt is under
 * way (the result comes to ready or closed), or -1 with err filled when
 * it failed at once (malformed address, no such socket, refused).
 */
int qmp_client_connect(struct qmp_client *client, const char *address,
                       struct qmp_error *err);

/*
 * Queues a command.  arguments is stolen (may be NULL).  Commands go out
 * in order once negotiation is done, at most max_in_flight at a time.
 * Returns 0, or -1 with err filled (closed, out of memory); on -1 the
 * callback does not run but free_fn (if not NULL) has run.
 */
int qmp_client_execute(struct qmp_client *client, const char *command,
                       json_t *arguments, qmp_reply_fn *reply, void *opaque,
                       qmp_free_fn *free_fn, struct qmp_error *err);

/*
 * The same out of band: "exec-oob" when the monitor offered it and
 * options.oob enabled it (else an ordinary command), queued ahead of
 * every other and sent past the in-flight cap, so that it reaches QEMU
 * while its main loop is stuck (only some commands allow it:
 * migrate-pause, migrate-recover).
 */
int qmp_client_execute_oob(struct qmp_client *client, const char *command,
                           json_t *arguments, qmp_reply_fn *reply, void *opaque,
                           qmp_free_fn *free_fn, struct qmp_error *err);

/* Fails every pending command (QMP_ERROR_CLOSED) and closes the socket. */
void qmp_client_close(struct qmp_client *client);
/* Closes and frees; safe from inside any callback (the free is deferred). */
void qmp_client_free(struct qmp_client *client);

bool qmp_client_is_ready(const struct qmp_client *client);
/* NULL until the greeting arrived. */
const struct qmp_greeting *qmp_client_greeting(const struct qmp_client *client);
/* The address given to qmp_client_connect(), or "". */
const char *qmp_client_address(const struct qmp_client *client);
/* Commands queued or awaiting a reply. */
size_t qmp_client_pending(const struct qmp_client *client);

#endif /* QMIGRATE_QMP_H */
