/* json-escape.h - untrusted bytes as the inside of a JSON string, bounded. */
#ifndef VSOCKEMU_JSON_ESCAPE_H
#define VSOCKEMU_JSON_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes in[0..len) into out (cap bytes, NUL-terminated) as the inside of
 * a JSON string (RFC 8259 section 7): '"' and '\' escaped, control
 * characters and DEL as \u00XX, valid UTF-8 kept, each byte of an invalid
 * sequence (overlong, surrogate, beyond U+10FFFF, cut short) as \uFFFD.
 * Stops before an escape that would not fit whole. Returns the bytes
 * written (without the NUL); *cut, if not NULL, says whether input was
 * left out. cap must be at least 1.
 */
size_t json_escape(char *out, size_t cap, const char *in, size_t len,
    bool *cut);

#endif
