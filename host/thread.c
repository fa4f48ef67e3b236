/*
 * host/thread.c: the registry of host threads.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsched.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "rcu.h"
#include "thread.h"

__thread struct host_thread *host_curthread;

/* The registry: a plain host lock, below every kernel lock. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct host_thread *registry;
static int registry_nextid;
static pthread_key_t exit_key;
static uint64_t retired_progress;	/* [registry_lock] */
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void
thread_exit_destructor(void *arg __unused)
{
	host_thread_unregister();
}

static void
exit_key_init(void)
{
	if (pthread_key_create(&exit_key, thread_exit_destructor) != 0)
		panic("host_thread: pthread_key_create failed");
}

/* ent: its entity under the deterministic scheduler (its token held) */
static struct host_thread *
thread_register(const char *name, struct dsched_ent *ent)
{
	struct host_thread *ht;

	ht = calloc(1, sizeof(*ht));
	if (ht == NULL)
		panic("host_thread: out of host memory registering %s", name);
	{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ht->ht_sleepcv, &ca);
	pthread_cond_init(&ht->ht_cpucv, &ca);
	pthread_condattr_destroy(&ca);
	}
	ht->ht_pthread = pthread_self();
	ht->ht_boundcpu = -1;
	hs_lock(&registry_lock);
	ht->ht_id = registry_nextid++;
	if (name != NULL)
		snprintf(ht->ht_name, sizeof(ht->ht_name), "%s", name);
	else
		snprintf(ht->ht_name, sizeof(ht->ht_name), "thread%d", ht->ht_id);
	host_rng_init(&ht->ht_rng, host_rng_seed(), 0x7e000000ull + (uint64_t)ht->ht_id);
	ht->ht_next = registry;
	registry = ht;
	hs_unlock(&registry_lock);

	host_rcu_register();
	ht->ht_rcu = true;
	pthread_once(&exit_key_once, exit_key_init);
	pthread_setspecific(exit_key, ht);
	host_curthread = ht;
	ht->ht_ds = ent;	/* from here its events are scheduling points */
	host_hook(HE_THREAD_START, ht, 0, __FILE__, __LINE__);
	return ht;
}

struct host_thread *
host_thread_self(void)
{
	struct host_thread *ht = host_curthread;

	if (__predict_true(ht != NULL))
		return ht;
	return thread_register(NULL, NULL);
}

void
host_thread_unregister(void)
{
	struct host_thread *ht = host_curthread, **pp;

	if (ht == NULL)
		return;
	KASSERTMSG(ht->ht_nheld == 0, "thread %s exits holding %d locks",
	    ht->ht_name, ht->ht_nheld);
	host_hook(HE_THREAD_EXIT, ht, 0, __FILE__, __LINE__);
	if (ht->ht_rcu)
		host_rcu_unregister();
	hs_lock(&registry_lock);
	for (pp = &registry; *pp != NULL; pp = &(*pp)->ht_next) {
		if (*pp == ht) {
			*pp = ht->ht_next;
			break;
		}
	}
	/* its progress stays counted: the sum never goes down */
	retired_progress += __atomic_load_n(&ht->ht_progress, __ATOMIC_RELAXED);
	hs_unlock(&registry_lock);
	if (ht->ht_ds != NULL) {
		/*
		 * Last, with nothing shared left to touch: the token goes on,
		 * and what remains runs beside its next holder.
		 */
		struct dsched_ent *e = ht->ht_ds;

		ht->ht_ds = NULL;
		dsched_ent_exit(e);
	}
	pthread_setspecific(exit_key, NULL);
	host_curthread = NULL;
	pthread_cond_destroy(&ht->ht_sleepcv);
	pthread_cond_destroy(&ht->ht_cpucv);
	free(ht);
}

struct thread_start {
	void		*(*fn)(void *);
	void		*arg;
	sigset_t	mask;		/* the creator's mask, restored */
	char		name[32];
	struct dsched_ent *ent;		/* its entity, or NULL: free */
};

static void *
thread_trampoline(void *v)
{
	struct thread_start ts = *(struct thread_start *)v;

	free(v);
	if (ts.ent != NULL)
		dsched_ent_enter(ts.ent);	/* wait for the token */
	(void)thread_register(ts.name, ts.ent);
	pthread_sigmask(SIG_SETMASK, &ts.mask, NULL);
	return ts.fn(ts.arg);
}

int
host_thread_create(pthread_t *tid, const char *name, void *(*fn)(void *),
    void *arg)
{
	struct thread_start *ts;
	struct dsched_ent *ent = NULL;
	sigset_t all, old;
	int error;

	ts = calloc(1, sizeof(*ts));
	if (ts == NULL)
		return ENOMEM;
	ts->fn = fn;
	ts->arg = arg;
	snprintf(ts->name, sizeof(ts->name), "%s", name);
	/* under the deterministic scheduler: runnable in creation order */
	if (dsched_self())
		ts->ent = ent = dsched_ent_new(name);
	/* Signals stay blocked until the thread is registered (RCU, TLS). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ts->mask = old;
	error = pthread_create(tid, NULL, thread_trampoline, ts);
	/* ts belongs to the new thread now: restore from our copy */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		if (ent != NULL)
			dsched_ent_discard(ent);
		free(ts);
	} else if (ent != NULL) {
		dsched_ent_set_pthread(ent, *tid);	/* before it can run */
	}
	return error;
}

uint64_t
host_thread_progress_sum(void)
{
	struct host_thread *ht;
	uint64_t sum;

	hs_lock(&registry_lock);
	sum = retired_progress;
	for (ht = registry; ht != NULL; ht = ht->ht_next)
		sum += __atomic_load_n(&ht->ht_progress, __ATOMIC_RELAXED);
	hs_unlock(&registry_lock);
	return sum;
}

void
host_thread_foreach(void (*fn)(struct host_thread *, void *), void *arg)
{
	struct host_thread *ht;

	hs_lock(&registry_lock);
	for (ht = registry; ht != NULL; ht = ht->ht_next)
		fn(ht, arg);
	hs_unlock(&registry_lock);
}

#define LD(p)	__atomic_load_n((p), __ATOMIC_RELAXED)

void
host_thread_dump_held(const struct host_thread *ht)
{
	int i, n = LD(&ht->ht_nheld);

	if (n > HOST_HELD_MAX)
		n = HOST_HELD_MAX;
	for (i = 0; i < n; i++) {
		const struct held_lock *hl = &ht->ht_held[i];
		const struct lock_object *lo = LD(&hl->hl_lock);

		host_printf("    holds %s %p (%s) from %s:%d\n",
		    lo != NULL ? lo->lo_name : "?", (const void *)lo,
		    LD(&hl->hl_mode) == LM_SHARED ? "shared" : "exclusive",
		    LD(&hl->hl_file) ? LD(&hl->hl_file) : "?", LD(&hl->hl_line));
	}
}

static void
dump_one(struct host_thread *ht, void *arg __unused)
{
	char lbuf[160] = "", dbuf[96];
	const void *wchan = LD(&ht->ht_wchan);
	const char *wmesg = LD(&ht->ht_wmesg);
	struct lwp *l = LD(&ht->ht_lwp);

	if (l != NULL)
		lwp_describe(l, lbuf, sizeof(lbuf));
	dsched_describe(ht, dbuf, sizeof(dbuf));
	host_printf("  thread %d %s%s%s: wchan %p (%s), %d locks held%s%s\n",
	    ht->ht_id, ht->ht_name, lbuf[0] ? " " : "", lbuf, wchan,
	    wmesg != NULL ? wmesg : "-", LD(&ht->ht_nheld),
	    dbuf[0] ? "; " : "", dbuf);
	host_thread_dump_held(ht);
}

void
host_thread_dump_all(void)
{
	host_thread_foreach(dump_one, NULL);
}
