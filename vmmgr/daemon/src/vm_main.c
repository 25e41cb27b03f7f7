/*
 * vm_main.c - vmmgrd entry point: options, config file, logging, daemon
 * mode with a pid file, signals, and the order of start-up and shutdown.
 *
 *   vmmgrd [--config FILE] [--foreground | --daemon] [--socket PATH]
 *          [--state-dir DIR] [--db FILE] [--pid-file FILE] [--listen ADDR:PORT]
 *          [--token-file FILE] [--log-level LEVEL] [--log-target stderr|syslog]
 *          [--check-config] [--help] [--version]
 *
 * Start-up: config -> log sink -> (daemonize) -> pid file -> libvirt event
 * loop -> daemon state (database, journal recovery, hosts) -> HTTP server.
 * SIGTERM/SIGINT: stop the HTTP server after waking long-polls, close hosts
 * and the database, remove the pid file and socket, exit 0. Signals are
 * taken synchronously with sigwait() in the main thread, so no handler runs
 * in the middle of library code.
 *
 * The only globals of vmmgrd live here (STYLE.md): the parsed options.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm_api.h"
#include "vm/vm_config.h"
#include "vm/vm_daemon.h"
#include "vm/vm_domxml.h"
#include "vm/vm_hv.h"
#include "vm/vm_nova.h"
#include "vm_http.h"
#include "vm/vm_uri.h"

static struct {
    struct vm_config cfg;
    const char *config_file;
    bool is_config_explicit;
    bool is_daemon;
    bool is_check_only;
} opts;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vmmgrd [OPTIONS]\n\n"
            "vmmgr daemon: state, host connections and the native REST API.\n\n"
            "  -c, --config FILE      config file (default " VM_CONFIG_DEFAULT_FILE
            ", if present)\n"
            "  -f, --foreground       stay in the foreground (default)\n"
            "  -d, --daemon           detach; log to syslog unless --log-target says otherwise\n"
            "      --socket PATH      API Unix socket\n"
            "      --state-dir DIR    state directory\n"
            "      --db FILE          state database (default STATE_DIR/vmmgr.db)\n"
            "      --pid-file FILE    write the pid here (locked while running)\n"
            "      --listen ADDR:PORT also serve the API on TCP (needs --token-file)\n"
            "      --token-file FILE  API tokens (ID ROLE SHA256), mode 0600\n"
            "      --log-level LEVEL  err, warn, info (default), debug\n"
            "      --log-target T     stderr or syslog\n"
            "      --check-config     validate the configuration and exit\n"
            "  -h, --help, --version\n\n"
            "docs/vmmgrd.md documents every config key and API route.\n");
}

static void syslog_sink(void *opaque, enum nfv_log_level level, const char *module, const char *msg)
{
    static const int prio[NFV_LOG__COUNT] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

    (void)opaque;
    syslog(prio[level < NFV_LOG__COUNT ? level : NFV_LOG_DEBUG], "%s%s%s", module ? module : "",
           module ? ": " : "", msg);
}

static enum nfv_code read_text_file(const char *path, char **ret, struct nfv_err *err)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f)
        return NFV_ERR_ERRNO(err, errno == ENOENT ? NFV_E_NOENT : NFV_E_IO, errno, "'%s': %s", path,
                             strerror(errno));
    do {
        if (len + 4096 + 1 > cap) {
            cap = (len + 4096 + 1) * 2;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
            }
            buf = b;
        }
        n = fread(buf + len, 1, 4096, f);
        len += n;
    } while (n > 0 && len < (1u << 20));
    fclose(f);
    buf[len] = '\0';
    *ret = buf;
    return NFV_OK;
}

/* Maps a long option to its config key; NULL if it is not a config option. */
static const char *flag_key(const char *flag)
{
    static const char *const map[][2] = {
        {"socket", "socket"},       {"state-dir", "state_dir"},   {"db", "db"},
        {"pid-file", "pid_file"},   {"listen", "listen_tcp"},     {"token-file", "api_token_file"},
        {"log-level", "log_level"}, {"log-target", "log_target"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], flag) == 0)
            return map[i][1];
    return NULL;
}

/* Two passes: the config file first (wherever --config stands), then flags. */
static enum nfv_code parse_args(int argc, char **argv, struct nfv_err *err)
{
    char *text = NULL;
    enum nfv_code code;

    opts.config_file = VM_CONFIG_DEFAULT_FILE;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            opts.config_file = argv[++i];
            opts.is_config_explicit = true;
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            opts.config_file = argv[i] + 9;
            opts.is_config_explicit = true;
        }
    }
    vm_config_defaults(&opts.cfg);
    code = read_text_file(opts.config_file, &text, err);
    if (code == NFV_OK) {
        code = vm_config_parse(&opts.cfg, text, opts.config_file, err);
        free(text);
        if (code != NFV_OK)
            return code;
    } else if (code != NFV_E_NOENT || opts.is_config_explicit) {
        return code;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *key, *value = NULL, *eq;
        char name[64];

        if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--config=", 9) == 0)
            continue;
        if (strcmp(a, "--foreground") == 0 || strcmp(a, "-f") == 0) {
            opts.is_daemon = false;
            continue;
        }
        if (strcmp(a, "--daemon") == 0 || strcmp(a, "-d") == 0) {
            opts.is_daemon = true;
            continue;
        }
        if (strcmp(a, "--check-config") == 0) {
            opts.is_check_only = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return NFV_ERR(err, NFV_E_INVAL, "'%s': unexpected argument", a);
        eq = strchr(a + 2, '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)),
                 a + 2);
        key = flag_key(name);
        if (!key)
            return NFV_ERR(err, NFV_E_INVAL, "'--%s': unknown option", name);
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return NFV_ERR(err, NFV_E_INVAL, "'--%s': needs a value", name);
        if ((code = vm_config_set(&opts.cfg, key, value, err)) != NFV_OK) {
            nfv_err_prefix(err, "'--%s'", name);
            return code;
        }
    }
    return vm_config_finish(&opts.cfg, err);
}

/* Creates and locks the pid file; fails if another vmmgrd holds it. */
static enum nfv_code pidfile_open(const char *path, int *ret_fd, struct nfv_err *err)
{
    char buf[32];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int n;

    if (fd < 0)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return NFV_ERR(err, NFV_E_EXIST, "'%s': another vmmgrd is running", path);
    }
    n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
        int e = errno;
        close(fd);
        return NFV_ERR_ERRNO(err, NFV_E_IO, e, "'%s': %s", path, strerror(e));
    }
    *ret_fd = fd;
    return NFV_OK;
}

/*
 * Reads a secret file (token file, TLS key) that must be private to
 * vmmgrd's user: a regular file owned by it or root with no group or other
 * permission. Checked on the open descriptor, so the file checked is the
 * file read. *ret is owned.
 */
static enum nfv_code read_private_file(const char *key, const char *path, char **ret,
                                       struct nfv_err *err)
{
    struct stat st;
    char *buf;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': '%s': %s", key, path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
        close(fd);
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a regular file of at most 1 MiB", key,
                       path);
    }
    if ((st.st_mode & 077) != 0 || (st.st_uid != 0 && st.st_uid != geteuid())) {
        close(fd);
        return NFV_ERR(err, NFV_E_PERM,
                       "'%s': '%s' is mode %04o owned by uid %u: it must be 0600 (or 0400) and "
                       "owned by vmmgrd's user or root",
                       key, path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    }
    n = read(fd, buf, (size_t)st.st_size);
    close(fd);
    if (n < 0) {
        free(buf);
        return NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'%s': '%s': %s", key, path, strerror(errno));
    }
    buf[n] = '\0';
    *ret = buf;
    return NFV_OK;
}

/* Start-up check of the files and programs a uri_alias names (vm_uri.h). */
static enum nfv_code alias_path_check(void *opaque, const char *option, const char *path,
                                      struct nfv_err *err)
{
    struct stat st;
    bool is_program = strcmp(option, "command") == 0 || strcmp(option, "netcat") == 0;

    (void)opaque;
    if (strcmp(option, "socket") == 0)
        return NFV_OK; /* libvirtd's socket may appear after vmmgrd starts */
    if (stat(path, &st) != 0)
        return NFV_ERR_ERRNO(err, NFV_E_INVAL, errno, "'%s': '%s': %s", option, path,
                             strerror(errno));
    if (is_program && (!S_ISREG(st.st_mode) || access(path, X_OK) != 0))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not an executable file", option, path);
    if (is_program && (st.st_mode & 022) != 0)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is writable by group or others", option, path);
    if (strcmp(option, "pkipath") == 0 ? !S_ISDIR(st.st_mode) : !is_program && !S_ISREG(st.st_mode))
        return NFV_ERR(err, NFV_E_INVAL, "'%s': '%s' is not a %s", option, path,
                       strcmp(option, "pkipath") == 0 ? "directory" : "regular file");
    return NFV_OK;
}

/* The secrets and files the configuration names, read and checked before
 * anything starts: the token file, TLS PEM files, URI aliases' files. */
static enum nfv_code load_security(struct vm_auth_tokens *tokens, char **ret_cert, char **ret_key,
                                   char **ret_ca, struct nfv_err *err)
{
    const struct vm_config *c = &opts.cfg;
    enum nfv_code code;
    char *text = NULL;

    for (unsigned i = 0; i < c->uri_aliases.n_items; i++)
        if ((code = vm_uri_check_config(c->uri_aliases.items[i].name, c->uri_aliases.items[i].uri,
                                        alias_path_check, NULL, err)) != NFV_OK)
            return code;
    if (c->token_file[0]) {
        if ((code = read_private_file("api_token_file", c->token_file, &text, err)) != NFV_OK)
            return code;
        code = vm_auth_tokens_parse(text, c->token_file, tokens, err);
        free(text);
        if (code != NFV_OK)
            return code;
    }
    if (c->tls_cert[0]) {
        if ((code = read_text_file(c->tls_cert, ret_cert, err)) != NFV_OK ||
            (code = read_private_file("tls_key", c->tls_key, ret_key, err)) != NFV_OK)
            return code;
        if (c->tls_ca[0] && (code = read_text_file(c->tls_ca, ret_ca, err)) != NFV_OK)
            return code;
    }
    return NFV_OK;
}

/* Nova as the VIM (issue 14): nova_config holds a password, so it is read
 * as a private file, like the token file. *ret is owned. */
static enum nfv_code load_nova(struct vm_nova_config **ret, struct nfv_err *err)
{
    char *text = NULL;
    enum nfv_code code;

    *ret = NULL;
    if (!opts.cfg.nova_config[0])
        return NFV_OK;
    if ((code = read_private_file("nova_config", opts.cfg.nova_config, &text, err)) != NFV_OK)
        return code;
    if (!(*ret = calloc(1, sizeof(**ret))))
        code = NFV_ERR(err, NFV_E_NOMEM, "out of memory");
    else
        code = vm_nova_config_parse(text, opts.cfg.nova_config, *ret, err);
    explicit_bzero(text, strlen(text));
    free(text);
    return code;
}

/* Classic double fork; the parent waits until the child says it is serving,
 * so "vmmgrd --daemon && vmmgrctl status" works. */
static int daemonize(int *ret_notify_fd)
{
    int pipefd[2];
    pid_t pid;
    char c = 1;

    if (pipe(pipefd) < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(pipefd[1]);
        /* Exit code: 0 if the child reported ready, 1 if it died first. */
        _exit(read(pipefd[0], &c, 1) == 1 && c == 0 ? 0 : 1);
    }
    close(pipefd[0]);
    if (setsid() < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -1;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        if (opts.cfg.log_target == VM_LOG_TARGET_SYSLOG)
            dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    *ret_notify_fd = pipefd[1];
    return 0;
}

static void notify_parent(int *fd, char status)
{
    if (*fd >= 0) {
        if (write(*fd, &status, 1) < 0)
            NFV_LOG_DEBUG("main", "parent gone");
        close(*fd);
        *fd = -1;
    }
}

int main(int argc, char **argv)
{
    struct nfv_err err = {0};
    struct vm_daemon *d = NULL;
    struct vm_http_server *srv = NULL;
    struct vm_http_options hopts = {0};
    static struct vm_auth_tokens tokens; /* large: not on the stack */
    char tcp_addr[128] = "", *tls_cert = NULL, *tls_key = NULL, *tls_ca = NULL;
    sigset_t sigs;
    int pid_fd = -1, notify_fd = -1, sig = 0, rc = 1;
    struct vm_nova_config *nova_cfg = NULL; /* issue 14 */
    const struct vm_hv_driver *hv = &vm_hv_libvirt;

    nfv_log_set_progname("vmmgrd");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("vmmgrd %s\n", VMMGR_VERSION);
            return 0;
        }
    }
    if (parse_args(argc, argv, &err) != NFV_OK) {
        fprintf(stderr, "vmmgrd: %s\n", err.msg);
        return 2;
    }
    if (load_security(&tokens, &tls_cert, &tls_key, &tls_ca, &err) != NFV_OK ||
        load_nova(&nova_cfg, &err) != NFV_OK) {
        fprintf(stderr, "vmmgrd: %s\n", err.msg);
        free(nova_cfg);
        free(tls_cert);
        free(tls_key);
        free(tls_ca);
        return 2;
    }
    hopts.tokens = opts.cfg.token_file[0] ? &tokens : NULL;
    hopts.peers = &opts.cfg.unix_peers;
    hopts.daemon_uid = (unsigned)geteuid();
    hopts.tls_cert_pem = tls_cert;
    hopts.tls_key_pem = tls_key;
    hopts.tls_ca_pem = tls_ca;
    hopts.max_connections = opts.cfg.max_connections;
    hopts.max_connections_per_ip = opts.cfg.max_connections_per_ip;
    hopts.timeout_s = opts.cfg.http_timeout_s;
    hopts.handler_time_s = opts.cfg.longpoll_max_s + 60;
    if (opts.cfg.listen_tcp[0]) {
        unsigned port = 0;
        if (vm_config_split_listen(opts.cfg.listen_tcp, tcp_addr, sizeof(tcp_addr), &port, &err) !=
            NFV_OK) {
            fprintf(stderr, "vmmgrd: %s\n", err.msg);
            return 2;
        }
        hopts.tcp_addr = tcp_addr;
        hopts.tcp_port = port;
    }
    if (opts.is_check_only) {
        printf("configuration OK (socket %s, state %s, db %s)\n", opts.cfg.socket_path,
               opts.cfg.state_dir, opts.cfg.db_path);
        return 0;
    }
    nfv_log_set_level(opts.cfg.log_level);
    if (opts.is_daemon && daemonize(&notify_fd) < 0) {
        fprintf(stderr, "vmmgrd: cannot daemonize: %s\n", strerror(errno));
        return 1;
    }
    if (opts.cfg.log_target == VM_LOG_TARGET_SYSLOG) {
        openlog("vmmgrd", LOG_PID, LOG_DAEMON);
        nfv_log_set_sink(syslog_sink, NULL);
    }
    /* Block the stop signals before any thread starts so only sigwait sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Everything vmmgrd creates is its own: state dir 0700, database,
     * journal, node files 0600 (the socket's mode is set explicitly). A
     * state dir from an older vmmgrd (0750) is tightened. */
    umask(077);
    if (chmod(opts.cfg.state_dir, 0700) != 0 && errno != ENOENT)
        NFV_LOG_WARN("main", "'%s': cannot set mode 0700: %s", opts.cfg.state_dir, strerror(errno));
    if (opts.cfg.pid_file[0] && pidfile_open(opts.cfg.pid_file, &pid_fd, &err) != NFV_OK)
        goto out;
    /* libxml2 2.9 initializes itself on first use, racily: do it now. */
    vm_domxml_global_init();
    if (vm_hv_libvirt_init(&err) != NFV_OK)
        goto out;
    if (nova_cfg) { /* issue 14: nova: hosts through Nova, the rest through libvirt */
        if (vm_hv_nova_init(nova_cfg, &opts.cfg.uri_aliases, &err) != NFV_OK)
            goto out;
        hv = &vm_hv_nova;
    }
    if (vm_daemon_new(&opts.cfg, hv, &d, &err) != NFV_OK)
        goto out;
    hopts.unix_path = opts.cfg.socket_path;
    hopts.unix_mode = opts.cfg.socket_mode;
    hopts.max_body_size = opts.cfg.max_body_size;
    if (vm_http_start(&hopts, vm_api_handle, d, &srv, &err) != NFV_OK)
        goto out;
    NFV_LOG_INFO("main", "serving on %s%s%s", opts.cfg.socket_path,
                 opts.cfg.listen_tcp[0] ? " and tcp " : "", opts.cfg.listen_tcp);
    notify_parent(&notify_fd, 0);

    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            NFV_LOG_INFO("main", "SIGHUP: nothing to reload yet (restart to apply config)");
            continue;
        }
        break;
    }
    NFV_LOG_INFO("main", "%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    rc = 0;
out:
    if (rc != 0 && err.msg[0])
        NFV_LOG_ERR("main", "%s", err.msg);
    notify_parent(&notify_fd, 1);
    /* Wake long-polls first, so the HTTP server's threads can finish. */
    vm_daemon_stop(d);
    vm_http_stop(srv);
    vm_daemon_free(d);
    vm_hv_nova_shutdown();
    vm_hv_libvirt_shutdown();
    if (nova_cfg)
        explicit_bzero(nova_cfg, sizeof(*nova_cfg));
    free(nova_cfg);
    if (pid_fd >= 0) {
        unlink(opts.cfg.pid_file);
        close(pid_fd);
    }
    free(tls_cert);
    if (tls_key)
        explicit_bzero(tls_key, strlen(tls_key));
    free(tls_key);
    free(tls_ca);
    return rc;
}
