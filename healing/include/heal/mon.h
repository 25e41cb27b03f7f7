/*
 * heal/mon.h - the hardware monitor port: how healing/ talks to a BMC.
 *
 * A driver is a table of function pointers (the house style of
 * vmmgr/daemon/include/vm/vm_hv.h), so the state machine (heal/sm.h) and the
 * daemon never include FreeIPMI and tests can substitute the in-memory test
 * driver. Drivers:
 *   heal_mon_ipmi  IPMI 2.0 / RMCP+ (lanplus) through FreeIPMI's libfreeipmi,
 *                  cipher suite 3 by default (heal_mon_ipmi.c);
 *   heal_mon_test  in-memory simulated BMCs for scale runs and unit tests
 *                  (heal_mon_test.c, heal/mon_test.h).
 * A Redfish driver can come later behind the same table.
 *
 * Secrets: the BMC password is read from a file that only its owner may read
 * (mode 0600 or 0400), never taken from a command line or the database.
 *
 * Errors: a BMC that does not answer gives NFV_E_TIMEOUT after about
 * timeout_ms (the IPMI driver measured 0.5-1.5 x timeout_ms: FreeIPMI rounds
 * to its retransmissions); a refused login NFV_E_PERM; bad
 * configuration NFV_E_INVAL (naming the field) or NFV_E_PERM (password file
 * mode, naming the file). Returned messages never quote the BMC's or the
 * library's own error text (it is logged at debug level instead), so nothing
 * a BMC says ends up in an API answer.
 *
 * Threads: one connection is used by one thread at a time; different
 * connections are independent.
 */
#ifndef HEAL_MON_H
#define HEAL_MON_H

#include <stdbool.h>
#include <stdint.h>

#include "heal/sel.h"
#include "heal/sm.h"
#include "nfv/err.h"

struct heal_mon;

#define HEAL_MON_ADDR_SIZE     256
#define HEAL_MON_USER_SIZE     17 /* IPMI user names: at most 16 bytes */
#define HEAL_MON_PASSWORD_SIZE 21 /* IPMI 2.0 passwords: at most 20 bytes */
#define HEAL_MON_PATH_SIZE     4096

struct heal_mon_config {
    char address[HEAL_MON_ADDR_SIZE]; /* "host" or "host:port" (UDP, default 623) */
    char user[HEAL_MON_USER_SIZE];
    char password_file[HEAL_MON_PATH_SIZE];
    unsigned cipher_suite;  /* RMCP+ cipher suite id; 3 (HMAC-SHA1, AES-CBC-128) */
    unsigned timeout_ms;    /* bound on each call (session set-up or command), > 0 */
    unsigned retransmit_ms; /* resend a datagram after this, < timeout_ms; 0: timeout/4 */
    bool is_admin;          /* ask for ADMINISTRATOR; default OPERATOR (power control) */
    void *driver_data;      /* heal_mon_test: its struct heal_mon_test_bmc *; else NULL */
};

/* Fills the defaults: cipher suite 3, 1000 ms timeout, operator privilege. */
void heal_mon_config_init(struct heal_mon_config *ret);

/* Sets address, user and password file in @cfg (other fields untouched)
 * and checks the result with heal_mon_config_check(): for `host add`'s
 * bmc_* options. A value too long for its field is NFV_E_INVAL naming the
 * field, never silently cut. The password file is only named here; its
 * mode and content are checked when the monitor opens it. */
enum nfv_code heal_mon_config_set(struct heal_mon_config *cfg, const char *address,
                                  const char *user, const char *password_file, struct nfv_err *err);

/* Checks @cfg without touching the network: 'address' (host or host:port,
 * port 1..65535), 'user', 'timeout_ms', 'cipher_suite'. NFV_E_INVAL naming
 * the field. The password file is checked by heal_mon_password_read(). */
enum nfv_code heal_mon_config_check(const struct heal_mon_config *cfg, struct nfv_err *err);

/* Reads the password from @path into @ret (@ret_size bytes, NUL-terminated,
 * a trailing newline dropped). Refuses, naming the file: a missing file
 * (NFV_E_NOENT), not a regular file or a symlink (NFV_E_INVAL), group or
 * other permission bits set (NFV_E_PERM, "chmod 0600"), an empty or too long
 * password (NFV_E_INVAL). @ret is wiped on failure. */
enum nfv_code heal_mon_password_read(const char *path, char *ret, size_t ret_size,
                                     struct nfv_err *err);

#define HEAL_MON_MAX_EVENTS 16

/* One poll: the chassis power and the SEL events added since the last poll
 * (or since open: events already in the SEL at open are history, not news). */
struct heal_mon_poll {
    enum heal_power power;
    unsigned n_events;
    struct heal_sel_event events[HEAL_MON_MAX_EVENTS];
    bool is_truncated; /* more than HEAL_MON_MAX_EVENTS were new: the rest come next poll */
};

#define HEAL_MON_POLL_MAX_INPUTS (1 + HEAL_MON_MAX_EVENTS)

/*
 * What one poll means to the state machine (heal/sm.h), in the order to feed
 * the inputs: HEAL_IN_BMC_NO_ANSWER when @poll_code is not NFV_OK (a refused
 * login too: the BMC cannot tell us anything), else HEAL_IN_BMC_POWER and one
 * HEAL_IN_BMC_SEL per event. Writes @ret_inputs (HEAL_MON_POLL_MAX_INPUTS
 * entries) and returns how many. Pure.
 */
unsigned heal_mon_poll_inputs(enum nfv_code poll_code, const struct heal_mon_poll *poll,
                              uint64_t now_ms, struct heal_input *ret_inputs);

struct heal_mon_driver {
    const char *name;

    /* Checks @cfg, reads the password file, opens a session (bounded by
     * cfg->timeout_ms) and notes the SEL's last record. *ret is owned; close
     * with close(). */
    enum nfv_code (*open)(const struct heal_mon_config *cfg, struct heal_mon **ret,
                          struct nfv_err *err);
    /* Reads chassis power and new SEL entries. A session that timed out or
     * sat idle is re-opened by the next call (still within its bound). */
    enum nfv_code (*poll)(struct heal_mon *mon, struct heal_mon_poll *ret, struct nfv_err *err);
    /* Chassis power down (hard: this is a fence, not a shutdown). Returns
     * once the BMC accepted it; confirm with power_status(). */
    enum nfv_code (*power_off)(struct heal_mon *mon, struct nfv_err *err);
    enum nfv_code (*power_status)(struct heal_mon *mon, enum heal_power *ret, struct nfv_err *err);
    /* Closes the session and frees; NULL is a no-op. */
    void (*close)(struct heal_mon *mon);
};

extern const struct heal_mon_driver heal_mon_ipmi;
extern const struct heal_mon_driver heal_mon_test;

/*
 * The fence as the state machine means it: power_off, then power_status
 * read back every @poll_ms until it says off or @timeout_ms passed
 * (NFV_E_TIMEOUT). NFV_OK means HEAL_IN_FENCE_DONE may be fed. Blocks: call
 * it from a job, outside any daemon lock.
 */
enum nfv_code heal_mon_fence(const struct heal_mon_driver *drv, struct heal_mon *mon,
                             unsigned timeout_ms, unsigned poll_ms, struct nfv_err *err);

#endif /* HEAL_MON_H */
