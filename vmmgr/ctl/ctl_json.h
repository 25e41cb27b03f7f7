/*
 * ctl_json.h - vmmgrctl's fast --json path for large answers.
 *
 * `vmmgrctl --json vm list` prints one member ("vms") of vmmgrd's answer.
 * Parsing 1 MB into a jansson tree and dumping it again cost most of the
 * command's time at 10,000 VMs (issue 9). vmmgrd writes its answers with
 * jansson (json_dumps, JSON_COMPACT), so every string and number in them is
 * already spelt as jansson would spell it on output: only the whitespace
 * changes between the answer and vmmgrctl's output. ctl_json_member_dump()
 * re-indents the member in one pass over the text, byte for byte as the
 * tree path (ctl_print_json) prints it, and refuses any document in which
 * re-spelling could differ, so that the caller falls back to that path.
 * Used by ctl_get_and_print() (ctl_client.c); tested against jansson itself
 * in tests/unit/ctl.
 */
#ifndef VMMGR_CTL_JSON_H
#define VMMGR_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "nfv/table.h"

/*
 * Takes the JSON object @text (@len bytes, need not be NUL-terminated) and
 * writes its member @key (plain ASCII, no escapes) and a newline to @out,
 * exactly as nfv_json_print(value, @fmt, @out) would after json_loadb():
 * json_dumpf with JSON_ENCODE_ANY | JSON_COMPACT (@fmt NFV_OUT_JSON_SHORT)
 * or JSON_INDENT(2) (any other @fmt). Write errors on @out are @out's, as
 * for json_dumpf.
 *
 * Returns false, having written nothing, when it cannot promise that: @text
 * is not valid JSON, is not an object, lacks @key, or holds anything
 * jansson would spell differently on the way out (a real number, "-0", an
 * integer of 19 digits or more, a non-ASCII byte, an escape other than the
 * ones jansson writes, a key twice in one object), nests deeper than 64
 * levels, or memory ran out. The caller then parses @text with jansson as
 * before, which also reports the malformed ones.
 */
bool ctl_json_member_dump(const char *text, size_t len, const char *key, enum nfv_output_fmt fmt,
                          FILE *out);

#endif /* VMMGR_CTL_JSON_H */
