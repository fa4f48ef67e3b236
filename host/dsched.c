/*
 * host/dsched.c: the deterministic scheduler (see dsched.h).
 *
 * The token: ds.cur is the entity that may run; every other entity waits
 * on its own condition variable under ds_lock until it is handed the
 * token.  An entity is runnable (on the dense array rq[], in an order that
 * depends only on the sequence of events), blocked (on a wait queue keyed
 * by the object it waits for, FIFO, and with a virtual deadline or none)
 * or gone.  Strategies:
 *
 *  - random: each step, a runnable entity uniformly;
 *  - PCT: each entity a random priority (>= d) when it is made; the
 *    highest runnable runs; at d - 1 change points drawn uniformly from
 *    [1, k] steps, the running entity's priority drops below all the
 *    initial ones (to d - 1 - i at the i-th, above DS_PCT_CP); a failed
 *    try (a retry loop) or a quantum of steps run (blocked or not) drops the
 *    entity below every other, as a yield or an expired time slice does;
 *  - POS: each entity's pending event (the hook point it is parked at) a
 *    random priority; the highest runs; once it has run, its new event
 *    and every pending event on the same object (the events that race
 *    with the one it ran) get fresh priorities, as does an entity woken.
 *
 * A failed try (HE_TRYLOCK with arg 0) passes the token on to another
 * runnable entity, whatever the strategy: retry loops (the pagedaemon's
 * trylocks, pv_foreach) then let the holder run instead of spinning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dsched.h"
#include "kassert.h"
#include "rng.h"
#include "thread.h"

#define DS_WQ_HASH	1024
#define DS_STEP_NS	1000ull		/* 1 us of virtual time per step */
#define DS_PCT_MAXCP	64
#define DS_PCT_QUANTUM	100000		/* steps: 100 ms of virtual time */
/*
 * PCT's priority bands, highest first: initial priorities (top bit set),
 * change points (DS_PCT_CP + d - 1 down to DS_PCT_CP + 1), yields and
 * expired quanta (below DS_PCT_CP, each lower than the last).
 */
#define DS_PCT_CP	(1ull << 40)
#define DS_EV_BLOCK	(HE_NKINDS + 1)	/* trace codes beyond the hook's */
#define DS_EV_EXIT	(HE_NKINDS + 2)

enum de_state { DE_RUNNABLE = 1, DE_BLOCKED, DE_GONE };

struct dsched_ent {
	int		de_id;		/* [I] creation order */
	uint64_t	de_gen;		/* [I] the run it belongs to */
	char		de_name[32];	/* [I] */
	pthread_t	de_pthread;	/* [I] once set */
	bool		de_has_pthread;
	enum de_state	de_state;	/* [ds] */
	int		de_rqidx;	/* [ds] index in rq, -1 off */
	const void	*de_wobj;	/* [ds] blocked on */
	struct dsched_ent *de_wnext;	/* [ds] wait queue */
	uint64_t	de_deadline;	/* [ds] virtual, 0 none */
	bool		de_timedout;	/* [ds] */
	uint64_t	de_prio;	/* [ds] PCT and POS */
	uint64_t	de_ran;		/* [ds] PCT: steps run since its last
					   yield or expired quantum */
	const void	*de_pobj;	/* [ds] POS: its pending event's object */
	pthread_cond_t	de_cv;		/* [ds] token hand-off */
};

struct ds_wq {
	struct dsched_ent *head, *tail;
};

atomic_bool dsched_on;

static const char ds_anchor[] = "dsched";	/* file sites hash from here */

static pthread_mutex_t ds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct dsched_config cfg;
	struct host_rng	rng;
	struct dsched_ent *cur;		/* the token holder, NULL: none */
	struct dsched_ent **ents;	/* every entity ever, by id */
	int		nents, maxents;
	struct dsched_ent **rq;		/* runnable */
	int		nrq, maxrq;
	struct ds_wq	wq[DS_WQ_HASH];
	uint64_t	next_deadline;	/* <= every live deadline */
	int		ntimed;
	_Atomic uint64_t vnow;		/* host time, written under ds_lock */
	uint64_t	vbase;		/* vnow at the start */
	uint64_t	step_ns;
	_Atomic uint64_t steps;
	uint64_t	switches, blocks, timeouts, idle_jumps, resamples;
	uint64_t	hash;
	_Atomic uint64_t exhausted_step;
	/* PCT */
	uint64_t	cp[DS_PCT_MAXCP];
	int		ncp, nextcp;
	uint64_t	pct_low;	/* the next yielder's priority */
	/* decisions */
	uint32_t	*dec;
	size_t		ndec, maxdec;
	size_t		replay_at;
	uint64_t	diverged_step;
	char		diverged[160];
	uint64_t	gen;		/* runs started: entities' de_gen */
	bool		deadlocked;	/* stopped by a deadlock */
} ds;

/* local prototypes */
static void hash_add(uint64_t v);
static struct ds_wq *wq_of(const void *obj);
static void rq_add(struct dsched_ent *e);
static void rq_remove(struct dsched_ent *e);
static void make_runnable(struct dsched_ent *e, bool timedout);
static void expire(void);
static struct dsched_ent *pick(struct dsched_ent *self, bool avoid_self);
static struct dsched_ent *pick_or_idle(struct dsched_ent *self);
static void hand_to(struct dsched_ent *self, struct dsched_ent *next);
static void step_account(struct dsched_ent *e, int ev, int line,
    const char *file);
static struct dsched_ent *self_ent(void);

const char *
dsched_strategy_name(enum dsched_strategy s)
{
	switch (s) {
	case DSCHED_FREE:
		return "free";
	case DSCHED_RANDOM:
		return "random";
	case DSCHED_PCT:
		return "pct";
	case DSCHED_POS:
		return "pos";
	}
	return "?";
}

int
dsched_strategy_parse(const char *s)
{
	int i;

	for (i = DSCHED_FREE; i <= DSCHED_POS; i++)
		if (strcmp(s, dsched_strategy_name(i)) == 0)
			return i;
	return -1;
}

static void
hash_add(uint64_t v)
{
	uint64_t h = ds.hash ^ v;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	ds.hash = h ^ (h >> 33);
}

static struct ds_wq *
wq_of(const void *obj)
{
	uintptr_t h = (uintptr_t)obj;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return &ds.wq[(h >> 40) % DS_WQ_HASH];
}

static void *
grow(void *p, int *max, size_t size)
{
	int n = *max == 0 ? 64 : *max * 2;
	void *q = realloc(p, (size_t)n * size);

	if (q == NULL)
		panic("dsched: out of host memory");
	*max = n;
	return q;
}

/* => ds_lock held */
static void
rq_add(struct dsched_ent *e)
{
	KASSERT(e->de_rqidx < 0);
	if (ds.nrq == ds.maxrq)
		ds.rq = grow(ds.rq, &ds.maxrq, sizeof(*ds.rq));
	e->de_rqidx = ds.nrq;
	ds.rq[ds.nrq++] = e;
}

/* => ds_lock held */
static void
rq_remove(struct dsched_ent *e)
{
	struct dsched_ent *last;

	if (e->de_rqidx < 0)
		return;
	last = ds.rq[--ds.nrq];
	ds.rq[e->de_rqidx] = last;
	last->de_rqidx = e->de_rqidx;
	e->de_rqidx = -1;
}

/* Off its wait queue and runnable.  => ds_lock held, e blocked */
static void
make_runnable(struct dsched_ent *e, bool timedout)
{
	struct ds_wq *q = wq_of(e->de_wobj);
	struct dsched_ent **pp, *prev = NULL;

	for (pp = &q->head; *pp != NULL; prev = *pp, pp = &(*pp)->de_wnext) {
		if (*pp == e) {
			*pp = e->de_wnext;
			if (q->tail == e)
				q->tail = prev;
			break;
		}
	}
	e->de_wnext = NULL;
	e->de_wobj = NULL;
	if (e->de_deadline != 0)
		ds.ntimed--;
	e->de_deadline = 0;
	e->de_timedout = timedout;
	e->de_state = DE_RUNNABLE;
	if (ds.cfg.dc_strategy == DSCHED_POS)
		e->de_prio = host_rng_next(&ds.rng);
	rq_add(e);
}

/* Wake the entities whose deadline passed (in id order).  => ds_lock */
static void
expire(void)
{
	uint64_t now = atomic_load_explicit(&ds.vnow, memory_order_relaxed);
	uint64_t next = UINT64_MAX;
	struct dsched_ent *e;
	int i;

	if (now < ds.next_deadline)
		return;
	for (i = 0; i < ds.nents && ds.ntimed > 0; i++) {
		e = ds.ents[i];
		if (e->de_state != DE_BLOCKED || e->de_deadline == 0)
			continue;
		if (e->de_deadline <= now) {
			ds.timeouts++;
			make_runnable(e, true);
		} else if (e->de_deadline < next) {
			next = e->de_deadline;
		}
	}
	ds.next_deadline = next;
}

/*
 * pick: the strategy's choice among the runnable entities; with
 * avoid_self, self only if it is the only one.  Records the decision, or
 * follows the replay.  => ds_lock held, at least one runnable
 */
static struct dsched_ent *
pick(struct dsched_ent *self, bool avoid_self)
{
	struct dsched_ent *best = NULL, *e;
	int i, n = ds.nrq;

	KASSERT(n > 0);
	if (n == 1)
		return ds.rq[0];
	if (ds.cfg.dc_replay != NULL && ds.diverged_step == 0) {
		if (ds.replay_at < ds.cfg.dc_nreplay) {
			uint32_t id = ds.cfg.dc_replay[ds.replay_at++];

			if (id < (uint32_t)ds.nents &&
			    ds.ents[id]->de_state == DE_RUNNABLE) {
				best = ds.ents[id];
				goto out;
			}
			snprintf(ds.diverged, sizeof(ds.diverged), "decision "
			    "%zu chose thread %u, which %s", ds.replay_at - 1,
			    id, id < (uint32_t)ds.nents ? "cannot run there" :
			    "does not exist there");
		} else {
			snprintf(ds.diverged, sizeof(ds.diverged), "the "
			    "schedule's %zu decisions ran out",
			    ds.cfg.dc_nreplay);
		}
		ds.diverged_step = atomic_load(&ds.steps);
	}
	switch (ds.cfg.dc_strategy) {
	case DSCHED_RANDOM:
	default:
		if (avoid_self && self != NULL && self->de_rqidx >= 0) {
			i = (int)host_rng_below(&ds.rng, (uint64_t)n - 1);
			if (i >= self->de_rqidx)
				i++;
		} else {
			i = (int)host_rng_below(&ds.rng, (uint64_t)n);
		}
		best = ds.rq[i];
		break;
	case DSCHED_PCT:
	case DSCHED_POS:
		for (i = 0; i < n; i++) {
			e = ds.rq[i];
			if (avoid_self && e == self)
				continue;
			/* ties (never in PCT) go to the lower id */
			if (best == NULL || e->de_prio > best->de_prio ||
			    (e->de_prio == best->de_prio &&
			    e->de_id < best->de_id))
				best = e;
		}
		break;
	}
out:
	if (ds.cfg.dc_record) {
		if (ds.ndec == ds.maxdec) {
			size_t m = ds.maxdec == 0 ? 4096 : ds.maxdec * 2;
			uint32_t *p = realloc(ds.dec, m * sizeof(*p));

			if (p == NULL)
				panic("dsched: out of host memory for the "
				    "schedule");
			ds.dec = p;
			ds.maxdec = m;
		}
		ds.dec[ds.ndec++] = (uint32_t)best->de_id;
	}
	return best;
}

/*
 * pick_or_idle: pick, jumping the clock to the first deadline while
 * nothing is runnable.  Nothing runnable and no deadline: every thread
 * waits for another; that is a deadlock, and a failure.
 * => ds_lock held
 */
static struct dsched_ent *
pick_or_idle(struct dsched_ent *self)
{
	while (ds.nrq == 0) {
		if (ds.ntimed == 0) {
			uint64_t step = atomic_load(&ds.steps);
			int i;

			/*
			 * Every thread runs free from here, so that the dump
			 * and the panic path never block in the scheduler;
			 * the deadlocked ones stay blocked on their hosts'.
			 */
			atomic_store(&dsched_on, false);
			ds.deadlocked = true;	/* the dump still says who waits */
			ds.cur = NULL;
			for (i = 0; i < ds.nents; i++)
				pthread_cond_broadcast(&ds.ents[i]->de_cv);
			pthread_mutex_unlock(&ds_lock);
			host_thread_dump_all();
			panic("dsched: deadlock at step %llu: every thread "
			    "waits for another and none has a timeout",
			    (unsigned long long)step);
		}
		if (ds.next_deadline > atomic_load(&ds.vnow))
			atomic_store(&ds.vnow, ds.next_deadline);
		ds.idle_jumps++;
		ds.next_deadline = 0;	/* rescan */
		expire();
	}
	return pick(self, false);
}

/*
 * hand_to: give the token to next and wait until it comes back (self
 * NULL or gone: do not wait).  => ds_lock held
 */
static void
hand_to(struct dsched_ent *self, struct dsched_ent *next)
{
	if (next != self) {
		ds.cur = next;
		ds.switches++;
		pthread_cond_signal(&next->de_cv);
	}
	if (self == NULL || self->de_state == DE_GONE)
		return;
	while (atomic_load_explicit(&dsched_on, memory_order_relaxed) &&
	    ds.cur != self)
		pthread_cond_wait(&self->de_cv, &ds_lock);
}

/* One step: clock, hash, deadlines, the step limit.  => ds_lock held */
static void
step_account(struct dsched_ent *e, int ev, int line, const char *file)
{
	uint64_t s = atomic_load_explicit(&ds.steps, memory_order_relaxed) + 1;

	atomic_store_explicit(&ds.steps, s, memory_order_relaxed);
	atomic_store_explicit(&ds.vnow, atomic_load_explicit(&ds.vnow,
	    memory_order_relaxed) + ds.step_ns, memory_order_relaxed);
	hash_add(((uint64_t)(uint32_t)e->de_id << 32) | ((uint64_t)ev << 20) |
	    (uint64_t)(line & 0xfffff));
	hash_add((uint64_t)((uintptr_t)file - (uintptr_t)ds_anchor));
	if (ds.ntimed > 0)
		expire();
	if (ds.cfg.dc_max_steps != 0 && s == ds.cfg.dc_max_steps)
		atomic_store(&ds.exhausted_step, s);
	if (ds.cfg.dc_strategy == DSCHED_PCT && ds.nextcp < ds.ncp &&
	    s >= ds.cp[ds.nextcp]) {
		/* the running entity drops below every initial priority */
		e->de_prio = MIN(e->de_prio, DS_PCT_CP +
		    (uint64_t)(ds.ncp - ds.nextcp));
		ds.nextcp++;
	}
}

static struct dsched_ent *
self_ent(void)
{
	struct host_thread *ht = host_curthread;

	return ht != NULL ? ht->ht_ds : NULL;
}

void
dsched_describe(const struct host_thread *ht, char *buf, size_t len)
{
	const struct dsched_ent *e = ht->ht_ds;

	buf[0] = '\0';
	if (e == NULL || (!dsched_active() && !ds.deadlocked) ||
	    e->de_gen != ds.gen)
		return;
	if (e == ds.cur)
		snprintf(buf, len, "sched: thread %d runs", e->de_id);
	else if (e->de_state == DE_RUNNABLE)
		snprintf(buf, len, "sched: thread %d runnable", e->de_id);
	else if (e->de_state == DE_BLOCKED && e->de_deadline != 0)
		snprintf(buf, len, "sched: thread %d waits for %p, or %.3f s",
		    e->de_id, e->de_wobj, (double)(e->de_deadline -
		    atomic_load_explicit(&ds.vnow, memory_order_relaxed)) /
		    1e9);
	else if (e->de_state == DE_BLOCKED)
		snprintf(buf, len, "sched: thread %d waits for %p", e->de_id,
		    e->de_wobj);
}

bool
dsched_self(void)
{
	return dsched_active() && self_ent() != NULL;
}

uint64_t
dsched_now_ns(void)
{
	return atomic_load_explicit(&ds.vnow, memory_order_relaxed);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Free what the last run left (entities, queues, decisions). */
static void
ds_reset(void)
{
	uint64_t gen = ds.gen;
	int i;

	/*
	 * A thread of the last run that has not left yet still points at
	 * its entity: that one is not freed (its de_gen tells it is stale).
	 */
	for (i = 0; i < ds.nents; i++) {
		if (ds.ents[i]->de_state != DE_GONE)
			continue;
		pthread_cond_destroy(&ds.ents[i]->de_cv);
		free(ds.ents[i]);
	}
	free(ds.ents);
	free(ds.rq);
	free(ds.dec);
	memset(&ds, 0, sizeof(ds));
	ds.gen = gen + 1;
}

static struct dsched_ent *
ent_alloc(const char *name)
{
	struct dsched_ent *e = calloc(1, sizeof(*e));

	if (e == NULL)
		panic("dsched: out of host memory");
	pthread_cond_init(&e->de_cv, NULL);
	snprintf(e->de_name, sizeof(e->de_name), "%s", name);
	e->de_rqidx = -1;
	e->de_gen = ds.gen;
	if (ds.nents == ds.maxents)
		ds.ents = grow(ds.ents, &ds.maxents, sizeof(*ds.ents));
	e->de_id = ds.nents;
	ds.ents[ds.nents++] = e;
	/*
	 * PCT: initial priorities are above the yields' and the change
	 * points' (top bit set); POS: a pending event's, uniform.
	 */
	e->de_prio = host_rng_next(&ds.rng);
	if (ds.cfg.dc_strategy == DSCHED_PCT)
		e->de_prio |= 1ull << 63;
	e->de_state = DE_RUNNABLE;
	rq_add(e);
	return e;
}

int
dsched_start(const struct dsched_config *dc)
{
	struct host_thread *ht = host_thread_self();
	struct dsched_ent *e;
	uint64_t k;
	int i;

	if (dc->dc_strategy == DSCHED_FREE || dc->dc_strategy > DSCHED_POS ||
	    (dc->dc_strategy == DSCHED_PCT && (dc->dc_pct_depth < 1 ||
	    dc->dc_pct_depth > DS_PCT_MAXCP)))
		return EINVAL;
	KASSERT(!dsched_active());
	pthread_mutex_lock(&ds_lock);
	ds_reset();
	ds.cfg = *dc;
	ds.step_ns = dc->dc_step_ns != 0 ? dc->dc_step_ns : DS_STEP_NS;
	ds.vbase = host_real_ns();	/* virtual time goes on from here */
	atomic_store(&ds.vnow, ds.vbase);
	ds.next_deadline = UINT64_MAX;
	host_rng_init(&ds.rng, dc->dc_seed, 0xd5c4ed00ull + dc->dc_strategy);
	if (dc->dc_strategy == DSCHED_PCT) {
		k = dc->dc_pct_steps != 0 ? dc->dc_pct_steps : 1000000;
		ds.ncp = (int)dc->dc_pct_depth - 1;
		ds.pct_low = DS_PCT_CP;
		for (i = 0; i < ds.ncp; i++)
			ds.cp[i] = 1 + host_rng_below(&ds.rng, k);
		qsort(ds.cp, (size_t)ds.ncp, sizeof(ds.cp[0]), cmp_u64);
	}
	e = ent_alloc(ht->ht_name);
	e->de_pthread = pthread_self();
	e->de_has_pthread = true;
	ht->ht_ds = e;
	ds.cur = e;
	atomic_store(&dsched_on, true);
	pthread_mutex_unlock(&ds_lock);
	return 0;
}

void
dsched_stop(void)
{
	struct host_thread *ht = host_curthread;
	uint64_t vnow;
	int i;

	pthread_mutex_lock(&ds_lock);
	if (!atomic_load(&dsched_on)) {
		pthread_mutex_unlock(&ds_lock);
		return;
	}
	vnow = host_real_ns();
	atomic_store(&dsched_on, false);
	host_clock_det_end(vnow);
	ds.cur = NULL;
	for (i = 0; i < ds.nents; i++)
		pthread_cond_broadcast(&ds.ents[i]->de_cv);
	if (ht != NULL)
		ht->ht_ds = NULL;
	pthread_mutex_unlock(&ds_lock);
}

struct dsched_ent *
dsched_ent_new(const char *name)
{
	struct dsched_ent *e;

	pthread_mutex_lock(&ds_lock);
	if (!atomic_load(&dsched_on)) {
		pthread_mutex_unlock(&ds_lock);
		return NULL;
	}
	e = ent_alloc(name);
	pthread_mutex_unlock(&ds_lock);
	return e;
}

void
dsched_ent_set_pthread(struct dsched_ent *e, pthread_t tid)
{
	pthread_mutex_lock(&ds_lock);
	e->de_pthread = tid;
	e->de_has_pthread = true;
	pthread_mutex_unlock(&ds_lock);
}

void
dsched_ent_discard(struct dsched_ent *e)
{
	pthread_mutex_lock(&ds_lock);
	rq_remove(e);
	e->de_state = DE_GONE;
	pthread_mutex_unlock(&ds_lock);
}

void
dsched_ent_enter(struct dsched_ent *e)
{
	pthread_mutex_lock(&ds_lock);
	while (atomic_load(&dsched_on) && ds.cur != e)
		pthread_cond_wait(&e->de_cv, &ds_lock);
	pthread_mutex_unlock(&ds_lock);
}

void
dsched_ent_exit(struct dsched_ent *e)
{
	struct dsched_ent *next;

	pthread_mutex_lock(&ds_lock);
	if (e->de_gen != ds.gen) {
		e->de_state = DE_GONE;	/* of a run that ended: no queue */
		pthread_mutex_unlock(&ds_lock);
		return;
	}
	if (!atomic_load(&dsched_on) || ds.cur != e) {
		/* free-running now (or never held the token) */
		rq_remove(e);
		e->de_state = DE_GONE;
		pthread_mutex_unlock(&ds_lock);
		return;
	}
	step_account(e, DS_EV_EXIT, 0, ds_anchor);
	rq_remove(e);
	e->de_state = DE_GONE;
	/* its joiners */
	{
		struct ds_wq *q = wq_of(e);
		struct dsched_ent *w, *wn;

		for (w = q->head; w != NULL; w = wn) {
			wn = w->de_wnext;
			if (w->de_wobj == e)
				make_runnable(w, false);
		}
	}
	next = pick_or_idle(NULL);
	hash_add((uint64_t)next->de_id);
	hand_to(e, next);
	pthread_mutex_unlock(&ds_lock);
}

void
dsched_join(pthread_t tid)
{
	struct dsched_ent *e = NULL;
	int i;

	if (!dsched_self())
		return;
	pthread_mutex_lock(&ds_lock);
	for (i = ds.nents - 1; i >= 0; i--) {
		if (ds.ents[i]->de_has_pthread &&
		    pthread_equal(ds.ents[i]->de_pthread, tid) &&
		    ds.ents[i]->de_state != DE_GONE) {
			e = ds.ents[i];
			break;
		}
	}
	pthread_mutex_unlock(&ds_lock);
	if (e == NULL)
		return;
	/* gone is final: no lost wakeup, only one entity runs */
	while (dsched_active() && __atomic_load_n(&e->de_state,
	    __ATOMIC_RELAXED) != DE_GONE)
		(void)dsched_block(e, 0);
}

void
dsched_point(enum hook_ev ev, const void *obj, uintptr_t arg,
    const char *file, int line)
{
	struct dsched_ent *e = self_ent(), *next, *r;
	const void *ran;
	int i;

	if (e == NULL)
		return;
	pthread_mutex_lock(&ds_lock);
	if (!atomic_load(&dsched_on) || ds.cur != e) {
		pthread_mutex_unlock(&ds_lock);
		return;
	}
	step_account(e, (int)ev, line, file);
	if (ds.cfg.dc_strategy == DSCHED_POS) {
		/* e ran its pending event: the racing ones get new priorities */
		ran = e->de_pobj;
		if (ran != NULL)
			for (i = 0; i < ds.nrq; i++) {
				r = ds.rq[i];
				if (r != e && r->de_pobj == ran) {
					r->de_prio = host_rng_next(&ds.rng);
					ds.resamples++;
				}
			}
		e->de_pobj = obj;
		e->de_prio = host_rng_next(&ds.rng);
	}
	if (ds.cfg.dc_strategy == DSCHED_PCT && ((ev == HE_TRYLOCK &&
	    arg == 0) || ++e->de_ran >= DS_PCT_QUANTUM)) {
		/*
		 * A retry loop, or a whole quantum of steps run: below
		 * every other thread, as a yield or an expired time slice, so
		 * that the holder a loop waits for runs (the pagedaemon's
		 * trylock loops took all but one step in two), and a thread
		 * that never blocks cannot starve the rest for ever (a harness
		 * lowered by an early change point starved behind busy LWPs:
		 * touch --pct-steps 10 never ended).
		 */
		e->de_prio = MIN(e->de_prio, --ds.pct_low);
		e->de_ran = 0;
	}
	next = pick(e, ev == HE_TRYLOCK && arg == 0);
	hash_add((uint64_t)next->de_id);
	hand_to(e, next);
	pthread_mutex_unlock(&ds_lock);
}

/*
 * block_locked: e stops being runnable until obj is woken or the
 * deadline; the token goes on, and comes back when e is chosen again.
 * => ds_lock held, e holds the token; 0 or ETIMEDOUT
 */
static int
block_locked(struct dsched_ent *e, const void *obj, uint64_t deadline_ns)
{
	struct dsched_ent *next;
	struct ds_wq *q;
	int error;

	step_account(e, DS_EV_BLOCK, 0, ds_anchor);
	ds.blocks++;
	rq_remove(e);
	e->de_state = DE_BLOCKED;
	e->de_wobj = obj;
	e->de_pobj = obj;
	e->de_wnext = NULL;
	e->de_timedout = false;
	q = wq_of(obj);
	if (q->tail != NULL)
		q->tail->de_wnext = e;
	else
		q->head = e;
	q->tail = e;
	if (deadline_ns != 0) {
		uint64_t d = deadline_ns;

		if (d <= atomic_load(&ds.vnow))
			d = atomic_load(&ds.vnow) + 1;
		e->de_deadline = d;
		ds.ntimed++;
		if (d < ds.next_deadline)
			ds.next_deadline = d;
	}
	next = pick_or_idle(e);
	hash_add((uint64_t)next->de_id);
	hand_to(e, next);
	error = e->de_timedout ? ETIMEDOUT : 0;
	e->de_timedout = false;
	if (e->de_state == DE_BLOCKED) {
		/* the scheduler stopped while it waited: unqueue it */
		make_runnable(e, false);
	}
	return error;
}

/* Wake obj's waiters (all, or the longest waiting).  => ds_lock held */
static int
wake_locked(const void *obj, bool all)
{
	struct ds_wq *q = wq_of(obj);
	struct dsched_ent *w, *wn;
	int n = 0;

	for (w = q->head; w != NULL; w = wn) {
		wn = w->de_wnext;
		if (w->de_wobj != obj)
			continue;
		make_runnable(w, false);
		n++;
		if (!all)
			break;
	}
	return n;
}

/* The caller's entity if it holds the token.  => ds_lock held */
static struct dsched_ent *
holder_locked(void)
{
	struct dsched_ent *e = self_ent();

	if (e == NULL || !atomic_load(&dsched_on) || ds.cur != e)
		return NULL;
	return e;
}

int
dsched_block(const void *obj, uint64_t deadline_ns)
{
	struct dsched_ent *e;
	int error;

	pthread_mutex_lock(&ds_lock);
	if ((e = holder_locked()) == NULL) {
		pthread_mutex_unlock(&ds_lock);
		return 0;		/* free again: a spurious wakeup */
	}
	error = block_locked(e, obj, deadline_ns);
	pthread_mutex_unlock(&ds_lock);
	return error;
}

int
dsched_mutex_enter(pthread_mutex_t *m)
{
	struct dsched_ent *e;

	pthread_mutex_lock(&ds_lock);
	if ((e = holder_locked()) == NULL) {
		pthread_mutex_unlock(&ds_lock);
		return -1;
	}
	/*
	 * Tried under ds_lock: a releaser outside the scheduler wakes the
	 * waiters under ds_lock after its unlock, so either this try sees
	 * the mutex free or the wake sees this waiter.
	 */
	while (pthread_mutex_trylock(m) != 0) {
		if (holder_locked() != e) {
			/* the scheduler stopped meanwhile */
			pthread_mutex_unlock(&ds_lock);
			return -1;
		}
		(void)block_locked(e, m, 0);
	}
	pthread_mutex_unlock(&ds_lock);
	return 0;
}

int
dsched_cond_wait(const void *c, pthread_mutex_t *m, uint64_t deadline_ns)
{
	struct dsched_ent *e;
	int error;

	pthread_mutex_lock(&ds_lock);
	if ((e = holder_locked()) == NULL) {
		pthread_mutex_unlock(&ds_lock);
		return -1;
	}
	/* the release and the wait in one step, as pthread_cond_wait */
	pthread_mutex_unlock(m);
	(void)wake_locked(m, false);
	error = block_locked(e, c, deadline_ns);
	pthread_mutex_unlock(&ds_lock);
	return error;
}

int
dsched_wake(const void *obj, bool all)
{
	int n;

	pthread_mutex_lock(&ds_lock);
	n = wake_locked(obj, all);
	pthread_mutex_unlock(&ds_lock);
	return n;
}

void
dsched_get_stats(struct dsched_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&ds_lock);
	st->ds_strategy = ds.cfg.dc_strategy;
	st->ds_steps = atomic_load(&ds.steps);
	st->ds_switches = ds.switches;
	st->ds_blocks = ds.blocks;
	st->ds_timeouts = ds.timeouts;
	st->ds_idle_jumps = ds.idle_jumps;
	st->ds_resamples = ds.resamples;
	st->ds_change_points = (uint64_t)ds.nextcp;
	st->ds_vnow_ns = atomic_load(&ds.vnow) - ds.vbase;
	st->ds_hash = ds.hash;
	st->ds_exhausted_step = atomic_load(&ds.exhausted_step);
	st->ds_entities = ds.nents;
	st->ds_diverged_step = ds.diverged_step;
	snprintf(st->ds_diverged, sizeof(st->ds_diverged), "%s", ds.diverged);
	pthread_mutex_unlock(&ds_lock);
}

uint64_t
dsched_step(void)
{
	return atomic_load_explicit(&ds.steps, memory_order_relaxed);
}

bool
dsched_exhausted(void)
{
	return atomic_load_explicit(&ds.exhausted_step,
	    memory_order_relaxed) != 0;
}

size_t
dsched_decisions(const uint32_t **out)
{
	*out = ds.dec;
	return ds.ndec;
}
