/*
 * stress/json.c: the report's JSON writer (see json.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* local prototypes */
static size_t utf8_seqlen(const unsigned char *s);
static size_t escape_one(const unsigned char *s, char out[8], size_t *outlen);
static void json_put_string(struct json *j, const char *s);
static void json_key(struct json *j, const char *key);
static void json_open(struct json *j, const char *key, bool array);
static void json_close(struct json *j, bool array);

/*
 * utf8_seqlen: the length of the valid UTF-8 sequence at s (lead byte
 * >= 0x80), or 0 if it is not one (RFC 3629: no overlongs, surrogates or
 * code points above U+10FFFF).
 */
static size_t
utf8_seqlen(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * escape_one: the escaped form of the character at s (not NUL) into out.
 * => returns the bytes of s consumed; *outlen the bytes written to out.
 */
static size_t
escape_one(const unsigned char *s, char out[8], size_t *outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = *s;
	size_t n;

	switch (c) {
	case '"':  memcpy(out, "\\\"", 2); *outlen = 2; return 1;
	case '\\': memcpy(out, "\\\\", 2); *outlen = 2; return 1;
	case '\b': memcpy(out, "\\b", 2); *outlen = 2; return 1;
	case '\f': memcpy(out, "\\f", 2); *outlen = 2; return 1;
	case '\n': memcpy(out, "\\n", 2); *outlen = 2; return 1;
	case '\r': memcpy(out, "\\r", 2); *outlen = 2; return 1;
	case '\t': memcpy(out, "\\t", 2); *outlen = 2; return 1;
	default:
		break;
	}
	if (c < 0x20) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 0xf];
		*outlen = 6;
		return 1;
	}
	if (c < 0x80) {
		out[0] = (char)c;
		*outlen = 1;
		return 1;
	}
	if ((n = utf8_seqlen(s)) == 0) {
		memcpy(out, "\\ufffd", 6);
		*outlen = 6;
		return 1;
	}
	memcpy(out, s, n);
	*outlen = n;
	return n;
}

size_t
json_escape(char *buf, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t used = 0, in, out;
	char tmp[8];

	if (len == 0)
		return 0;
	while (*p != '\0') {
		in = escape_one(p, tmp, &out);
		if (used + out + 1 > len)
			break;
		memcpy(buf + used, tmp, out);
		used += out;
		p += in;
	}
	buf[used] = '\0';
	return used;
}

static void
json_put_string(struct json *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t in, out;
	char tmp[8];

	fputc('"', j->j_f);
	while (*p != '\0') {
		in = escape_one(p, tmp, &out);
		fwrite(tmp, 1, out, j->j_f);
		p += in;
	}
	fputc('"', j->j_f);
}

void
json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->j_f = f;
	j->j_depth = 0;
	j->j_first[0] = true;
}

/* Comma, newline, indentation and (inside an object) the key. */
static void
json_key(struct json *j, const char *key)
{
	int i;

	if (j->j_depth > 0) {
		if (j->j_array[j->j_depth] != (key == NULL))
			j->j_error = EINVAL;
		if (!j->j_first[j->j_depth])
			fputc(',', j->j_f);
		fputc('\n', j->j_f);
		for (i = 0; i < j->j_depth; i++)
			fputs("  ", j->j_f);
	} else if (!j->j_first[0] || key != NULL)
		j->j_error = EINVAL;	/* one top-level value, no key */
	j->j_first[j->j_depth] = false;
	if (key != NULL && j->j_depth > 0) {
		json_put_string(j, key);
		fputs(": ", j->j_f);
	}
}

static void
json_open(struct json *j, const char *key, bool array)
{
	json_key(j, key);
	fputc(array ? '[' : '{', j->j_f);
	if (j->j_depth + 1 >= JSON_MAXDEPTH) {
		j->j_error = EINVAL;
		return;
	}
	j->j_depth++;
	j->j_first[j->j_depth] = true;
	j->j_array[j->j_depth] = array;
}

static void
json_close(struct json *j, bool array)
{
	bool empty;
	int i;

	if (j->j_depth == 0 || j->j_array[j->j_depth] != array) {
		j->j_error = EINVAL;
		return;
	}
	empty = j->j_first[j->j_depth];
	j->j_depth--;
	if (!empty) {
		fputc('\n', j->j_f);
		for (i = 0; i < j->j_depth; i++)
			fputs("  ", j->j_f);
	}
	fputc(array ? ']' : '}', j->j_f);
}

void
json_object_begin(struct json *j, const char *key)
{
	json_open(j, key, false);
}

void
json_object_end(struct json *j)
{
	json_close(j, false);
}

void
json_array_begin(struct json *j, const char *key)
{
	json_open(j, key, true);
}

void
json_array_end(struct json *j)
{
	json_close(j, true);
}

void
json_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s == NULL)
		fputs("null", j->j_f);
	else
		json_put_string(j, s);
}

void
json_stringf(struct json *j, const char *key, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_string(j, key, buf);
}

void
json_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->j_f, "%llu", (unsigned long long)v);
}

void
json_i64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->j_f, "%lld", (long long)v);
}

/*
 * Doubles: up to 6 decimals with trailing zeros dropped (rates and
 * seconds read well that way); %.17g where that would lose the value;
 * NaN and infinities are not JSON: null.
 */
void
json_double(struct json *j, const char *key, double v)
{
	char buf[64];
	size_t n;

	json_key(j, key);
	if (!isfinite(v)) {
		fputs("null", j->j_f);
		return;
	}
	if (fabs(v) < 1e15 && (v == 0 || fabs(v) >= 1e-6)) {
		snprintf(buf, sizeof(buf), "%.6f", v);
		n = strlen(buf);
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
		if (strcmp(buf, "-0") == 0)
			strcpy(buf, "0");
	} else
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, j->j_f);
}

void
json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->j_f);
}

void
json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->j_f);
}

void
json_raw(struct json *j, const char *key, const char *raw)
{
	json_key(j, key);
	fputs(raw != NULL && raw[0] != '\0' ? raw : "null", j->j_f);
}

int
json_finish(struct json *j)
{
	if (j->j_depth != 0 || j->j_first[0])
		j->j_error = EINVAL;
	fputc('\n', j->j_f);
	if (fflush(j->j_f) != 0 || ferror(j->j_f))
		return EIO;
	return j->j_error;
}
