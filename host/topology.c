/*
 * host/topology.c: hwloc discovery, PU binding and the binding record.
 *
 * Locks (both pthread mutexes, host-internal, leaves: nothing else is
 * taken while they are held, and no hwloc call is made under
 * topo_reclock):
 *   [t] topo_lock     serialises init and fini
 *   [r] topo_reclock  the per-CPU binding record
 * Everything marked [I] is written by the first successful init under
 * topo_lock before topo_state is published with a release store, and is
 * only read after an acquire load sees TOPO_READY; it is immutable until
 * host_topo_fini, which callers may not race with anything.
 */
/* First: param.h must precede <errno.h> (it redefines ERESTART). */
#include "hsync.h"
#include "topology.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

enum topo_state {
	TOPO_NONE = 0,		/* not tried (or finished) */
	TOPO_READY,		/* topology loaded */
	TOPO_FAILED		/* tried and failed: topo_err, topo_errmsg */
};

struct topo_binding {
	bool		tb_recorded;	/* [r] */
	bool		tb_held;	/* [r] */
	int		tb_pu;		/* [r] logical PU, -1 none */
};

static pthread_mutex_t topo_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t topo_reclock = PTHREAD_MUTEX_INITIALIZER;

static _Atomic int topo_state;			/* enum topo_state, [t] writes */
static int topo_err;				/* [t] init's result */
static char topo_errmsg[192];			/* [t], read once published */
static hwloc_topology_t topo;			/* [I] */
static struct host_topo_summary topo_sum;	/* [I] */
static int *topo_pu_os;				/* [I] os_index by logical PU */
static struct topo_binding topo_bind[HOST_TOPO_MAXCPUS];	/* [r] */

/*
 * A bounded JSON writer: counts what it would write past the end, so the
 * caller learns both that the text was truncated and how long it is.
 */
struct jw {
	char		*jw_buf;
	size_t		jw_len;		/* bytes in jw_buf, NUL included */
	size_t		jw_pos;		/* bytes produced so far */
};

/* local prototypes */
static bool topo_ready(void);
static int topo_discover(void);
static int topo_fail(int err, const char *what);
static int topo_count(hwloc_topology_t t, hwloc_obj_type_t type);
static void topo_describe(struct host_topo_summary *ts);
static void jw_putc(struct jw *w, char c);
static void jw_printf(struct jw *w, const char *fmt, ...) __printflike(2, 3);
static void jw_string(struct jw *w, const char *s);
static int jw_finish(struct jw *w, size_t *needed);

static bool
topo_ready(void)
{
	return atomic_load_explicit(&topo_state, memory_order_acquire) ==
	    TOPO_READY;
}

/*
 * topo_fail: note why discovery failed.
 * => topo_lock held.  Returns err.
 */
static int
topo_fail(int err, const char *what)
{
	char ebuf[96];

	snprintf(topo_errmsg, sizeof(topo_errmsg), "hwloc: %s: %s", what,
	    strerror_r(err, ebuf, sizeof(ebuf)));
	return err;
}

static int
topo_count(hwloc_topology_t t, hwloc_obj_type_t type)
{
	int n = hwloc_get_nbobjs_by_type(t, type);

	/* -1: the type sits at several depths (not for these types). */
	return n < 0 ? 0 : n;
}

static void
topo_describe(struct host_topo_summary *ts)
{
	snprintf(ts->ts_desc, sizeof(ts->ts_desc),
	    "%d package%s, %d core%s, %d PU%s, %d NUMA node%s",
	    ts->ts_npackages, ts->ts_npackages == 1 ? "" : "s",
	    ts->ts_ncores, ts->ts_ncores == 1 ? "" : "s",
	    ts->ts_npus, ts->ts_npus == 1 ? "" : "s",
	    ts->ts_nnuma, ts->ts_nnuma == 1 ? "" : "s");
}

/*
 * topo_discover: load the topology and fill the [I] state.
 * => topo_lock held, topo_state == TOPO_NONE.  Returns 0 or an errno
 *    value with topo_errmsg set; on failure nothing stays allocated.
 */
static int
topo_discover(void)
{
	struct host_topo_summary ts;
	hwloc_topology_t t;
	hwloc_obj_t obj;
	int *pu_os;
	int err, i;

	memset(&ts, 0, sizeof(ts));
	ts.ts_api_compiled = HWLOC_API_VERSION;
	ts.ts_api_runtime = hwloc_get_api_version();

	/* hwloc's own advice: headers and library must share the major. */
	if ((ts.ts_api_runtime >> 16) != (HWLOC_API_VERSION >> 16)) {
		char a[16], b[16];

		snprintf(topo_errmsg, sizeof(topo_errmsg),
		    "hwloc: built against API %s but the library has API %s",
		    host_topo_api_string(ts.ts_api_compiled, a, sizeof(a)),
		    host_topo_api_string(ts.ts_api_runtime, b, sizeof(b)));
		return ENOTSUP;
	}

	if (hwloc_topology_init(&t) != 0)
		return topo_fail(errno != 0 ? errno : ENOMEM,
		    "hwloc_topology_init");
	if (hwloc_topology_load(t) != 0) {
		err = errno != 0 ? errno : EIO;
		hwloc_topology_destroy(t);
		return topo_fail(err, "hwloc_topology_load");
	}

	ts.ts_npus = topo_count(t, HWLOC_OBJ_PU);
	if (ts.ts_npus <= 0) {
		hwloc_topology_destroy(t);
		return topo_fail(ENODEV, "no PU in the topology");
	}
	/*
	 * Some virtual machines expose no package or core objects; count
	 * the machine as one package and each PU as a core rather than
	 * report zeros (hwloc 2 always has at least one NUMA node).
	 */
	ts.ts_npackages = MAX(topo_count(t, HWLOC_OBJ_PACKAGE), 1);
	ts.ts_ncores = topo_count(t, HWLOC_OBJ_CORE);
	if (ts.ts_ncores <= 0)
		ts.ts_ncores = ts.ts_npus;
	ts.ts_nnuma = MAX(topo_count(t, HWLOC_OBJ_NUMANODE), 1);
	topo_describe(&ts);

	pu_os = calloc((size_t)ts.ts_npus, sizeof(*pu_os));
	if (pu_os == NULL) {
		hwloc_topology_destroy(t);
		return topo_fail(ENOMEM, "PU table");
	}
	for (i = 0; i < ts.ts_npus; i++) {
		obj = hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, (unsigned)i);
		pu_os[i] = obj != NULL ? (int)obj->os_index : -1;
	}

	topo = t;
	topo_sum = ts;
	topo_pu_os = pu_os;
	topo_errmsg[0] = '\0';
	return 0;
}

int
host_topo_init(void)
{
	int err;

	if (topo_ready())
		return 0;
	hs_lock(&topo_lock);
	if (atomic_load_explicit(&topo_state, memory_order_relaxed) ==
	    TOPO_NONE) {
		topo_err = topo_discover();
		atomic_store_explicit(&topo_state,
		    topo_err == 0 ? TOPO_READY : TOPO_FAILED,
		    memory_order_release);
	}
	err = topo_err;
	hs_unlock(&topo_lock);
	return err;
}

void
host_topo_fini(void)
{
	hs_lock(&topo_lock);
	if (atomic_load_explicit(&topo_state, memory_order_relaxed) ==
	    TOPO_READY) {
		hwloc_topology_destroy(topo);
		topo = NULL;
		free(topo_pu_os);
		topo_pu_os = NULL;
		memset(&topo_sum, 0, sizeof(topo_sum));
	}
	topo_err = 0;
	topo_errmsg[0] = '\0';
	atomic_store_explicit(&topo_state, TOPO_NONE, memory_order_release);
	hs_unlock(&topo_lock);

	hs_lock(&topo_reclock);
	memset(topo_bind, 0, sizeof(topo_bind));
	hs_unlock(&topo_reclock);
}

bool
host_topo_available(void)
{
	return topo_ready();
}

const char *
host_topo_error(void)
{
	if (atomic_load_explicit(&topo_state, memory_order_acquire) !=
	    TOPO_FAILED)
		return "";
	return topo_errmsg;
}

int
host_topo_get_summary(struct host_topo_summary *ts)
{
	if (!topo_ready())
		return ENODEV;
	*ts = topo_sum;
	return 0;
}

int
host_topo_npus(void)
{
	return topo_ready() ? topo_sum.ts_npus : 0;
}

int
host_topo_pu_os_index(int pu)
{
	if (!topo_ready() || pu < 0 || pu >= topo_sum.ts_npus)
		return -1;
	return topo_pu_os[pu];
}

char *
host_topo_api_string(unsigned version, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", (version >> 16) & 0xffff,
	    (version >> 8) & 0xff, version & 0xff);
	return buf;
}

int
host_topo_pu_for_cpu(int cpu)
{
	if (cpu < 0 || !topo_ready())
		return -1;
	return cpu % topo_sum.ts_npus;
}

int
host_topo_bind_self_to_pu(int pu)
{
	hwloc_bitmap_t set, cur;
	hwloc_obj_t obj;
	int err = 0;

	if (!topo_ready())
		return ENODEV;
	if (pu < 0 || pu >= topo_sum.ts_npus)
		return EINVAL;
	obj = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)pu);
	if (obj == NULL || obj->cpuset == NULL)
		return EINVAL;

	set = hwloc_bitmap_dup(obj->cpuset);
	if (set == NULL)
		return ENOMEM;
	/* A PU's cpuset has one bit already; singlify keeps that true. */
	hwloc_bitmap_singlify(set);
	if (hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD) != 0) {
		err = errno != 0 ? errno : EINVAL;
		goto out;
	}

	/* Did it hold?  Read the calling thread's binding back. */
	cur = hwloc_bitmap_alloc();
	if (cur == NULL) {
		err = ENOMEM;
		goto out;
	}
	if (hwloc_get_cpubind(topo, cur, HWLOC_CPUBIND_THREAD) != 0)
		err = errno != 0 ? errno : EINVAL;
	else if (!hwloc_bitmap_isequal(cur, set))
		err = EXDEV;	/* hwloc's errno for "cannot be enforced" */
	hwloc_bitmap_free(cur);
out:
	hwloc_bitmap_free(set);
	return err;
}

int
host_topo_record_binding(int cpu, int pu, bool held)
{
	if (cpu < 0 || cpu >= HOST_TOPO_MAXCPUS)
		return EINVAL;
	hs_lock(&topo_reclock);
	topo_bind[cpu].tb_recorded = true;
	topo_bind[cpu].tb_pu = pu;
	topo_bind[cpu].tb_held = held;
	hs_unlock(&topo_reclock);
	return 0;
}

int
host_topo_bind_cpu(int cpu, int *pup)
{
	int pu, err;

	if (pup != NULL)
		*pup = -1;
	if (cpu < 0 || cpu >= HOST_TOPO_MAXCPUS)
		return EINVAL;
	pu = host_topo_pu_for_cpu(cpu);
	if (pu < 0)
		return ENODEV;
	err = host_topo_bind_self_to_pu(pu);
	host_topo_record_binding(cpu, pu, err == 0);
	if (pup != NULL)
		*pup = pu;
	return err;
}

/*
 * The JSON writer.
 */

static void
jw_putc(struct jw *w, char c)
{
	if (w->jw_len > 0 && w->jw_pos < w->jw_len - 1)
		w->jw_buf[w->jw_pos] = c;
	w->jw_pos++;
}

static void
jw_printf(struct jw *w, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	room = w->jw_pos < w->jw_len ? w->jw_len - w->jw_pos : 0;
	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? w->jw_buf + w->jw_pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->jw_pos += (size_t)n;
}

/* jw_string: s as a JSON string, quotes included (RFC 8259 escapes). */
static void
jw_string(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;

	jw_putc(w, '"');
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		switch (c) {
		case '"':	jw_putc(w, '\\'); jw_putc(w, '"'); break;
		case '\\':	jw_putc(w, '\\'); jw_putc(w, '\\'); break;
		case '\n':	jw_putc(w, '\\'); jw_putc(w, 'n'); break;
		case '\r':	jw_putc(w, '\\'); jw_putc(w, 'r'); break;
		case '\t':	jw_putc(w, '\\'); jw_putc(w, 't'); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				jw_putc(w, '\\');
				jw_putc(w, 'u');
				jw_putc(w, '0');
				jw_putc(w, '0');
				jw_putc(w, hex[c >> 4]);
				jw_putc(w, hex[c & 0xf]);
			} else {
				/* bytes >= 0x80 pass through: UTF-8 */
				jw_putc(w, (char)c);
			}
		}
	}
	jw_putc(w, '"');
}

/* jw_finish: NUL-terminate; ENOSPC if the text did not fit. */
static int
jw_finish(struct jw *w, size_t *needed)
{
	if (w->jw_len > 0)
		w->jw_buf[MIN(w->jw_pos, w->jw_len - 1)] = '\0';
	if (needed != NULL)
		*needed = w->jw_pos;
	return w->jw_pos < w->jw_len ? 0 : ENOSPC;
}

int
host_topo_json(char *buf, size_t len, size_t *needed)
{
	struct topo_binding rec[HOST_TOPO_MAXCPUS];
	struct jw w = { .jw_buf = buf, .jw_len = len, .jw_pos = 0 };
	const struct host_topo_summary *ts = &topo_sum;
	char vbuf[32];
	bool first;
	int i;

	if (!topo_ready()) {
		const char *why = host_topo_error();

		jw_printf(&w, "{\"available\":false,\"error\":");
		jw_string(&w, why[0] != '\0' ? why : "hwloc not initialised");
		jw_putc(&w, '}');
		return jw_finish(&w, needed);
	}

	hs_lock(&topo_reclock);
	memcpy(rec, topo_bind, sizeof(rec));
	hs_unlock(&topo_reclock);

	jw_printf(&w, "{\"available\":true,\"hwloc_api\":");
	jw_string(&w, host_topo_api_string(ts->ts_api_compiled, vbuf,
	    sizeof(vbuf)));
	snprintf(vbuf, sizeof(vbuf), "0x%08x", ts->ts_api_compiled);
	jw_printf(&w, ",\"hwloc_api_hex\":");
	jw_string(&w, vbuf);
	jw_printf(&w, ",\"hwloc_api_runtime\":");
	jw_string(&w, host_topo_api_string(ts->ts_api_runtime, vbuf,
	    sizeof(vbuf)));
	jw_printf(&w, ",\"packages\":%d,\"cores\":%d,\"pus\":%d,"
	    "\"numa_nodes\":%d,\"summary\":", ts->ts_npackages, ts->ts_ncores,
	    ts->ts_npus, ts->ts_nnuma);
	jw_string(&w, ts->ts_desc);

	jw_printf(&w, ",\"pu_os_index\":[");
	for (i = 0; i < ts->ts_npus; i++)
		jw_printf(&w, "%s%d", i > 0 ? "," : "", topo_pu_os[i]);

	jw_printf(&w, "],\"binding\":[");
	first = true;
	for (i = 0; i < HOST_TOPO_MAXCPUS; i++) {
		if (!rec[i].tb_recorded)
			continue;
		jw_printf(&w, "%s{\"cpu\":%d,\"pu\":%d,\"os_index\":%d,"
		    "\"bound\":%s}", first ? "" : ",", i, rec[i].tb_pu,
		    host_topo_pu_os_index(rec[i].tb_pu),
		    rec[i].tb_held ? "true" : "false");
		first = false;
	}
	jw_printf(&w, "]}");
	return jw_finish(&w, needed);
}
