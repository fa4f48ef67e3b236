/*
 * stress/timing.c: where the time goes (see timing.h).
 *
 * Per-thread state is thread-local and written by its thread only (the
 * hook runs on the thread the event happens on, in the SIGSEGV handler
 * too).  A timed thread also owns a slot: its state, since when, and its
 * time per state, written by that thread only under the slot's sequence
 * count (odd while it writes) and read by timing_snapshot() from any
 * thread, which retries until it reads the same even count before and
 * after.  Totals and lock classes are relaxed atomics.  Nothing here
 * sleeps, locks or allocates.
 */
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "host/buf.h"
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

/* A timed thread's slot. */
struct slot {
	int		ready;		/* [a] published: role is set */
	int		role;		/* [I] TR_* once ready */
	uint32_t	seq;		/* [a] odd while its thread writes */
	int		state;		/* [seq] TS_*, -1: the thread is gone */
	uint64_t	since;		/* [seq] in state since */
	uint64_t	ns[TS_NSTATES];	/* [seq] time per state, up to since */
};

struct tl_state {
	enum role	role;
	struct slot	*slot;		/* timed: its slot, else NULL */
	int		trap_depth;
	const void	*lock_obj;	/* the lock waited for, NULL: none */
	uint64_t	lock_t0;
	bool		sleeping;	/* HE_SLEEP/HE_CV_WAIT to its DONE */
	const void	*sleep_obj;	/* its wait channel (or cv) */
	enum sleep_kind	sleep_kind;
	bool		sleep_in_trap;
	bool		offcpu;		/* runnable, off a CPU, not waiting */
	const void	*read_bp;	/* a polled read it runs, NULL: none */
};

static __thread struct tl_state tl;

static struct slot slots[TIMING_MAXSLOT];
static int nslots;			/* [a] slots claimed (may pass MAX) */

/* Totals [a]. */
static struct {
	uint64_t	start_ns;	/* [I] timing_start */
	uint64_t	traps, reads;
	uint64_t	memwaits, pagewaits, iowaits, wlocks;
	uint64_t	lock_ns, locks;
	uint64_t	mmu_ns[R_OTHER + 1];	/* host MMU calls, by role */
} tot;

/* Lock classes: a name claimed once per slot with a CAS. */
static struct {
	const char	*name;		/* [a] NULL: free */
	uint64_t	waits;		/* [a] */
	uint64_t	ns;		/* [a] */
} classes[TIMING_MAXCLASS];

static const struct {
	const char	*key;		/* the JSON's, with _s */
	const char	*words;
} state_names[TS_NSTATES] = {
	[TS_RUN] = { "run", "on a CPU outside faults" },
	[TS_PREEMPTED] = { "preempted", "preempted outside faults "
	    "(runnable without a CPU)" },
	[TS_SLEEP] = { "sleep", "asleep outside faults" },
	[TS_LOCK] = { "lock_wait", "waiting for locks outside faults" },
	[TS_FAULT_CPU] = { "fault_cpu", "fault handling on the CPU "
	    "(VM code, host mmap)" },
	[TS_FAULT_READ] = { "fault_swapin_read", "reading swap in faults "
	    "(polled swap-in reads)" },
	[TS_FAULT_MEMWAIT] = { "fault_memory_wait", "waiting in faults for "
	    "free memory (uvm_wait)" },
	[TS_FAULT_PAGEWAIT] = { "fault_page_wait", "waiting in faults for "
	    "busy pages" },
	[TS_FAULT_SLEEP] = { "fault_sleep", "sleeping in faults (queued "
	    "I/O and other sleeps)" },
	[TS_FAULT_LOCK] = { "fault_lock_wait", "waiting for locks in "
	    "faults" },
	[TS_FAULT_PREEMPTED] = { "fault_preempted", "preempted in faults "
	    "(runnable without a CPU)" },
};

#define LD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define ST(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/* local prototypes */
static void timing_hook(enum hook_ev ev, const void *obj, uintptr_t arg);
static enum role role_of(struct host_thread *ht);
static enum sleep_kind sleep_kind_of(const void *ident);
static void class_add(const char *name, uint64_t ns);
static void sleep_done(void);
static enum timing_state state_now(void);
static struct slot *slot_claim(enum role role, enum timing_state state,
    uint64_t since);
static void slot_switch(struct slot *s, int state, uint64_t now);

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

/* sleep_done: a worker's sleep in a trap ends: count it by kind. */
static void
sleep_done(void)
{
	if (tl.role != R_WORKER || !tl.sleep_in_trap)
		return;
	switch (tl.sleep_kind) {
	case SK_MEM:
		ADD(&tot.memwaits, 1);
		break;
	case SK_PAGE:
		ADD(&tot.pagewaits, 1);
		break;
	default:
		ADD(&tot.iowaits, 1);
		break;
	}
}

/*
 * state_now: the thread's state from its flags.  A sleep covers the lock
 * waits and the time off a CPU within it; a lock wait the time off a CPU
 * within it; a polled read counts only in a trap.
 */
static enum timing_state
state_now(void)
{
	bool f = tl.trap_depth > 0;

	if (tl.sleeping) {
		if (!tl.sleep_in_trap)
			return TS_SLEEP;
		switch (tl.sleep_kind) {
		case SK_MEM:
			return TS_FAULT_MEMWAIT;
		case SK_PAGE:
			return TS_FAULT_PAGEWAIT;
		default:
			return TS_FAULT_SLEEP;
		}
	}
	if (tl.lock_obj != NULL)
		return f ? TS_FAULT_LOCK : TS_LOCK;
	if (tl.offcpu)
		return f ? TS_FAULT_PREEMPTED : TS_PREEMPTED;
	if (f && tl.read_bp != NULL)
		return TS_FAULT_READ;
	return f ? TS_FAULT_CPU : TS_RUN;
}

/* slot_claim: a slot for the calling thread, or NULL (all taken). */
static struct slot *
slot_claim(enum role role, enum timing_state state, uint64_t since)
{
	struct slot *s;
	int i;

	i = __atomic_fetch_add(&nslots, 1, __ATOMIC_RELAXED);
	if (i >= TIMING_MAXSLOT)
		return NULL;		/* not timed: its time goes unseen */
	s = &slots[i];
	s->role = role == R_WORKER ? TR_WORKER : role == R_PAGEDAEMON ?
	    TR_PAGEDAEMON : TR_AIODONED;
	ST(&s->state, (int)state);
	ST(&s->since, since);
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	return s;
}

/*
 * slot_switch: charge the time since the last switch to the slot's
 * state and enter state (-1: the thread is gone).
 * => the slot's own thread only
 */
static void
slot_switch(struct slot *s, int state, uint64_t now)
{
	uint32_t q = LD(&s->seq);
	int cur = LD(&s->state);
	uint64_t since = LD(&s->since);

	if (cur == state)
		return;
	ST(&s->seq, q + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (cur >= 0 && now > since)
		ST(&s->ns[cur], LD(&s->ns[cur]) + (now - since));
	ST(&s->state, state);
	ST(&s->since, now);
	__atomic_store_n(&s->seq, q + 2, __ATOMIC_RELEASE);
}

/*
 * timing_hook: every event of the machine.
 * => never sleeps, locks or allocates; safe in the SIGSEGV handler
 */
static void
timing_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	struct host_thread *ht = host_curthread;
	const struct buf *bp;
	uint64_t now = 0;
	bool changed = false;

	if (tl.role == R_UNKNOWN && ht != NULL) {
		tl.role = role_of(ht);
		if (tl.role == R_PAGEDAEMON || tl.role == R_AIODONED) {
			/* first seen waking: asleep since timing began */
			if (ev == HE_SLEEP_DONE) {
				tl.sleeping = true;
				tl.sleep_obj = obj;
				tl.sleep_kind = SK_OTHER;
				tl.sleep_in_trap = false;
				tl.slot = slot_claim(tl.role, TS_SLEEP,
				    tot.start_ns);
			} else
				tl.slot = slot_claim(tl.role, TS_RUN,
				    host_real_ns());
		}
	}
	switch (ev) {
	case HE_TRAP_ENTER:
		if (tl.slot != NULL && tl.trap_depth++ == 0) {
			if (tl.role == R_WORKER)
				ADD(&tot.traps, 1);
			changed = true;
		}
		break;
	case HE_TRAP_EXIT:
		if (tl.slot != NULL && tl.trap_depth > 0 &&
		    --tl.trap_depth == 0) {
			tl.read_bp = NULL;
			changed = true;
		}
		break;
	case HE_LOCK_WAIT:
		/* nested (a wait on the way to the CPU): part of this one */
		if (tl.lock_obj == NULL) {
			tl.lock_obj = obj;
			tl.lock_t0 = now = host_real_ns();
			changed = true;
		}
		break;
	case HE_LOCK:
		/* only the lock waited for ends the wait (not lwp_lock) */
		if (tl.lock_obj != NULL && obj == tl.lock_obj) {
			const char *name = NULL;
			uint64_t d;
			int n;

			now = host_real_ns();
			d = now - tl.lock_t0;
			/* the lock just taken is the top of the held stack */
			n = ht != NULL ? ht->ht_nheld : 0;
			if (n > 0 && ht->ht_held[n - 1].hl_lock != NULL)
				name = ht->ht_held[n - 1].hl_lock->lo_name;
			ADD(&tot.lock_ns, d);
			ADD(&tot.locks, 1);
			class_add(name, d);
			if (tl.role == R_WORKER && tl.trap_depth > 0 &&
			    !tl.sleeping)
				ADD(&tot.wlocks, 1);
			tl.lock_obj = NULL;
			changed = true;
		}
		break;
	case HE_SLEEP:
	case HE_CV_WAIT:
		if (tl.sleeping)
			break;		/* nested (cv_wait inside a sleep) */
		tl.sleeping = true;
		tl.sleep_obj = obj;
		tl.sleep_kind = ev == HE_SLEEP ? sleep_kind_of(obj) : SK_OTHER;
		tl.sleep_in_trap = tl.trap_depth > 0;
		tl.read_bp = NULL;	/* a read waited for is not run here */
		changed = true;
		break;
	case HE_SLEEP_DONE:
		if (tl.sleeping && obj == tl.sleep_obj) {
			sleep_done();
			tl.sleeping = false;
			changed = true;
		}
		break;
	case HE_CPU_RELEASE:
		/* runnable, off the CPU: preempted (not asleep, not a lock) */
		if (!tl.sleeping && tl.lock_obj == NULL) {
			tl.offcpu = true;
			changed = true;
		}
		break;
	case HE_CPU_ACQUIRE:
		if (tl.offcpu) {
			tl.offcpu = false;
			changed = true;
		}
		break;
	case HE_DISK_SUBMIT:
		/* a synchronous read accepted here is run here (polled) */
		bp = obj;
		if (tl.slot != NULL && tl.trap_depth > 0 && tl.read_bp == NULL &&
		    bp != NULL && (bp->b_flags & (B_READ | B_ASYNC)) == B_READ) {
			tl.read_bp = obj;
			changed = true;
		}
		break;
	case HE_DISK_DONE:
		if (tl.read_bp != NULL && obj == tl.read_bp) {
			if (tl.role == R_WORKER)
				ADD(&tot.reads, 1);
			tl.read_bp = NULL;
			changed = true;
		}
		break;
	case HE_MMU_CALL:
		ADD(&tot.mmu_ns[tl.role], (uint64_t)arg);
		break;
	case HE_THREAD_EXIT:
		if (tl.slot != NULL) {
			slot_switch(tl.slot, -1, host_real_ns());
			tl.slot = NULL;
		}
		break;
	default:
		break;
	}
	if (changed && tl.slot != NULL)
		slot_switch(tl.slot, (int)state_now(),
		    now != 0 ? now : host_real_ns());
}

void
timing_start(void)
{
	memset(&tot, 0, sizeof(tot));
	memset(classes, 0, sizeof(classes));
	memset(slots, 0, sizeof(slots));
	ST(&nslots, 0);
	tot.start_ns = host_real_ns();
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
	if (tl.slot == NULL)
		tl.slot = slot_claim(R_WORKER, state_now(), host_real_ns());
}

void
timing_snapshot(struct timing_snap *ts)
{
	uint64_t now = host_real_ns(), ns[TS_NSTATES], since;
	uint32_t s1, s2;
	int i, k, n, state, tries;

	memset(ts, 0, sizeof(*ts));
	ts->ts_ns = now;
	n = __atomic_load_n(&nslots, __ATOMIC_RELAXED);
	n = n < TIMING_MAXSLOT ? n : TIMING_MAXSLOT;
	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
			continue;	/* being claimed: nothing to count yet */
		for (tries = 0;; tries++) {
			s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
			for (k = 0; k < TS_NSTATES; k++)
				ns[k] = LD(&s->ns[k]);
			state = LD(&s->state);
			since = LD(&s->since);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = LD(&s->seq);
			if ((s1 == s2 && (s1 & 1) == 0) || tries > 100000)
				break;
			if (tries > 64)
				sched_yield();	/* the writer lost its CPU */
		}
		/* the state it is in now counts up to now */
		if (state >= 0 && now > since)
			ns[state] += now - since;
		for (k = 0; k < TS_NSTATES; k++)
			ts->ts_state_ns[s->role][k] += ns[k];
		ts->ts_threads[s->role]++;
	}
	ts->ts_traps = LD(&tot.traps);
	ts->ts_reads = LD(&tot.reads);
	ts->ts_memwaits = LD(&tot.memwaits);
	ts->ts_pagewaits = LD(&tot.pagewaits);
	ts->ts_iowaits = LD(&tot.iowaits);
	ts->ts_wlocks = LD(&tot.wlocks);
	ts->ts_lock_ns = LD(&tot.lock_ns);
	ts->ts_locks = LD(&tot.locks);
	ts->ts_mmu_worker_ns = LD(&tot.mmu_ns[R_WORKER]);
	ts->ts_mmu_pd_ns = LD(&tot.mmu_ns[R_PAGEDAEMON]);
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

const char *
timing_state_key(enum timing_state s)
{
	return (unsigned)s < TS_NSTATES ? state_names[s].key : "?";
}

const char *
timing_state_words(enum timing_state s)
{
	return (unsigned)s < TS_NSTATES ? state_names[s].words : "?";
}
