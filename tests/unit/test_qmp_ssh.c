/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for qmp/ssh (ssh:// addresses, the ssh argv, ssh's words) and
 * qmp/tunnel (the ssh process), the latter with a fake ssh on PATH. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "qmp/internal.h"
#include "qmp/qmp.h"

/* --- the address ---------------------------------------------------------- */

static void
test_url_full(void **state)
{
    struct qmp_ssh_url url;
    struct qmp_error err;

    (void)state;
    assert_int_equal(
        qmp_ssh_parse("ssh://admin@host.example:2222/run/vm1.qmp", &url, &err),
        0);
    assert_string_equal(url.user, "admin");
    assert_string_equal(url.host, "host.example");
    assert_int_equal(url.port, 2222);
    assert_string_equal(url.path, "/run/vm1.qmp");
}

static void
test_url_minimal_and_ipv6(void **state)
{
    struct qmp_ssh_url url;
    struct qmp_error err;

    (void)state;
    assert_int_equal(qmp_ssh_parse("ssh://10.213.0.2/m.qmp", &url, &err), 0);
    assert_string_equal(url.user, "");
    assert_string_equal(url.host, "10.213.0.2");
    assert_int_equal(url.port, 0);
    assert_string_equal(url.path, "/m.qmp");
    assert_int_equal(qmp_ssh_parse("ssh://root@[fd00::2]:22/a/b", &url, &err),
                     0);
    assert_string_equal(url.host, "fd00::2");
    assert_int_equal(url.port, 22);
    assert_int_equal(qmp_ssh_parse("ssh://[fd00::2]/a", &url, &err), 0);
    assert_string_equal(url.host, "fd00::2");
    assert_int_equal(url.port, 0);
}

/* Each bad address is refused with words naming what is wrong. */
static void
test_url_refused(void **state)
{
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"ssh://host", "expected ssh://[USER@]HOST[:PORT]/PATH"},
        {"ssh://host/", "expected ssh://"},
        {"ssh:///run/m.qmp", "bad host ''"},
        {"ssh://-oProxyCommand=x/run/m", "bad host '-oProxyCommand=x'"},
        {"ssh://a b/run/m", "bad host 'a b'"},
        {"ssh://h:0/m", "port '0' is not 1..65535"},
        {"ssh://h:70000/m", "port '70000' is not 1..65535"},
        {"ssh://h:22x/m", "port '22x' is not 1..65535"},
        {"ssh://h:/m", "port '' is not 1..65535"},
        {"ssh://[::1/m", "bad host"},
        {"ssh://-root@h/m", "the user '-root' is not a user name"},
        {"ssh://r;m@h/m", "the user 'r;m' is not a user name"},
        {"ssh://@h/m", "the user '' is not a user name"},
        {"ssh://h/run/a:b", "the path has a ':'"},
        {"ssh://h/run/\nx", "control character"},
        {"unix:/x", "does not start with ssh://"},
    };
    char longpath[200];
    struct qmp_ssh_url url;
    struct qmp_error err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(qmp_ssh_parse(bad[i].text, &url, &err), -1);
        assert_int_equal(err.kind, QMP_ERROR_ADDRESS);
        if (strstr(err.message, bad[i].says) == NULL) {
            fail_msg("'%s': '%s' does not say '%s'", bad[i].text, err.message,
                     bad[i].says);
        }
    }
    snprintf(longpath, sizeof(longpath), "ssh://h/%0150d", 0);
    assert_int_equal(qmp_ssh_parse(longpath, &url, &err), -1);
    assert_non_null(strstr(err.message, "longer than 107 bytes"));
}

/* The client's form check knows ssh:// too, and resolves nothing. */
static void
test_address_check(void **state)
{
    struct qmp_error err;

    (void)state;
    assert_int_equal(qmp_address_check("ssh://h/run/m.qmp", &err), 0);
    assert_int_equal(qmp_address_check("tcp:no-such-name.invalid:4444", &err),
                     0);
    assert_int_equal(qmp_address_check("/run/m.qmp", &err), 0);
    assert_int_equal(qmp_address_check("ssh://h", &err), -1);
    assert_int_equal(qmp_address_check("tcp:h", &err), -1);
    assert_non_null(strstr(err.message, "expected tcp:HOST:PORT"));
}

/* --- the command line ----------------------------------------------------- */

static void
assert_argv(char **argv, const char *const *want)
{
    size_t i;

    assert_non_null(argv);
    for (i = 0; want[i] != NULL; i++) {
        assert_non_null(argv[i]);
        assert_string_equal(argv[i], want[i]);
    }
    assert_null(argv[i]);
}

static void
test_argv_full(void **state)
{
    static const char *const want[] = {
        "ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        "ExitOnForwardFailure=yes",
        "-o",
        "ControlMaster=no",
        "-o",
        "ControlPath=none",
        "-o",
        "IdentityFile=/k/id",
        "-o",
        "UserKnownHostsFile /k/known hosts",
        "-o",
        "ConnectTimeout=5",
        "-a",
        "-x",
        "-T",
        "-N",
        "-p",
        "2222",
        "-l",
        "admin",
        "-L",
        "/tmp/d/monitor.sock:/run/vm1.qmp",
        "--",
        "host.example",
        NULL,
    };
    const char *opts[] = {"IdentityFile=/k/id",
                          "UserKnownHostsFile /k/known hosts"};
    struct qmp_ssh_url url;
    struct qmp_error err;
    char **argv;

    (void)state;
    assert_int_equal(
        qmp_ssh_parse("ssh://admin@host.example:2222/run/vm1.qmp", &url, &err),
        0);
    argv = qmp_ssh_argv(&url, "/tmp/d/monitor.sock", opts, 2, 4.2, &err);
    assert_argv(argv, want);
    qmp_ssh_argv_free(argv);
}

/* No user, no port: ssh's defaults, and the host after "--". */
static void
test_argv_minimal(void **state)
{
    static const char *const want[] = {
        "ssh",       "-o", "BatchMode=yes",
        "-o",        "ExitOnForwardFailure=yes",
        "-o",        "ControlMaster=no",
        "-o",        "ControlPath=none",
        "-o",        "ConnectTimeout=1",
        "-a",        "-x",
        "-T",        "-N",
        "-L",        "/l.sock:/m",
        "--",        "fd00::2",
        NULL,
    };
    struct qmp_ssh_url url;
    struct qmp_error err;
    char **argv;

    (void)state;
    assert_int_equal(qmp_ssh_parse("ssh://[fd00::2]/m", &url, &err), 0);
    argv = qmp_ssh_argv(&url, "/l.sock", NULL, 0, 0.1, &err);
    assert_argv(argv, want);
    qmp_ssh_argv_free(argv);
}

static void
test_argv_refused(void **state)
{
    const char *bad_opt[] = {"-oProxyCommand=sh"};
    const char *ctl_opt[] = {"User=a\nb"};
    struct qmp_ssh_url url;
    struct qmp_error err;

    (void)state;
    assert_int_equal(qmp_ssh_parse("ssh://h/m", &url, &err), 0);
    assert_null(qmp_ssh_argv(&url, "/l.sock", bad_opt, 1, 5, &err));
    assert_non_null(strstr(err.message, "'-oProxyCommand=sh' is not KEY=VALUE"));
    assert_null(qmp_ssh_argv(&url, "/l.sock", ctl_opt, 1, 5, &err));
    assert_non_null(strstr(err.message, "is not KEY=VALUE"));
    assert_null(qmp_ssh_argv(&url, "/a:b/l.sock", NULL, 0, 5, &err));
    assert_non_null(strstr(err.message, "has a ':'"));
    assert_int_equal(qmp_ssh_option_check("Port=22", &err), 0);
    assert_int_equal(qmp_ssh_option_check("Port", &err), -1);
    assert_int_equal(qmp_ssh_option_check("Port=", &err), -1);
    assert_int_equal(qmp_ssh_option_check("=22", &err), -1);
}

/* --- ssh's words ---------------------------------------------------------- */

static void
test_explain(void **state)
{
    static const struct {
        const char *said, *cause, *line;
    } cases[] = {
        {"Host key verification failed.\n", "host key unknown",
         "Host key verification failed."},
        {"No ED25519 host key is known for [h]:22 and you have requested "
         "strict checking.\nHost key verification failed.\n",
         "host key unknown",
         "No ED25519 host key is known for [h]:22 and you have requested "
         "strict checking."},
        {"@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
         "Offending ED25519 key in /k:1\nHost key for h has changed and you "
         "have requested strict checking.\nHost key verification failed.\n",
         "host key changed",
         "Host key for h has changed and you have requested strict "
         "checking."},
        {"root@h: Permission denied (publickey).\n", "authentication refused",
         "root@h: Permission denied (publickey)."},
        {"channel 2: open failed: connect failed: open failed\n",
         "no such socket",
         "channel 2: open failed: connect failed: open failed"},
        {"ssh: connect to host h port 2: Connection refused\r\n",
         "connection refused",
         "ssh: connect to host h port 2: Connection refused"},
        {"ssh: Could not resolve hostname x: Name or service not known\n",
         "unknown host",
         "ssh: Could not resolve hostname x: Name or service not known"},
        {"ssh: connect to host h port 22: Connection timed out\n",
         "connection timed out",
         "ssh: connect to host h port 22: Connection timed out"},
        {"something new\nand odd\n\n", NULL, "and odd"},
        {"", NULL, ""},
    };
    char line[300];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *cause = qmp_ssh_explain(cases[i].said, line, sizeof(line));

        if (cases[i].cause == NULL) {
            assert_null(cause);
        } else {
            assert_non_null(cause);
            assert_string_equal(cause, cases[i].cause);
        }
        assert_string_equal(line, cases[i].line);
    }
}

/* --- the tunnel, with a fake ssh ------------------------------------------ */

/*
 * A fake "ssh" first on PATH: its FAKE_SSH_MODE says what it does.
 * deny: says what OpenSSH says when the key is refused, and exits 255.
 * hang: writes its pid and sleeps (never forwards).
 * forward: binds the -L socket and serves a QMP greeting and replies.
 * noopen: binds it, and on a connection says what OpenSSH says when sshd
 * cannot open the far socket, and closes it.
 */
static const char fake_ssh[] =
    "#!/bin/sh\n"
    "echo \"$*\" > \"$FAKE_SSH_DIR/argv\"\n"
    "case $FAKE_SSH_MODE in\n"
    "deny) echo 'root@h: Permission denied (publickey).' >&2; exit 255 ;;\n"
    "hang) echo $$ > \"$FAKE_SSH_DIR/pid\"; exec sleep 30 ;;\n"
    "noopen) exec python3 -c \"$FAKE_SSH_NOOPEN\" \"$@\" ;;\n"
    "forward) echo $$ > \"$FAKE_SSH_DIR/pid\"\n"
    "  exec python3 -c \"$FAKE_SSH_PY\" \"$@\" ;;\n"
    "esac\n"
    "exit 1\n";

static const char fake_py[] =
    "import json, socket, sys\n"
    "loc = sys.argv[sys.argv.index('-L') + 1].split(':')[0]\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "s.bind(loc)\n"
    "s.listen(1)\n"
    "c, _ = s.accept()\n"
    "c.sendall(b'{\"QMP\": {\"version\": {\"qemu\": {\"major\": 9, \"minor\": "
    "0, \"micro\": 0}, \"package\": \"\"}, \"capabilities\": []}}\\r\\n')\n"
    "for line in c.makefile('rb'):\n"
    "    m = json.loads(line)\n"
    "    r = json.dumps({'return': {}, 'id': m['id']}) + '\\r\\n'\n"
    "    c.sendall(r.encode())\n";

static const char fake_noopen[] =
    "import socket, sys, time\n"
    "loc = sys.argv[sys.argv.index('-L') + 1].split(':')[0]\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "s.bind(loc)\n"
    "s.listen(1)\n"
    "c, _ = s.accept()\n"
    "sys.stderr.write('channel 2: open failed: connect failed: open "
    "failed\\n')\n"
    "sys.stderr.flush()\n"
    "c.close()\n"
    "time.sleep(30)\n";

struct tunnel_fx {
    struct ev_loop *loop;
    char dir[64];
    char tmp[96];
    char *old_path;
    bool ready, closed;
    struct qmp_error why;
    bool replied;
};

static int
tunnel_setup(void **state)
{
    struct tunnel_fx *fx = calloc(1, sizeof(*fx));
    char path[128], newpath[4096];
    const char *oldpath = getenv("PATH");
    FILE *f;

    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/qm-ssh-test.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->tmp, sizeof(fx->tmp), "%s/tmp", fx->dir);
    assert_int_equal(mkdir(fx->tmp, 0700), 0);
    snprintf(path, sizeof(path), "%s/ssh", fx->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(fake_ssh, f);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
    fx->old_path = strdup(oldpath ? oldpath : "/usr/bin:/bin");
    snprintf(newpath, sizeof(newpath), "%s:%s", fx->dir, fx->old_path);
    setenv("PATH", newpath, 1);
    setenv("TMPDIR", fx->tmp, 1);
    setenv("FAKE_SSH_DIR", fx->dir, 1);
    setenv("FAKE_SSH_PY", fake_py, 1);
    setenv("FAKE_SSH_NOOPEN", fake_noopen, 1);
    fx->loop = ev_loop_new(EVFLAG_AUTO);
    *state = fx;
    return 0;
}

static int
tunnel_teardown(void **state)
{
    struct tunnel_fx *fx = *state;
    char cmd[160];

    setenv("PATH", fx->old_path, 1);
    unsetenv("TMPDIR");
    free(fx->old_path);
    ev_loop_destroy(fx->loop);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

static void
on_ready(struct qmp_client *c, void *opaque)
{
    struct tunnel_fx *fx = opaque;

    (void)c;
    fx->ready = true;
    ev_break(fx->loop, EVBREAK_ALL);
}

static void
on_closed(struct qmp_client *c, const struct qmp_error *why, void *opaque)
{
    struct tunnel_fx *fx = opaque;

    (void)c;
    fx->closed = true;
    fx->why = *why;
    ev_break(fx->loop, EVBREAK_ALL);
}

static void
on_reply(struct qmp_client *c, json_t *ret, const struct qmp_error *err,
         void *opaque)
{
    struct tunnel_fx *fx = opaque;

    (void)c;
    fx->replied = ret != NULL && err == NULL;
    ev_break(fx->loop, EVBREAK_ALL);
}

static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until a handler breaks it, at most 10 s. */
static void
run_loop(struct tunnel_fx *fx)
{
    ev_timer dog;

    ev_timer_init(&dog, watchdog_cb, 10.0, 0.0);
    ev_timer_start(fx->loop, &dog);
    ev_run(fx->loop, 0);
    ev_timer_stop(fx->loop, &dog);
}

static struct qmp_client *
start_client(struct tunnel_fx *fx, const char *mode)
{
    struct qmp_handlers h = {on_ready, NULL, on_closed, fx};
    const char *opts[] = {"IdentityFile=/k"};
    struct qmp_options o;
    struct qmp_client *c;
    struct qmp_error err;

    setenv("FAKE_SSH_MODE", mode, 1);
    qmp_options_init(&o);
    o.ssh_options = opts;
    o.n_ssh_options = 1;
    c = qmp_client_new(fx->loop, &o, &h);
    assert_non_null(c);
    assert_int_equal(qmp_client_connect(c, "ssh://root@h:2/run/m.qmp", &err),
                     0);
    return c;
}

/* The private directory under TMPDIR is gone. */
static void
assert_no_tunnel_dir(struct tunnel_fx *fx)
{
    DIR *d = opendir(fx->tmp);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            fail_msg("%s/%s is left behind", fx->tmp, e->d_name);
        }
    }
    closedir(d);
}

static pid_t
fake_pid(struct tunnel_fx *fx)
{
    char path[128];
    long pid = 0;
    FILE *f;
    int i;

    snprintf(path, sizeof(path), "%s/pid", fx->dir);
    for (i = 0; i < 200 && (f = fopen(path, "r")) == NULL; i++) {
        usleep(10000);
    }
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    return (pid_t)pid;
}

/* ssh refuses: closed with exit-4 material in ssh's words, all cleaned. */
static void
test_tunnel_refused(void **state)
{
    struct tunnel_fx *fx = *state;
    struct qmp_client *c = start_client(fx, "deny");
    char argv[512] = "";
    char path[128];
    FILE *f;

    run_loop(fx);
    assert_true(fx->closed);
    assert_int_equal(fx->why.kind, QMP_ERROR_CONNECT);
    assert_non_null(strstr(fx->why.message,
                           "cannot reach monitor ssh://root@h:2/run/m.qmp: "
                           "authentication refused (ssh said: root@h: "
                           "Permission denied (publickey).)"));
    assert_no_tunnel_dir(fx);
    snprintf(path, sizeof(path), "%s/argv", fx->dir);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(argv, sizeof(argv), f));
    fclose(f);
    assert_non_null(strstr(argv, "-o BatchMode=yes -o ExitOnForwardFailure=yes"
                                 " -o ControlMaster=no -o ControlPath=none -o "
                                 "IdentityFile=/k -o ConnectTimeout=5 -a -x -T "
                                 "-N -p 2 -l root -L "));
    assert_non_null(strstr(argv, "/monitor.sock:/run/m.qmp -- h"));
    qmp_client_free(c);
}

/* qmp_client_free() while ssh is still connecting ends it and cleans. */
static void
test_tunnel_free_kills_ssh(void **state)
{
    struct tunnel_fx *fx = *state;
    struct qmp_client *c = start_client(fx, "hang");
    pid_t pid = fake_pid(fx);

    assert_int_equal(kill(pid, 0), 0);
    qmp_client_free(c);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH); /* ended and reaped */
    assert_no_tunnel_dir(fx);
    assert_false(fx->closed); /* no handler after qmp_client_free */
}

/* Through the forward: greeting, a command, then close ends ssh. */
static void
test_tunnel_forward(void **state)
{
    struct tunnel_fx *fx = *state;
    struct qmp_client *c;
    struct qmp_error err;
    pid_t pid;

    if (system("command -v python3 >/dev/null") != 0) {
        skip();
    }
    c = start_client(fx, "forward");
    run_loop(fx);
    assert_true(fx->ready);
    assert_int_equal(qmp_client_greeting(c)->major, 9);
    assert_int_equal(qmp_client_execute(c, "query-status", NULL, on_reply, fx,
                                         NULL, &err),
                     0);
    run_loop(fx);
    assert_true(fx->replied);
    pid = fake_pid(fx);
    qmp_client_close(c);
    assert_int_equal(kill(pid, 0), -1);
    assert_no_tunnel_dir(fx);
    /* a new connect starts a new tunnel */
    fx->ready = false;
    assert_int_equal(
        qmp_client_connect(c, "ssh://root@h:2/run/m.qmp", &err), 0);
    run_loop(fx);
    assert_true(fx->ready);
    qmp_client_free(c);
    assert_no_tunnel_dir(fx);
}

/* The forward is up but sshd cannot open the far socket: "no such
 * socket", a connect error (exit 4 in qmigrate), ssh ended. */
static void
test_tunnel_no_such_socket(void **state)
{
    struct tunnel_fx *fx = *state;
    struct qmp_client *c;

    if (system("command -v python3 >/dev/null") != 0) {
        skip();
    }
    c = start_client(fx, "noopen");
    run_loop(fx);
    assert_true(fx->closed);
    assert_false(fx->ready);
    assert_int_equal(fx->why.kind, QMP_ERROR_CONNECT);
    assert_non_null(strstr(fx->why.message,
                           "cannot connect to monitor ssh://root@h:2/run/"
                           "m.qmp: no such socket (ssh said: channel 2: open "
                           "failed: connect failed: open failed)"));
    assert_no_tunnel_dir(fx);
    qmp_client_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_full),
        cmocka_unit_test(test_url_minimal_and_ipv6),
        cmocka_unit_test(test_url_refused),
        cmocka_unit_test(test_address_check),
        cmocka_unit_test(test_argv_full),
        cmocka_unit_test(test_argv_minimal),
        cmocka_unit_test(test_argv_refused),
        cmocka_unit_test(test_explain),
        cmocka_unit_test_setup_teardown(test_tunnel_refused, tunnel_setup,
                                        tunnel_teardown),
        cmocka_unit_test_setup_teardown(test_tunnel_free_kills_ssh,
                                        tunnel_setup, tunnel_teardown),
        cmocka_unit_test_setup_teardown(test_tunnel_forward, tunnel_setup,
                                        tunnel_teardown),
        cmocka_unit_test_setup_teardown(test_tunnel_no_such_socket,
                                        tunnel_setup, tunnel_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
