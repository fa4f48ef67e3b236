/*
 * tests/stresstest.h: run the uvmstress binary from a Criterion test.
 *
 * run() spawns the uvmstress that sits next to the unit binary
 * (dirname(readlink("/proc/self/exe"))/uvmstress: `make build-release`
 * builds it) with posix_spawn, captures its stdout and stderr in memfds,
 * and returns the exit status; a small validator checks that a JSON
 * report is well-formed and finds values by path ("failures.0.kind").
 */
#ifndef TESTS_STRESSTEST_H
#define TESTS_STRESSTEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAXARGS		48

struct result {
	int	status;		/* exit status, or 128 + signal */
	char	*out;		/* stdout, NUL-terminated */
	char	*err;		/* stderr */
};

static inline const char *
uvmstress_path(void)
{
	static char path[4096];
	char exe[4096];
	ssize_t n;

	if (path[0] != '\0')
		return path;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert_gt(n, 0, "readlink /proc/self/exe");
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/uvmstress", dirname(exe));
	cr_assert_eq(access(path, X_OK), 0, "%s is missing: build it first "
	    "(make build-release, or make build-<flavour>)", path);
	return path;
}

static inline char *
slurp(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf;

	cr_assert_geq(len, 0);
	buf = malloc((size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(pread(fd, buf, (size_t)len, 0), len);
	buf[len] = '\0';
	return buf;
}

/* now_s: monotonic seconds, for a test's bound on a run's wall time. */
static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A uvmstress started by run_start(), not yet waited for. */
struct child {
	pid_t	pid;
	int	outfd;		/* its stdout and stderr, memfds */
	int	errfd;
};

/* run_start: uvmstress with args (NULL-terminated, without argv[0]). */
static inline void
run_start(struct child *c, const char *const *args)
{
	posix_spawn_file_actions_t fa;
	char *argv[MAXARGS];
	int i;

	argv[0] = (char *)uvmstress_path();
	for (i = 0; args[i] != NULL; i++) {
		cr_assert_lt(i + 2, MAXARGS);
		argv[i + 1] = (char *)args[i];
	}
	argv[i + 1] = NULL;
	c->outfd = memfd_create("uvmstress-out", 0);
	c->errfd = memfd_create("uvmstress-err", 0);
	cr_assert(c->outfd >= 0 && c->errfd >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, c->outfd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, c->errfd, STDERR_FILENO);
	cr_assert_eq(posix_spawn(&c->pid, argv[0], &fa, NULL, argv, environ),
	    0);
	posix_spawn_file_actions_destroy(&fa);
}

/*
 * run_await: wait until the child has written needle to fd (its outfd or
 * errfd), polling every 10 ms for at most limit_s seconds.  => found
 */
static inline bool
run_await(const struct child *c, int fd, const char *needle, double limit_s)
{
	siginfo_t si;
	int i;

	for (i = 0; i < (int)(limit_s * 100); i++) {
		char *text = slurp(fd);
		bool found = strstr(text, needle) != NULL;

		free(text);
		if (found)
			return true;
		/* ended without it?  (WNOWAIT: run_wait still reaps it) */
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) == 0 && si.si_pid == c->pid)
			return false;
		usleep(10000);
	}
	return false;
}

/* run_wait: wait for the child and collect what it wrote. */
static inline void
run_wait(struct child *c, struct result *res)
{
	int ws_;

	cr_assert_eq(waitpid(c->pid, &ws_, 0), c->pid);
	res->status = WIFEXITED(ws_) ? WEXITSTATUS(ws_) : 128 + WTERMSIG(ws_);
	res->out = slurp(c->outfd);
	res->err = slurp(c->errfd);
	close(c->outfd);
	close(c->errfd);
}

/* run: uvmstress with args (NULL-terminated, without argv[0]). */
static inline void
run(struct result *res, const char *const *args)
{
	struct child c;

	run_start(&c, args);
	run_wait(&c, res);
}

static inline void
result_free(struct result *res)
{
	free(res->out);
	free(res->err);
}

static inline int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/*
 * A small JSON validator (RFC 8259 syntax) and path lookup:
 * "metrics.fault_latency_ns.p50", "failures.0.kind".
 */
static inline const char *
ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static inline const char *
skip_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int k = 1; k <= 4; k++)
					if (!strchr("0123456789abcdefABCDEF",
					    p[k]) || p[k] == '\0')
						return NULL;
				p += 4;
			} else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0')
				return NULL;
		}
		p++;
	}
	return p + 1;
}

static inline const char *
skip_value(const char *p, int depth)
{
	p = ws(p);
	if (depth > 64)
		return NULL;
	switch (*p) {
	case '{':
		p = ws(p + 1);
		if (*p == '}')
			return p + 1;
		for (;;) {
			if ((p = skip_string(ws(p))) == NULL)
				return NULL;
			if (*(p = ws(p)) != ':')
				return NULL;
			if ((p = skip_value(p + 1, depth + 1)) == NULL)
				return NULL;
			p = ws(p);
			if (*p == '}')
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	case '[':
		p = ws(p + 1);
		if (*p == ']')
			return p + 1;
		for (;;) {
			if ((p = skip_value(p, depth + 1)) == NULL)
				return NULL;
			p = ws(p);
			if (*p == ']')
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	case '"':
		return skip_string(p);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		if (*p == '-')
			p++;
		if (*p == '0')
			p++;
		else if (*p >= '1' && *p <= '9')
			while (*p >= '0' && *p <= '9')
				p++;
		else
			return NULL;
		if (*p == '.') {
			if (!(*++p >= '0' && *p <= '9'))
				return NULL;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (*p == 'e' || *p == 'E') {
			p++;
			if (*p == '+' || *p == '-')
				p++;
			if (!(*p >= '0' && *p <= '9'))
				return NULL;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		return p;
	}
}

static inline bool
json_valid(const char *text)
{
	const char *p = skip_value(text, 0);

	return p != NULL && *ws(p) == '\0';
}

/* The value at path (its first character), or NULL. */
static inline const char *
json_at(const char *text, const char *path)
{
	const char *p = ws(text), *seg = path;

	while (*seg != '\0') {
		size_t n = strcspn(seg, ".");

		if (*p == '{') {
			p = ws(p + 1);
			for (;;) {
				const char *k = p, *e;

				if (*p == '}' || (e = skip_string(p)) == NULL)
					return NULL;
				p = ws(e);
				if (*p++ != ':')
					return NULL;
				p = ws(p);
				if ((size_t)(e - k - 2) == n &&
				    strncmp(k + 1, seg, n) == 0)
					break;
				if ((p = skip_value(p, 0)) == NULL)
					return NULL;
				p = ws(p);
				if (*p++ != ',')
					return NULL;
				p = ws(p);
			}
		} else if (*p == '[') {
			long idx = strtol(seg, NULL, 10);

			p = ws(p + 1);
			for (; idx > 0; idx--) {
				if (*p == ']' || (p = skip_value(p, 0)) == NULL)
					return NULL;
				p = ws(p);
				if (*p++ != ',')
					return NULL;
				p = ws(p);
			}
			if (*p == ']')
				return NULL;
		} else
			return NULL;
		seg += n;
		if (*seg == '.')
			seg++;
	}
	return p;
}

static inline bool
json_num(const char *text, const char *path, double *v)
{
	const char *p = json_at(text, path);
	char *end;

	if (p == NULL)
		return false;
	*v = strtod(p, &end);
	return end != p;
}

/* A string value (escapes left as they are). */
static inline bool
json_str(const char *text, const char *path, char *buf, size_t len)
{
	const char *p = json_at(text, path), *e;

	if (p == NULL || *p != '"' || (e = skip_string(p)) == NULL)
		return false;
	snprintf(buf, len, "%.*s", (int)(e - p - 2), p + 1);
	return true;
}

#define RUN(res, ...)	run((res), (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_START(c, ...) \
	run_start((c), (const char *const[]){ __VA_ARGS__, NULL })

#endif /* TESTS_STRESSTEST_H */
