/*
 * heal_mon.c - what every monitor driver shares (heal/mon.h): configuration
 * checks, the password file and the confirmed fence.
 *
 * Not pure (it reads files and the clock), so it lives in heal_mon with the
 * drivers, apart from heal_core. No outside library here: FreeIPMI is only
 * in heal_mon_ipmi.c.
 */
#include "heal/mon.h"
#include "heal_mon_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void heal_mon_config_init(struct heal_mon_config *ret)
{
    *ret = (struct heal_mon_config){.cipher_suite = 3, .timeout_ms = 1000};
}

/* host names and IPv4 literals: letters, digits, '.', '-', '_'. */
static bool is_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

enum nfv_code heal_mon_config_check(const struct heal_mon_config *cfg, struct nfv_err *err)
{
    const char *a = cfg->address;
    size_t n_host = 0;
    while (a[n_host] && a[n_host] != ':') {
        if (!is_host_char(a[n_host]))
            return NFV_ERR(err, NFV_E_INVAL, "'address': '%s' is not a host name or IPv4 address",
                           a);
        n_host++;
    }
    if (n_host == 0)
        return NFV_ERR(err, NFV_E_INVAL, "'address': '%s': no host", a);
    if (a[n_host] == ':') {
        const char *p = a + n_host + 1;
        char *end = NULL;
        errno = 0;
        long port = (*p >= '0' && *p <= '9') ? strtol(p, &end, 10) : -1;
        if (port < 1 || port > 65535 || errno || !end || *end)
            return NFV_ERR(err, NFV_E_INVAL, "'address': '%s': port must be 1..65535", a);
    }
    if (cfg->user[0] == '\0')
        return NFV_ERR(err, NFV_E_INVAL, "'user': empty");
    if (strnlen(cfg->user, HEAL_MON_USER_SIZE) >= HEAL_MON_USER_SIZE)
        return NFV_ERR(err, NFV_E_INVAL, "'user': longer than %d bytes", HEAL_MON_USER_SIZE - 1);
    if (cfg->timeout_ms == 0 || cfg->timeout_ms > 600000)
        return NFV_ERR(err, NFV_E_INVAL, "'timeout_ms': %u, must be 1..600000", cfg->timeout_ms);
    if (cfg->retransmit_ms >= cfg->timeout_ms && cfg->retransmit_ms != 0)
        return NFV_ERR(err, NFV_E_INVAL, "'retransmit_ms': %u, must be below 'timeout_ms' (%u)",
                       cfg->retransmit_ms, cfg->timeout_ms);
    /* 0-3 and 6-8, 11, 12, 15-17 are the suites IPMI 2.0 (errata) defines. */
    if (cfg->cipher_suite > 17 || cfg->cipher_suite == 5 || cfg->cipher_suite == 10 ||
        cfg->cipher_suite == 13 || cfg->cipher_suite == 14)
        return NFV_ERR(err, NFV_E_INVAL, "'cipher_suite': %u is not an IPMI 2.0 cipher suite",
                       cfg->cipher_suite);
    return NFV_OK;
}

static enum nfv_code copy_field(char *dst, size_t dst_size, const char *value, const char *field,
                                struct nfv_err *err)
{
    if (!value || value[0] == '\0')
        return NFV_ERR(err, NFV_E_INVAL, "'%s': empty", field);
    size_t len = strlen(value);
    if (len >= dst_size)
        return NFV_ERR(err, NFV_E_INVAL, "'%s': %zu bytes, at most %zu", field, len, dst_size - 1);
    memcpy(dst, value, len + 1);
    return NFV_OK;
}

enum nfv_code heal_mon_config_set(struct heal_mon_config *cfg, const char *address,
                                  const char *user, const char *password_file, struct nfv_err *err)
{
    struct heal_mon_config c = *cfg;
    enum nfv_code code = copy_field(c.address, sizeof(c.address), address, "address", err);
    if (code == NFV_OK)
        code = copy_field(c.user, sizeof(c.user), user, "user", err);
    if (code == NFV_OK)
        code = copy_field(c.password_file, sizeof(c.password_file), password_file, "password_file",
                          err);
    if (code == NFV_OK && password_file[0] != '/')
        code = NFV_ERR(err, NFV_E_INVAL, "'password_file': '%s' is not an absolute path",
                       password_file);
    if (code == NFV_OK)
        code = heal_mon_config_check(&c, err);
    if (code == NFV_OK)
        *cfg = c; /* all or nothing */
    return code;
}

enum nfv_code heal_mon_password_read(const char *path, char *ret, size_t ret_size,
                                     struct nfv_err *err)
{
    enum nfv_code code = NFV_OK;
    int fd = -1;
    struct stat st;
    char buf[HEAL_MON_PASSWORD_SIZE + 2];

    memset(ret, 0, ret_size);
    if (!path || path[0] == '\0')
        return NFV_ERR(err, NFV_E_INVAL, "'password_file': not set");
    /* O_NOFOLLOW: a symlink could point a root daemon at someone else's file. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return NFV_ERR_ERRNO(err, NFV_E_NOENT, e, "'password_file' '%s': no such file", path);
        if (e == ELOOP)
            return NFV_ERR_ERRNO(err, NFV_E_INVAL, e, "'password_file' '%s': is a symlink", path);
        return NFV_ERR_ERRNO(err, NFV_E_PERM, e, "'password_file' '%s': cannot open: %s", path,
                             strerror(e));
    }
    if (fstat(fd, &st) < 0) {
        code = NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'password_file' '%s': stat failed", path);
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        code = NFV_ERR(err, NFV_E_INVAL, "'password_file' '%s': not a regular file", path);
        goto cleanup;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        code = NFV_ERR(err, NFV_E_PERM,
                       "'password_file' '%s': mode %04o lets others read it; chmod 0600 it", path,
                       (unsigned)(st.st_mode & 07777));
        goto cleanup;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
        code = NFV_ERR_ERRNO(err, NFV_E_IO, errno, "'password_file' '%s': read failed", path);
        goto cleanup;
    }
    size_t len = (size_t)n;
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len == 0) {
        code = NFV_ERR(err, NFV_E_INVAL, "'password_file' '%s': empty", path);
        goto cleanup;
    }
    if (len >= HEAL_MON_PASSWORD_SIZE || len >= ret_size || memchr(buf, '\n', len)) {
        code = NFV_ERR(err, NFV_E_INVAL,
                       "'password_file' '%s': the password must be one line of at most %d bytes",
                       path, HEAL_MON_PASSWORD_SIZE - 1);
        goto cleanup;
    }
    memcpy(ret, buf, len);
    ret[len] = '\0';
cleanup:
    explicit_bzero(buf, sizeof(buf));
    close(fd);
    return code;
}

unsigned heal_mon_poll_inputs(enum nfv_code poll_code, const struct heal_mon_poll *poll,
                              uint64_t now_ms, struct heal_input *ret_inputs)
{
    if (poll_code != NFV_OK) {
        ret_inputs[0] = (struct heal_input){.kind = HEAL_IN_BMC_NO_ANSWER, .now_ms = now_ms};
        return 1;
    }
    unsigned n = 0;
    ret_inputs[n++] =
        (struct heal_input){.kind = HEAL_IN_BMC_POWER, .now_ms = now_ms, .power = poll->power};
    for (unsigned e = 0; e < poll->n_events && e < HEAL_MON_MAX_EVENTS; e++)
        ret_inputs[n++] = (struct heal_input){
            .kind = HEAL_IN_BMC_SEL, .now_ms = now_ms, .sel = poll->events[e].kind};
    return n;
}

uint64_t heal_mon_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

enum nfv_code heal_mon_fence(const struct heal_mon_driver *drv, struct heal_mon *mon,
                             unsigned timeout_ms, unsigned poll_ms, struct nfv_err *err)
{
    uint64_t deadline = heal_mon_now_ms() + timeout_ms;
    enum nfv_code code = drv->power_off(mon, err);
    if (code != NFV_OK)
        return code;
    for (;;) {
        enum heal_power power = HEAL_POWER_UNKNOWN;
        code = drv->power_status(mon, &power, err);
        /* Only a read-back "off" confirms; a failed read is retried until the deadline. */
        if (code == NFV_OK && power == HEAL_POWER_OFF)
            return NFV_OK;
        if (heal_mon_now_ms() >= deadline)
            return NFV_ERR(err, NFV_E_TIMEOUT, "fence: power not read back off within %u ms",
                           timeout_ms);
        struct timespec ts = {.tv_sec = poll_ms / 1000,
                              .tv_nsec = (long)(poll_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}
