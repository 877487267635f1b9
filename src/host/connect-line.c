/* connect-line.c - incremental, bounded parser of "CONNECT <port>\n". */
#include "config.h"

#include <ctype.h>

#include "connect-line.h"

static const char keyword[] = "connect";
#define KEYWORD_LEN	(sizeof(keyword) - 1)

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

enum connect_line_result
connect_line_parse(const char *buf, size_t len, uint32_t *port, size_t *used)
{
	uint64_t value = 0;
	size_t i, digits = 0;

	if (len > CONNECT_LINE_MAX)
		len = CONNECT_LINE_MAX;
	for (i = 0; i < len && i < KEYWORD_LEN; i++)
		if (tolower((unsigned char)buf[i]) != keyword[i])
			return CONNECT_LINE_BAD;
	if (i < len && !is_blank(buf[i]))
		return CONNECT_LINE_BAD;	/* "CONNECTX", "CONNECT\n" */
	while (i < len && is_blank(buf[i]))
		i++;
	while (i < len && isdigit((unsigned char)buf[i])) {
		value = value * 10 + (uint64_t)(buf[i] - '0');
		if (value > UINT32_MAX)
			return CONNECT_LINE_BAD;
		digits++;
		i++;
	}
	while (i < len && is_blank(buf[i]))
		i++;
	if (i < len && buf[i] == '\r')
		i++;
	if (i == len)	/* everything so far is a valid prefix */
		return len < CONNECT_LINE_MAX ? CONNECT_LINE_MORE :
		    CONNECT_LINE_BAD;
	if (buf[i] != '\n' || digits == 0)
		return CONNECT_LINE_BAD;
	*port = (uint32_t)value;
	*used = i + 1;
	return CONNECT_LINE_OK;
}
