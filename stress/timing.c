/*
 * stress/timing.c: where the time goes (see timing.h).
 *
 * Per-thread state is thread-local and written by its thread only (the
 * hook runs on the thread the event happens on, in the SIGSEGV handler
 * too); the totals are relaxed atomics.  Nothing here sleeps, locks or
 * allocates.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "host/clock.h"
#include "host/hook.h"
#include "host/lwp.h"
#include "host/mutex.h"
#include "host/rwlock.h"
#include "host/thread.h"
#include "timing.h"
#include "vm/uvm.h"

enum role { R_UNKNOWN = 0, R_WORKER, R_PAGEDAEMON, R_AIODONED, R_OTHER };

enum sleep_kind { SK_NONE = 0, SK_MEM, SK_PAGE, SK_OTHER };

struct tl_state {
	enum role	role;
	int		trap_depth;
	uint64_t	trap_t0;	/* outermost trap entry */
	uint64_t	lock_t0;	/* HE_LOCK_WAIT, 0: not waiting */
	uint64_t	sleep_t0;	/* HE_SLEEP/HE_CV_WAIT, 0: awake */
	enum sleep_kind	sleep_kind;
	bool		sleep_in_trap;
	uint64_t	cpu_t0;		/* HE_CPU_RELEASE while runnable */
};

static __thread struct tl_state tl;

/* Totals [a]. */
static struct {
	uint64_t	trap_ns, traps;
	uint64_t	memwait_ns, memwaits;
	uint64_t	pagewait_ns, pagewaits;
	uint64_t	iowait_ns, iowaits;
	uint64_t	wlock_ns, wlocks;
	uint64_t	cpuwait_ns;
	uint64_t	lock_ns, locks;
	uint64_t	pd_sleep_ns, aio_sleep_ns;
	uint64_t	pd_since, aio_since;	/* asleep since, 0: awake */
	uint64_t	pd_lock_ns;
	uint64_t	mmu_ns[R_OTHER + 1];	/* host MMU calls, by role */
} tot;

/* Lock classes: a name claimed once per slot with a CAS. */
static struct {
	const char	*name;		/* [a] NULL: free */
	uint64_t	waits;		/* [a] */
	uint64_t	ns;		/* [a] */
} classes[TIMING_MAXCLASS];

#define LD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define ST(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/* local prototypes */
static void timing_hook(enum hook_ev ev, const void *obj, uintptr_t arg);
static enum role role_of(struct host_thread *ht);
static enum sleep_kind sleep_kind_of(const void *ident);
static void class_add(const char *name, uint64_t ns);
static void sleep_end(uint64_t now);

static enum role
role_of(struct host_thread *ht)
{
	struct lwp *l = ht->ht_lwp;

	if (l == NULL)
		return R_UNKNOWN;	/* not an LWP (yet): ask again */
	if (strcmp(l->l_name, "pagedaemon") == 0)
		return R_PAGEDAEMON;
	if (strcmp(l->l_name, "aiodoned") == 0)
		return R_AIODONED;
	return R_OTHER;
}

static enum sleep_kind
sleep_kind_of(const void *ident)
{
	const char *p = ident, *pa = (const char *)vm_page_array;

	if (ident == &uvmexp.free)
		return SK_MEM;
	if (pa != NULL && p >= pa &&
	    p < pa + vm_npages * sizeof(struct vm_page))
		return SK_PAGE;
	return SK_OTHER;
}

static void
class_add(const char *name, uint64_t ns)
{
	const char *cur;
	int i;

	if (name == NULL)
		name = "?";
	for (i = 0; i < TIMING_MAXCLASS; i++) {
		cur = __atomic_load_n(&classes[i].name, __ATOMIC_ACQUIRE);
		if (cur == NULL) {
			const char *expect = NULL;

			if (!__atomic_compare_exchange_n(&classes[i].name,
			    &expect, name, false, __ATOMIC_ACQ_REL,
			    __ATOMIC_ACQUIRE))
				cur = expect;
			else
				cur = name;
		}
		if (cur == name || strcmp(cur, name) == 0) {
			ADD(&classes[i].waits, 1);
			ADD(&classes[i].ns, ns);
			return;
		}
	}
	/* the table is full: the totals still count it */
}

static void
sleep_end(uint64_t now)
{
	uint64_t d = now - tl.sleep_t0;

	switch (tl.role) {
	case R_WORKER:
		if (!tl.sleep_in_trap)
			break;
		switch (tl.sleep_kind) {
		case SK_MEM:
			ADD(&tot.memwait_ns, d);
			ADD(&tot.memwaits, 1);
			break;
		case SK_PAGE:
			ADD(&tot.pagewait_ns, d);
			ADD(&tot.pagewaits, 1);
			break;
		default:
			ADD(&tot.iowait_ns, d);
			ADD(&tot.iowaits, 1);
			break;
		}
		break;
	case R_PAGEDAEMON:
		ADD(&tot.pd_sleep_ns, d);
		ST(&tot.pd_since, 0);
		break;
	case R_AIODONED:
		ADD(&tot.aio_sleep_ns, d);
		ST(&tot.aio_since, 0);
		break;
	default:
		break;
	}
	tl.sleep_t0 = 0;
}

/*
 * timing_hook: every event of the machine.
 * => never sleeps, locks or allocates; safe in the SIGSEGV handler
 */
static void
timing_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	struct host_thread *ht = host_curthread;
	uint64_t now;

	if (tl.role == R_UNKNOWN && ht != NULL)
		tl.role = role_of(ht);
	switch (ev) {
	case HE_TRAP_ENTER:
		if (tl.role == R_WORKER && tl.trap_depth++ == 0)
			tl.trap_t0 = host_real_ns();
		break;
	case HE_TRAP_EXIT:
		if (tl.role == R_WORKER && tl.trap_depth > 0 &&
		    --tl.trap_depth == 0) {
			ADD(&tot.trap_ns, host_real_ns() - tl.trap_t0);
			ADD(&tot.traps, 1);
		}
		break;
	case HE_LOCK_WAIT:
		tl.lock_t0 = host_real_ns();
		break;
	case HE_LOCK:
		if (tl.lock_t0 != 0) {
			const char *name = NULL;
			int n;

			now = host_real_ns();
			/* the lock just taken is the top of the held stack */
			n = ht != NULL ? ht->ht_nheld : 0;
			if (n > 0 && ht->ht_held[n - 1].hl_lock != NULL)
				name = ht->ht_held[n - 1].hl_lock->lo_name;
			ADD(&tot.lock_ns, now - tl.lock_t0);
			ADD(&tot.locks, 1);
			class_add(name, now - tl.lock_t0);
			if (tl.role == R_WORKER && tl.trap_depth > 0) {
				ADD(&tot.wlock_ns, now - tl.lock_t0);
				ADD(&tot.wlocks, 1);
			} else if (tl.role == R_PAGEDAEMON)
				ADD(&tot.pd_lock_ns, now - tl.lock_t0);
			tl.lock_t0 = 0;
		}
		break;
	case HE_SLEEP:
	case HE_CV_WAIT:
		if (tl.sleep_t0 != 0)
			break;		/* nested (cv_wait inside a sleep) */
		tl.sleep_t0 = host_real_ns();
		tl.sleep_kind = ev == HE_SLEEP ? sleep_kind_of(obj) : SK_OTHER;
		tl.sleep_in_trap = tl.trap_depth > 0;
		if (tl.role == R_PAGEDAEMON)
			ST(&tot.pd_since, tl.sleep_t0);
		else if (tl.role == R_AIODONED)
			ST(&tot.aio_since, tl.sleep_t0);
		break;
	case HE_SLEEP_DONE:
		if (tl.sleep_t0 != 0)
			sleep_end(host_real_ns());
		break;
	case HE_CPU_RELEASE:
		/* runnable, off the CPU: preempted (not asleep, not a lock) */
		if (tl.role == R_WORKER && tl.sleep_t0 == 0 && tl.lock_t0 == 0)
			tl.cpu_t0 = host_real_ns();
		break;
	case HE_CPU_ACQUIRE:
		if (tl.cpu_t0 != 0) {
			ADD(&tot.cpuwait_ns, host_real_ns() - tl.cpu_t0);
			tl.cpu_t0 = 0;
		}
		break;
	case HE_MMU_CALL:
		ADD(&tot.mmu_ns[tl.role], (uint64_t)arg);
		break;
	default:
		break;
	}
	(void)arg;
}

void
timing_start(void)
{
	memset(&tot, 0, sizeof(tot));
	memset(classes, 0, sizeof(classes));
	host_set_sched_hook(timing_hook);
}

void
timing_stop(void)
{
	host_set_sched_hook(NULL);
}

void
timing_worker_begin(void)
{
	tl.role = R_WORKER;
}

void
timing_snapshot(struct timing_snap *ts)
{
	uint64_t now = host_real_ns(), since;

	memset(ts, 0, sizeof(*ts));
	ts->ts_ns = now;
	ts->ts_trap_ns = LD(&tot.trap_ns);
	ts->ts_traps = LD(&tot.traps);
	ts->ts_memwait_ns = LD(&tot.memwait_ns);
	ts->ts_memwaits = LD(&tot.memwaits);
	ts->ts_pagewait_ns = LD(&tot.pagewait_ns);
	ts->ts_pagewaits = LD(&tot.pagewaits);
	ts->ts_iowait_ns = LD(&tot.iowait_ns);
	ts->ts_iowaits = LD(&tot.iowaits);
	ts->ts_wlock_ns = LD(&tot.wlock_ns);
	ts->ts_wlocks = LD(&tot.wlocks);
	ts->ts_cpuwait_ns = LD(&tot.cpuwait_ns);
	ts->ts_lock_ns = LD(&tot.lock_ns);
	ts->ts_locks = LD(&tot.locks);
	ts->ts_pd_lock_ns = LD(&tot.pd_lock_ns);
	ts->ts_mmu_worker_ns = LD(&tot.mmu_ns[R_WORKER]);
	ts->ts_mmu_pd_ns = LD(&tot.mmu_ns[R_PAGEDAEMON]);
	/* a sleep in progress counts up to now */
	since = LD(&tot.pd_since);
	ts->ts_pd_sleep_ns = LD(&tot.pd_sleep_ns) +
	    (since != 0 && since < now ? now - since : 0);
	since = LD(&tot.aio_since);
	ts->ts_aio_sleep_ns = LD(&tot.aio_sleep_ns) +
	    (since != 0 && since < now ? now - since : 0);
}

int
timing_classes(struct timing_class *out, int max)
{
	struct timing_class t;
	int i, j, n = 0;

	for (i = 0; i < TIMING_MAXCLASS && n < max; i++) {
		const char *name = __atomic_load_n(&classes[i].name,
		    __ATOMIC_ACQUIRE);

		if (name == NULL)
			break;
		out[n].tc_name = name;
		out[n].tc_waits = LD(&classes[i].waits);
		out[n].tc_ns = LD(&classes[i].ns);
		n++;
	}
	for (i = 1; i < n; i++)		/* insertion sort, most time first */
		for (j = i; j > 0 && out[j].tc_ns > out[j - 1].tc_ns; j--) {
			t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}
