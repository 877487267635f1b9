/* json-escape.c - untrusted bytes (a client's line, a path) as a JSON string: escaped, valid UTF-8, bounded. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json-escape.h"

/*
 * Length of the valid UTF-8 sequence at s (n bytes left), or 0 if the
 * bytes there are not one: RFC 3629 section 4's table, which rules out
 * overlong forms, the surrogates D800-DFFF and code points past 10FFFF.
 */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;		/* overlong below U+0800 */
	else if (s[0] == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;		/* overlong below U+10000 */
	else if (s[0] == 0xf4)
		hi = 0x8f;		/* beyond U+10FFFF */
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/*
 * The escaped form of the character at s (n bytes left): *piece and its
 * length; returns the input bytes it stands for. esc is scratch.
 */
static size_t
escape_one(const unsigned char *s, size_t n, char esc[8], const char **piece,
    size_t *plen)
{
	size_t k;

	*piece = esc;
	if (s[0] == '"' || s[0] == '\\') {
		esc[0] = '\\';
		esc[1] = (char)s[0];
		*plen = 2;
	} else if (s[0] < 0x20 || s[0] == 0x7f) {
		*plen = (size_t)snprintf(esc, 8, "\\u%04x", s[0]);
	} else if (s[0] < 0x80) {
		esc[0] = (char)s[0];
		*plen = 1;
	} else if ((k = utf8_seq_len(s, n)) != 0) {
		*piece = (const char *)s;
		*plen = k;
		return k;
	} else {
		*piece = "\\ufffd";
		*plen = 6;
	}
	return 1;
}

size_t
json_escape(char *out, size_t cap, const char *in, size_t len, bool *cut)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0, k, plen;
	const char *piece;
	char esc[8];

	while (i < len) {
		k = escape_one(s + i, len - i, esc, &piece, &plen);
		if (o + plen + 1 > cap)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += k;
	}
	out[o] = '\0';
	if (cut != NULL)
		*cut = i < len;
	return o;
}
