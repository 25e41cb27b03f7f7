/*
 * fuzz_cpuset.c - the cpuset list syntax ("0-3,8,^2") of pin/cpuset.h, which
 * operators type in --reserved/--dedicated, host add and Nova's
 * cpu_dedicated_set.
 *
 * Properties: parse never reads past the string and only accepts PUs below
 * its bound; an error carries its code and a message; format(parse(x))
 * parses back to the same set (the shortest form round-trips); a truncated
 * format still reports the full length and NUL-terminates.
 */
#include <stdbool.h>

#include "fuzz_util.h"
#include "pin/cpuset.h"

static void fuzz_cpuset_one(const char *text, unsigned n_max, bool is_empty_ok)
{
    struct pin_cpuset s, back;
    struct nfv_err err;
    char buf[8192], small[8];

    enum nfv_code rc = pin_cpuset_parse(text, n_max, is_empty_ok, &s, &err);
    if (rc != NFV_OK) {
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        return;
    }
    FUZZ_CHECK(is_empty_ok || !pin_cpuset_is_empty(&s));
    for (int pu = pin_cpuset_first(&s); pu >= 0; pu = pin_cpuset_next(&s, (unsigned)pu + 1))
        FUZZ_CHECK((unsigned)pu < n_max);

    size_t n = pin_cpuset_format(&s, buf, sizeof(buf));
    FUZZ_CHECK(n < sizeof(buf)); /* 1024 PUs never need more than ~4 KiB */
    FUZZ_CHECK(strlen(buf) == n);
    FUZZ_CHECK(pin_cpuset_parse(buf, PIN_MAX_PUS, true, &back, &err) == NFV_OK);
    FUZZ_CHECK(pin_cpuset_equal(&s, &back));

    size_t m = pin_cpuset_format(&s, small, sizeof(small));
    FUZZ_CHECK(m == n);
    FUZZ_CHECK(strlen(small) < sizeof(small));
    FUZZ_CHECK(strncmp(small, buf, strlen(small)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *text = fuzz_strndup(data, size);
    fuzz_cpuset_one(text, PIN_MAX_PUS, false);
    fuzz_cpuset_one(text, PIN_MAX_PUS, true);
    fuzz_cpuset_one(text, 64, false);
    free(text);
    return 0;
}
