/*
 * vm_heal_hook.c - telling a VNF that its SBY became the ACT: an executable
 * (JSON on stdin) and/or an HTTP webhook (JSON POST, libcurl), both named
 * only by vmmgrd's config file (never by an API caller), each attempt
 * bounded by heal_hook_timeout_ms, retried up to heal_hook_attempts times,
 * each attempt recorded as an event. Runs without the daemon lock.
 *
 * Calls: vm_ctx.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nfv/log.h"
#include "vm_heal_hook.h"

#define MOD "heal"

extern char **environ;

/* One run of the program: 0 when it exited 0 in time; else why in @why. */
static int exec_once(const char *prog, const char *json, unsigned timeout_ms, char *why,
                     size_t why_size)
{
    posix_spawn_file_actions_t fa;
    int fds[2], status = 0;
    char *argv[] = {(char *)prog, NULL};
    pid_t pid;
    int64_t until = vm_d_mono_ms() + timeout_ms;
    size_t len = strlen(json), off = 0;

    if (pipe(fds) != 0) {
        snprintf(why, why_size, "pipe: %s", strerror(errno));
        return -1;
    }
    /* Only the child's stdin keeps the read end (dup2 clears the flag). */
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
    if (posix_spawn(&pid, prog, &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        close(fds[0]);
        close(fds[1]);
        snprintf(why, why_size, "cannot run %.100s", prog);
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    /* The JSON is small (< 64 KiB, the pipe's buffer): one write suffices,
     * and a program that never reads cannot block us (vmmgrd ignores
     * SIGPIPE: vm_main.c). */
    while (off < len) {
        ssize_t n = write(fds[1], json + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fds[1]);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(why, why_size, "waitpid: %s", strerror(errno));
            return -1;
        }
        if (vm_d_mono_ms() >= until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(why, why_size, "timed out after %u ms (killed)", timeout_ms);
            return -1;
        }
        usleep(5000);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(why, why_size, "exited with %d", WEXITSTATUS(status));
    else
        snprintf(why, why_size, "killed by signal %d", WTERMSIG(status));
    return -1;
}

static size_t discard(char *p, size_t size, size_t n, void *opaque)
{
    (void)p;
    (void)opaque;
    return size * n;
}

static int post_once(const char *url, const char *json, unsigned timeout_ms, char *why,
                     size_t why_size)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = NULL;
    long status = 0;
    CURLcode rc;

    if (!c) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        /* curl's own words, not the server's body. */
        snprintf(why, why_size, "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(why, why_size, "answered HTTP %ld", status);
        return -1;
    }
    return 0;
}

bool vm_heal_hook_run(struct vm_daemon *d, const char *object, const char *json)
{
    const struct vm_config *cfg = &d->cfg;
    bool is_ok = true;

    assert(!vm_d_lock_held(d));
    for (int kind = 0; kind < 2; kind++) {
        const char *target = kind == 0 ? cfg->heal_hook_exec : cfg->heal_hook_url;
        bool is_done = false;
        if (!target[0])
            continue;
        for (unsigned a = 1; a <= cfg->heal_hook_attempts && !is_done; a++) {
            char why[160] = "";
            int64_t t0 = vm_d_mono_ms();
            int rc = kind == 0
                         ? exec_once(target, json, cfg->heal_hook_timeout_ms, why, sizeof(why))
                         : post_once(target, json, cfg->heal_hook_timeout_ms, why, sizeof(why));
            is_done = rc == 0;
            vm_daemon_event(d, is_done ? VM_SEV_INFO : VM_SEV_WARN, "heal_hook", object,
                            "%s attempt %u/%u: %s in %lld ms%s%s", kind == 0 ? "exec" : "webhook",
                            a, cfg->heal_hook_attempts, is_done ? "ok" : "failed",
                            (long long)(vm_d_mono_ms() - t0), is_done ? "" : ": ", why);
            if (!is_done && a < cfg->heal_hook_attempts)
                usleep(100000u * a); /* 100, 200, ... ms between attempts */
        }
        if (!is_done) {
            is_ok = false;
            vm_d_lock(d);
            d->metrics.heal_hook_failures++;
            vm_d_unlock(d);
        }
    }
    return is_ok;
}
