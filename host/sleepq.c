/*
 * host/sleepq.c: sleep queues for tsleep/msleep/wakeup.
 *
 * Wait channels hash into SLEEPQ_HASH buckets, each a host mutex and a
 * FIFO of sleeping threads (wakeup_one wakes the longest sleeper, as in
 * BSD).  Each thread waits on its own condition variable, so a wakeup
 * wakes exactly the sleepers on its channel.  A sleeper queues itself
 * under the bucket lock before it lets its interlock go, and only then
 * sleeps, rechecking ht_woken under the bucket lock; a waker sets
 * ht_woken under the same lock: no lost wakeups.
 *
 * The bucket lock is innermost: nothing is taken under it, and no hook
 * runs under it (the interlock is released, and the CPU given up, after
 * the bucket lock is dropped), so chaos delays and a scheduler that parks
 * a thread in the hook never stall a whole bucket.
 */
#include <time.h>

#include "clock.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "sleepq.h"
#include "thread.h"

#define SLEEPQ_HASH	128

struct sleepq_bucket {
	pthread_mutex_t		sb_lock;
	struct host_thread	*sb_head;	/* [sb_lock] */
	struct host_thread	**sb_tailp;	/* [sb_lock] NULL: &sb_head */
} __attribute__((aligned(64)));

static struct sleepq_bucket sleepq_table[SLEEPQ_HASH] = {
	[0 ... SLEEPQ_HASH - 1] = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL },
};

/* local prototypes */
static inline struct sleepq_bucket *sleepq_bucket(const void *);
static void sleepq_append(struct sleepq_bucket *, struct host_thread *);
static void sleepq_remove(struct sleepq_bucket *, struct host_thread **);
static void sleepq_unlink(struct sleepq_bucket *, struct host_thread *);

static inline struct sleepq_bucket *
sleepq_bucket(const void *ident)
{
	uintptr_t h = (uintptr_t)ident;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return &sleepq_table[(h >> 40) % SLEEPQ_HASH];
}

/* sleepq_append: queue ht at the tail.  => sb_lock held */
static void
sleepq_append(struct sleepq_bucket *sb, struct host_thread *ht)
{
	struct host_thread **tailp = sb->sb_tailp != NULL ? sb->sb_tailp :
	    &sb->sb_head;

	ht->ht_sqnext = NULL;
	*tailp = ht;
	sb->sb_tailp = &ht->ht_sqnext;
}

/* sleepq_remove: unqueue the thread *pp points to.  => sb_lock held */
static void
sleepq_remove(struct sleepq_bucket *sb, struct host_thread **pp)
{
	struct host_thread *ht = *pp;

	*pp = ht->ht_sqnext;
	if (ht->ht_sqnext == NULL)
		sb->sb_tailp = pp;	/* ht was the tail */
	ht->ht_sqnext = NULL;
}

/* sleepq_unlink: unqueue ht if it is queued.  => sb_lock held */
static void
sleepq_unlink(struct sleepq_bucket *sb, struct host_thread *ht)
{
	struct host_thread **pp;

	for (pp = &sb->sb_head; *pp != NULL; pp = &(*pp)->ht_sqnext) {
		if (*pp == ht) {
			sleepq_remove(sb, pp);
			return;
		}
	}
}

/*
 * sleep_common: sleep on ident; release the interlock (a kmutex or a
 * krwlock, or none) once queued, and take it back after unless
 * PNORELOCK.  real_ns == 0: no timeout.
 * => returns 0 when woken, EWOULDBLOCK on timeout
 */
static int
sleep_common(const void *ident, kmutex_t *mtx, krwlock_t *rw, int pri,
    const char *wmesg, uint64_t real_ns, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	struct sleepq_bucket *sb = sleepq_bucket(ident);
	uint64_t deadline = 0;
	krw_t rwop = RW_READER;
	int error = 0;

	KASSERT(ident != NULL);
	if (real_ns != 0)
		deadline = host_real_ns() + real_ns;
	if (rw != NULL)
		rwop = rw_lock_op(rw);
	KASSERTMSG(ht->ht_nspin == (mtx != NULL && mtx->mtx_ipl > IPL_NONE),
	    "sleeping on %s with a spin mutex held at %s:%d", wmesg, file,
	    line);
	host_hook(HE_SLEEP, ident, (uintptr_t)pri, file, line);

	/* Queued first: from here on a wakeup of ident reaches us. */
	hs_lock(&sb->sb_lock);
	__atomic_store_n(&ht->ht_wchan, ident, __ATOMIC_RELAXED);
	__atomic_store_n(&ht->ht_wmesg, wmesg, __ATOMIC_RELAXED);
	ht->ht_woken = 0;
	sleepq_append(sb, ht);
	hs_unlock(&sb->sb_lock);

	if (mtx != NULL)
		_mutex_exit(mtx, file, line);
	if (rw != NULL)
		_rw_exit(rw, file, line);
	lwp_block(ident, wmesg, &sleep_syncobj);

	hs_lock(&sb->sb_lock);
	while (!ht->ht_woken) {
		if (real_ns == 0) {
			hs_cond_wait(&ht->ht_sleepcv, &sb->sb_lock);
		} else if (hs_cond_timedwait(&ht->ht_sleepcv, &sb->sb_lock,
		    deadline) != 0 && !ht->ht_woken) {
			sleepq_unlink(sb, ht);
			error = EWOULDBLOCK;
			break;
		}
	}
	__atomic_store_n(&ht->ht_wchan, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&ht->ht_wmesg, NULL, __ATOMIC_RELAXED);
	hs_unlock(&sb->sb_lock);

	lwp_unblock();
	host_hook(HE_SLEEP_DONE, ident, (uintptr_t)error, file, line);
	if ((pri & PNORELOCK) == 0) {
		if (mtx != NULL)
			_mutex_enter(mtx, file, line);
		if (rw != NULL)
			(void)_rw_enter(rw, rwop, file, line);
	}
	return error;
}

int
_tsleep(const void *ident, int pri, const char *wmesg, int timo,
    const char *file, int line)
{
	KASSERT(timo >= 0);
	return sleep_common(ident, NULL, NULL, pri, wmesg,
	    host_ticks_to_real_ns((uint64_t)timo), file, line);
}

int
_msleep(const void *ident, kmutex_t *mtx, int pri, const char *wmesg,
    int timo, const char *file, int line)
{
	KASSERT(timo >= 0);
	return sleep_common(ident, mtx, NULL, pri, wmesg,
	    host_ticks_to_real_ns((uint64_t)timo), file, line);
}

/* OpenBSD: a finite timeout sleeps at least a little. */
static uint64_t
nsec_to_real(uint64_t nsecs)
{
	uint64_t ns;

	if (nsecs == INFSLP)
		return 0;
	ns = host_sim_to_real_ns(nsecs);
	return ns == 0 ? 1 : ns;
}

int
_msleep_nsec(const void *ident, kmutex_t *mtx, int pri, const char *wmesg,
    uint64_t nsecs, const char *file, int line)
{
	return sleep_common(ident, mtx, NULL, pri, wmesg, nsec_to_real(nsecs),
	    file, line);
}

int
_rwsleep_nsec(const void *ident, krwlock_t *rw, int pri, const char *wmesg,
    uint64_t nsecs, const char *file, int line)
{
	KASSERT(rw != NULL);
	return sleep_common(ident, NULL, rw, pri, wmesg, nsec_to_real(nsecs),
	    file, line);
}

static int
wakeup_common(const void *ident, bool one)
{
	struct sleepq_bucket *sb = sleepq_bucket(ident);
	struct host_thread **pp, *ht;
	int n = 0;

	hs_lock(&sb->sb_lock);
	pp = &sb->sb_head;
	while ((ht = *pp) != NULL) {
		if (ht->ht_wchan != ident) {
			pp = &ht->ht_sqnext;
			continue;
		}
		sleepq_remove(sb, pp);
		ht->ht_woken = 1;
		hs_cond_signal(&ht->ht_sleepcv);
		n++;
		if (one)
			break;
	}
	hs_unlock(&sb->sb_lock);
	return n;
}

void
_wakeup(const void *ident, const char *file, int line)
{
	int n = wakeup_common(ident, false);

	host_hook(HE_WAKEUP, ident, (uintptr_t)n, file, line);
}

void
_wakeup_one(const void *ident, const char *file, int line)
{
	int n = wakeup_common(ident, true);

	host_hook(HE_WAKEUP, ident, (uintptr_t)n, file, line);
}

int
sleepq_nsleepers(const void *ident)
{
	struct sleepq_bucket *sb = sleepq_bucket(ident);
	struct host_thread *ht;
	int n = 0;

	hs_lock(&sb->sb_lock);
	for (ht = sb->sb_head; ht != NULL; ht = ht->ht_sqnext)
		if (ht->ht_wchan == ident)
			n++;
	hs_unlock(&sb->sb_lock);
	return n;
}
