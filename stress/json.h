/*
 * stress/json.h: a small streaming JSON writer for run reports.
 *
 * Values are written as they come, with keys inside objects and none
 * inside arrays; the writer tracks nesting and commas, escapes every
 * string (control characters as \u00XX, invalid UTF-8 as U+FFFD) and
 * writes non-finite numbers as null, so what it writes is always valid
 * JSON if the calls nest.  Pretty-printed with two-space indentation.
 *
 * Who may call: one thread per writer.  json_escape() never allocates and
 * is safe on fatal paths (the panic hook).
 */
#ifndef STRESS_JSON_H
#define STRESS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAXDEPTH	32

struct json {
	FILE		*j_f;
	int		j_depth;
	bool		j_first[JSON_MAXDEPTH];	/* nothing written at depth yet */
	bool		j_array[JSON_MAXDEPTH];	/* depth is an array */
	int		j_error;		/* EINVAL on misuse */
};

void json_init(struct json *j, FILE *f);
/* key: the member name inside an object, NULL inside an array or at top. */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *s);
__attribute__((__format__(__printf__, 3, 4)))
void json_stringf(struct json *j, const char *key, const char *fmt, ...);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* A value already in JSON form (e.g. host_topo_json's object). */
void json_raw(struct json *j, const char *key, const char *raw);
/* json_finish: end the document. => 0, or an errno value (EINVAL misuse, EIO) */
int json_finish(struct json *j);

/*
 * json_escape: s as the contents of a JSON string (without the quotes)
 * into buf, NUL-terminated, truncated at a character boundary.
 * => the length written.  Never allocates.
 */
size_t json_escape(char *buf, size_t len, const char *s);

#endif /* STRESS_JSON_H */
