// SPDX-License-Identifier: GPL-2.0
/*
 * jsoncheck: exit 0 if standard input is one valid JSON value (RFC 8259),
 * else print where it is not and exit 1. A test helper for the VM, which
 * has no python; built static next to p2pmapctl.
 *
 * Deliberately not json-c: p2pmapctl writes its JSON with json-c, and a
 * check of that output by the same library's parser (which also accepts
 * more than RFC 8259 unless told otherwise, and whose strict mode may
 * change between releases) would not be an independent one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 64

static const char *p, *start;

static void ws(void)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
}

static int value(int depth);

static int string(void)
{
	if (*p++ != '"')
		return 0;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;

		if (!c || c < 0x20)
			return 0;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return 0;
				p += 5;
				continue;
			}
			if (!*p || !strchr("\"\\/bfnrt", *p))
				return 0;
		}
		p++;
	}
	p++;
	return 1;
}

static int digits(void)
{
	const char *s = p;

	while (*p >= '0' && *p <= '9')
		p++;
	return p > s;
}

static int number(void)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (!digits())
		return 0;
	if (*p == '.') {
		p++;
		if (!digits())
			return 0;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!digits())
			return 0;
	}
	return 1;
}

static int container(int depth, char close)
{
	p++;
	ws();
	if (*p == close) {
		p++;
		return 1;
	}
	for (;;) {
		ws();
		if (close == '}') {
			if (!string())
				return 0;
			ws();
			if (*p++ != ':')
				return 0;
		}
		if (!value(depth + 1))
			return 0;
		ws();
		if (*p == close) {
			p++;
			return 1;
		}
		if (*p++ != ',')
			return 0;
	}
}

static int value(int depth)
{
	if (depth > MAX_NEST)
		return 0;
	ws();
	switch (*p) {
	case '{': return container(depth, '}');
	case '[': return container(depth, ']');
	case '"': return string();
	case 't': return !strncmp(p, "true", 4) ? (p += 4, 1) : 0;
	case 'f': return !strncmp(p, "false", 5) ? (p += 5, 1) : 0;
	case 'n': return !strncmp(p, "null", 4) ? (p += 4, 1) : 0;
	default: return number();
	}
}

int main(void)
{
	size_t cap = 1 << 16, len = 0, got;
	char *buf = malloc(cap);

	if (!buf)
		return 2;
	while ((got = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
		len += got;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				return 2;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	start = p = buf;
	if (strlen(buf) != len || !value(0) || (ws(), *p)) {
		fprintf(stderr, "jsoncheck: invalid JSON at byte %ld: \"%.30s\"\n",
			(long)(p - start), p);
		free(buf);
		return 1;
	}
	free(buf);
	return 0;
}
