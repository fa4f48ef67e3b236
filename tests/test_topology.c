/*
 * tests/test_topology.c: host/topology.c (hwloc discovery, binding,
 * the JSON report).
 *
 * Criterion forks every test, so each one starts with a fresh module and
 * calls host_topo_init() itself; binding a test's threads cannot leak
 * into another test.
 */
#include "host/topology.h"

#include <ctype.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <hwloc.h>

/* local prototypes */
static void topo_up(void);
static void jv_ws(const char **p);
static bool jv_string(const char **p);
static bool jv_number(const char **p);
static bool jv_literal(const char **p, const char *lit);
static bool jv_value(const char **p, int depth);
static bool json_valid(const char *s);
static long json_int(const char *json, const char *key);
static int count_substr(const char *s, const char *sub);
static void *bind_worker(void *arg);

static void
topo_up(void)
{
	int err = host_topo_init();

	cr_assert_eq(err, 0, "host_topo_init: %d (%s)", err, host_topo_error());
}

/*
 * A strict JSON (RFC 8259) syntax checker, enough to tell that what the
 * module writes would parse.
 */
static void
jv_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool
jv_string(const char **p)
{
	const char *s = *p;
	int i;

	if (*s++ != '"')
		return false;
	for (;;) {
		unsigned char c = (unsigned char)*s++;

		if (c == '"')
			break;
		if (c < 0x20)		/* includes the terminating NUL */
			return false;
		if (c != '\\')
			continue;
		c = (unsigned char)*s++;
		if (c == 'u') {
			for (i = 0; i < 4; i++)
				if (!isxdigit((unsigned char)*s++))
					return false;
		} else if (c == '\0' || strchr("\"\\/bfnrt", c) == NULL) {
			return false;
		}
	}
	*p = s;
	return true;
}

static bool
jv_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	*p = s;
	return true;
}

static bool
jv_literal(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool
jv_value(const char **p, int depth)
{
	if (depth > 32)
		return false;
	jv_ws(p);
	switch (**p) {
	case '{':
		(*p)++;
		jv_ws(p);
		if (**p == '}') {
			(*p)++;
			return true;
		}
		for (;;) {
			jv_ws(p);
			if (!jv_string(p))
				return false;
			jv_ws(p);
			if (*(*p)++ != ':')
				return false;
			if (!jv_value(p, depth + 1))
				return false;
			jv_ws(p);
			if (**p == '}') {
				(*p)++;
				return true;
			}
			if (*(*p)++ != ',')
				return false;
		}
	case '[':
		(*p)++;
		jv_ws(p);
		if (**p == ']') {
			(*p)++;
			return true;
		}
		for (;;) {
			if (!jv_value(p, depth + 1))
				return false;
			jv_ws(p);
			if (**p == ']') {
				(*p)++;
				return true;
			}
			if (*(*p)++ != ',')
				return false;
		}
	case '"':
		return jv_string(p);
	case 't':
		return jv_literal(p, "true");
	case 'f':
		return jv_literal(p, "false");
	case 'n':
		return jv_literal(p, "null");
	default:
		return jv_number(p);
	}
}

static bool
json_valid(const char *s)
{
	if (!jv_value(&s, 0))
		return false;
	jv_ws(&s);
	return *s == '\0';
}

/* json_int: the integer after "key": (first occurrence), or -999. */
static long
json_int(const char *json, const char *key)
{
	char pat[64];
	const char *at;
	char *end;
	long v;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	at = strstr(json, pat);
	if (at == NULL)
		return -999;
	at += strlen(pat);
	v = strtol(at, &end, 10);
	return end == at ? -999 : v;
}

static int
count_substr(const char *s, const char *sub)
{
	int n = 0;

	while ((s = strstr(s, sub)) != NULL) {
		n++;
		s += strlen(sub);
	}
	return n;
}

/*
 * Discovery.
 */

Test(topology, init_succeeds)
{
	topo_up();
	cr_assert(host_topo_available());
	cr_assert_str_eq(host_topo_error(), "");
}

Test(topology, init_is_idempotent)
{
	struct host_topo_summary a, b;

	topo_up();
	cr_assert_eq(host_topo_get_summary(&a), 0);
	topo_up();
	cr_assert_eq(host_topo_get_summary(&b), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
}

Test(topology, counts_consistent)
{
	struct host_topo_summary ts;

	topo_up();
	cr_assert_eq(host_topo_get_summary(&ts), 0);
	cr_assert_geq(ts.ts_npackages, 1);
	cr_assert_geq(ts.ts_ncores, ts.ts_npackages, "cores %d < packages %d",
	    ts.ts_ncores, ts.ts_npackages);
	cr_assert_geq(ts.ts_npus, ts.ts_ncores, "PUs %d < cores %d",
	    ts.ts_npus, ts.ts_ncores);
	cr_assert_geq(ts.ts_nnuma, 1);
	cr_assert_eq(host_topo_npus(), ts.ts_npus);
}

Test(topology, pus_match_host_cpus)
{
	cpu_set_t aff;
	long onln = sysconf(_SC_NPROCESSORS_ONLN);
	int npus;

	topo_up();
	npus = host_topo_npus();
	cr_assert_eq(sched_getaffinity(0, sizeof(aff), &aff), 0);
	cr_assert(npus == onln || npus >= CPU_COUNT(&aff),
	    "hwloc PUs %d, online CPUs %ld, affinity %d", npus, onln,
	    CPU_COUNT(&aff));
}

Test(topology, pu_os_indexes_distinct)
{
	int npus, i, j, os;

	topo_up();
	npus = host_topo_npus();
	for (i = 0; i < npus; i++) {
		os = host_topo_pu_os_index(i);
		cr_assert_geq(os, 0);
		cr_assert_lt(os, CPU_SETSIZE);
		for (j = 0; j < i; j++)
			cr_assert_neq(host_topo_pu_os_index(j), os,
			    "PUs %d and %d share os_index %d", j, i, os);
	}
	cr_assert_eq(host_topo_pu_os_index(-1), -1);
	cr_assert_eq(host_topo_pu_os_index(npus), -1);
}

Test(topology, api_version_recorded)
{
	struct host_topo_summary ts;
	char v[32];

	topo_up();
	cr_assert_eq(host_topo_get_summary(&ts), 0);
	cr_assert_eq(ts.ts_api_compiled, (unsigned)HWLOC_API_VERSION);
	cr_assert_eq(ts.ts_api_runtime, hwloc_get_api_version());
	cr_assert_eq(ts.ts_api_runtime >> 16, 2u, "hwloc 2.x expected");
	cr_assert_str_eq(host_topo_api_string(0x00020800, v, sizeof(v)),
	    "2.8.0");
}

Test(topology, summary_string)
{
	struct host_topo_summary ts;
	char want[96];

	topo_up();
	cr_assert_eq(host_topo_get_summary(&ts), 0);
	snprintf(want, sizeof(want), "%d package%s, %d core%s, %d PU%s, "
	    "%d NUMA node%s",
	    ts.ts_npackages, ts.ts_npackages == 1 ? "" : "s",
	    ts.ts_ncores, ts.ts_ncores == 1 ? "" : "s",
	    ts.ts_npus, ts.ts_npus == 1 ? "" : "s",
	    ts.ts_nnuma, ts.ts_nnuma == 1 ? "" : "s");
	cr_assert_str_eq(ts.ts_desc, want);
}

/*
 * The JSON report.
 */

Test(topology, json_valid_with_counts)
{
	struct host_topo_summary ts;
	char buf[4096], ver[32];
	size_t need = 0;

	topo_up();
	cr_assert_eq(host_topo_get_summary(&ts), 0);
	cr_assert_eq(host_topo_json(buf, sizeof(buf), &need), 0);
	cr_assert_eq(need, strlen(buf));
	cr_assert(json_valid(buf), "invalid JSON: %s", buf);
	cr_assert_eq(json_int(buf, "packages"), ts.ts_npackages, "%s", buf);
	cr_assert_eq(json_int(buf, "cores"), ts.ts_ncores, "%s", buf);
	cr_assert_eq(json_int(buf, "pus"), ts.ts_npus, "%s", buf);
	cr_assert_eq(json_int(buf, "numa_nodes"), ts.ts_nnuma, "%s", buf);
	cr_assert(strstr(buf, "\"available\":true") != NULL, "%s", buf);
	host_topo_api_string(ts.ts_api_compiled, ver, sizeof(ver));
	cr_assert(strstr(buf, ver) != NULL, "no API version %s: %s", ver, buf);
	cr_assert(strstr(buf, ts.ts_desc) != NULL, "%s", buf);
	cr_assert(strstr(buf, "\"binding\":[]") != NULL, "%s", buf);
}

Test(topology, json_truncation_reported)
{
	char full[4096], tiny[8];
	size_t need = 0, need2 = 0;

	topo_up();
	cr_assert_eq(host_topo_json(full, sizeof(full), &need), 0);

	memset(tiny, 'x', sizeof(tiny));
	cr_assert_eq(host_topo_json(tiny, sizeof(tiny), &need2), ENOSPC);
	cr_assert_eq(need2, need, "needed %zu, then %zu", need, need2);
	cr_assert_eq(strlen(tiny), sizeof(tiny) - 1);	/* terminated */
	cr_assert_eq(strncmp(tiny, full, sizeof(tiny) - 1), 0);

	/* no buffer at all: just the length */
	cr_assert_eq(host_topo_json(NULL, 0, &need2), ENOSPC);
	cr_assert_eq(need2, need);

	/* one byte short of the NUL, then exactly enough */
	{
		char *b = malloc(need + 1);

		cr_assert_not_null(b);
		cr_assert_eq(host_topo_json(b, need, NULL), ENOSPC);
		cr_assert_eq(strlen(b), need - 1);
		cr_assert_eq(host_topo_json(b, need + 1, NULL), 0);
		cr_assert_str_eq(b, full);
		free(b);
	}
}

Test(topology, json_without_topology)
{
	char buf[512];

	/* not initialised in this (forked) process */
	cr_assert_not(host_topo_available());
	cr_assert_eq(host_topo_json(buf, sizeof(buf), NULL), 0);
	cr_assert(json_valid(buf), "invalid JSON: %s", buf);
	cr_assert(strstr(buf, "\"available\":false") != NULL, "%s", buf);
	cr_assert(strstr(buf, "\"error\":\"") != NULL, "%s", buf);
}

Test(topology, json_reports_bindings)
{
	char buf[4096];
	int npus;

	topo_up();
	npus = host_topo_npus();
	cr_assert_eq(host_topo_record_binding(0, 0, true), 0);
	cr_assert_eq(host_topo_record_binding(3, 3 % npus, false), 0);
	cr_assert_eq(host_topo_record_binding(3, 3 % npus, true), 0);
	cr_assert_eq(host_topo_record_binding(5, -1, false), 0);
	cr_assert_eq(host_topo_json(buf, sizeof(buf), NULL), 0);
	cr_assert(json_valid(buf), "invalid JSON: %s", buf);
	cr_assert_eq(count_substr(buf, "{\"cpu\":"), 3, "%s", buf);
	cr_assert(strstr(buf, "{\"cpu\":0,\"pu\":0,") != NULL, "%s", buf);
	cr_assert(strstr(buf, "{\"cpu\":5,\"pu\":-1,\"os_index\":-1,"
	    "\"bound\":false}") != NULL, "%s", buf);
	/* the later record for CPU 3 replaced the earlier one */
	cr_assert_eq(count_substr(buf, "\"bound\":true"), 2, "%s", buf);
}

Test(topology, record_binding_rejects_bad_cpu)
{
	topo_up();
	cr_assert_eq(host_topo_record_binding(-1, 0, true), EINVAL);
	cr_assert_eq(host_topo_record_binding(HOST_TOPO_MAXCPUS, 0, true),
	    EINVAL);
	cr_assert_eq(host_topo_record_binding(HOST_TOPO_MAXCPUS - 1, 0, true),
	    0);
}

/*
 * Binding.
 */

Test(topology, bind_pu0_runs_there)
{
	cpu_set_t set;
	int os, i, err;

	topo_up();
	os = host_topo_pu_os_index(0);
	cr_assert_geq(os, 0);
	err = host_topo_bind_self_to_pu(0);
	cr_assert_eq(err, 0, "bind to PU 0: %s", strerror(err));

	cr_assert_eq(pthread_getaffinity_np(pthread_self(), sizeof(set),
	    &set), 0);
	cr_assert_eq(CPU_COUNT(&set), 1);
	cr_assert(CPU_ISSET(os, &set));
	for (i = 0; i < 10; i++) {
		sched_yield();
		cr_assert_eq(sched_getcpu(), os, "try %d: on CPU %d, not %d",
		    i, sched_getcpu(), os);
	}
}

Test(topology, bind_every_pu)
{
	int npus, pu, os, err;

	topo_up();
	npus = host_topo_npus();
	for (pu = 0; pu < npus; pu++) {
		os = host_topo_pu_os_index(pu);
		err = host_topo_bind_self_to_pu(pu);
		cr_assert_eq(err, 0, "bind to PU %d: %s", pu, strerror(err));
		sched_yield();
		cr_assert_eq(sched_getcpu(), os, "PU %d: on CPU %d, not %d",
		    pu, sched_getcpu(), os);
	}
}

Test(topology, bind_rejects_bad_pu)
{
	topo_up();
	cr_assert_eq(host_topo_bind_self_to_pu(-1), EINVAL);
	cr_assert_eq(host_topo_bind_self_to_pu(host_topo_npus()), EINVAL);
}

Test(topology, calls_without_topology)
{
	int pu = 7;

	cr_assert_eq(host_topo_bind_self_to_pu(0), ENODEV);
	cr_assert_eq(host_topo_pu_for_cpu(0), -1);
	cr_assert_eq(host_topo_npus(), 0);
	cr_assert_eq(host_topo_bind_cpu(0, &pu), ENODEV);
	cr_assert_eq(pu, -1);
	{
		struct host_topo_summary ts;

		cr_assert_eq(host_topo_get_summary(&ts), ENODEV);
	}
}

struct bind_arg {
	int	ba_cpu;
	int	ba_err;
	int	ba_pu;
	int	ba_want_os;
	int	ba_got_os;
};

static void *
bind_worker(void *arg)
{
	struct bind_arg *ba = arg;
	int i;

	ba->ba_err = host_topo_bind_cpu(ba->ba_cpu, &ba->ba_pu);
	ba->ba_want_os = host_topo_pu_os_index(ba->ba_pu);
	for (i = 0; i < 5; i++) {
		sched_yield();
		ba->ba_got_os = sched_getcpu();
		if (ba->ba_got_os != ba->ba_want_os)
			break;
	}
	return NULL;
}

Test(topology, bind_concurrent_threads)
{
	enum { NTHR = 8 };
	struct bind_arg ba[NTHR];
	pthread_t tid[NTHR];
	char buf[4096];
	int i;

	topo_up();
	for (i = 0; i < NTHR; i++) {
		memset(&ba[i], 0, sizeof(ba[i]));
		ba[i].ba_cpu = i;
		cr_assert_eq(pthread_create(&tid[i], NULL, bind_worker, &ba[i]),
		    0);
	}
	for (i = 0; i < NTHR; i++)
		cr_assert_eq(pthread_join(tid[i], NULL), 0);
	for (i = 0; i < NTHR; i++) {
		cr_assert_eq(ba[i].ba_err, 0, "cpu %d: %s", i,
		    strerror(ba[i].ba_err));
		cr_assert_eq(ba[i].ba_pu, i % host_topo_npus());
		cr_assert_eq(ba[i].ba_got_os, ba[i].ba_want_os,
		    "cpu %d: on host CPU %d, not %d", i, ba[i].ba_got_os,
		    ba[i].ba_want_os);
	}
	cr_assert_eq(host_topo_json(buf, sizeof(buf), NULL), 0);
	cr_assert(json_valid(buf), "invalid JSON: %s", buf);
	cr_assert_eq(count_substr(buf, "\"bound\":true"), NTHR, "%s", buf);
}

Test(topology, pu_for_cpu_round_robin)
{
	int npus, cpu;

	topo_up();
	npus = host_topo_npus();
	cr_assert_eq(host_topo_pu_for_cpu(-1), -1);
	for (cpu = 0; cpu < 3 * npus + 1; cpu++)
		cr_assert_eq(host_topo_pu_for_cpu(cpu), cpu % npus,
		    "cpu %d -> %d", cpu, host_topo_pu_for_cpu(cpu));
	cr_assert_eq(host_topo_pu_for_cpu(npus), 0);	/* wraps */
	cr_assert_eq(host_topo_pu_for_cpu(MAXCPUS - 1), (MAXCPUS - 1) % npus);
}

Test(topology, fini_then_reinit)
{
	struct host_topo_summary a, b;
	char buf[4096];

	topo_up();
	cr_assert_eq(host_topo_get_summary(&a), 0);
	cr_assert_eq(host_topo_record_binding(1, 0, true), 0);
	host_topo_fini();
	cr_assert_not(host_topo_available());
	cr_assert_eq(host_topo_pu_for_cpu(0), -1);
	topo_up();
	cr_assert_eq(host_topo_get_summary(&b), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	/* the record went with fini */
	cr_assert_eq(host_topo_json(buf, sizeof(buf), NULL), 0);
	cr_assert(strstr(buf, "\"binding\":[]") != NULL, "%s", buf);
	host_topo_fini();
}
