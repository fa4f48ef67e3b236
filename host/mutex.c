/*
 * host/mutex.c: adaptive and spin kernel mutexes over pthread mutexes.
 *
 * The pthread mutex is the lock; the owner field answers mutex_owned()
 * and catches recursion and foreign releases.  An adaptive mutex that is
 * still contended after a short spin blocks with lwp_block(), giving the
 * CPU away; a spin mutex never gives its CPU up (its holders never
 * sleep, so they come back quickly).
 *
 * Spin mutexes and the spl: each spin mutex records the level its holder
 * ran at before taking it, and letting it go restores that level, as in
 * OpenBSD.  Spin mutexes may be released out of order; then the level
 * must not drop while a spin mutex taken later is still held, so the
 * released mutex hands its saved level to the nearest later one, and the
 * spl drops only when that one goes (NetBSD's rule: the spl comes down
 * with the last spin mutex taken above it).
 */
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "mutex.h"
#include "spl.h"
#include "thread.h"

#define MUTEX_SPINS	64

/* local prototypes */
static int mutex_spin_restore_level(kmutex_t *, struct host_thread *);

static inline bool
mutex_is_spin(const kmutex_t *mtx)
{
	return mtx->mtx_ipl > IPL_NONE;
}

static inline struct host_thread *
owner_load(const kmutex_t *mtx)
{
	return __atomic_load_n(&mtx->mtx_owner, __ATOMIC_RELAXED);
}

void
_mutex_init(kmutex_t *mtx, kmutex_type_t type, int ipl, const char *name,
    const char *file, int line)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_NORMAL);
	pthread_mutex_init(&mtx->mtx_lock, &attr);
	pthread_mutexattr_destroy(&attr);
	mtx->mtx_owner = NULL;
	mtx->mtx_ipl = (type == MUTEX_SPIN && ipl == IPL_NONE) ? IPL_VM : ipl;
	mtx->mtx_oldspl = IPL_NONE;
	lock_object_init(&mtx->mtx_lo, LK_MUTEX, name, file, line);
}

void
mutex_destroy(kmutex_t *mtx)
{
	KASSERTMSG(owner_load(mtx) == NULL, "mutex_destroy: %s is held",
	    mtx->mtx_lo.lo_name);
	pthread_mutex_destroy(&mtx->mtx_lock);
}

static void
mutex_acquired(kmutex_t *mtx, struct host_thread *ht, int s,
    const char *file, int line)
{
	__atomic_store_n(&mtx->mtx_owner, ht, __ATOMIC_RELAXED);
	mtx->mtx_oldspl = s;
	if (mutex_is_spin(mtx))
		ht->ht_nspin++;
	witness_acquired(&mtx->mtx_lo, LM_EXCL, file, line);
}

void
_mutex_enter(kmutex_t *mtx, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	bool spin = mutex_is_spin(mtx);
	int s = IPL_NONE, i;

	if (__predict_false(owner_load(mtx) == ht))
		panic("mutex_enter: locking against myself: %s at %s:%d",
		    mtx->mtx_lo.lo_name, file, line);
	if (witness_enabled())
		witness_wantlock(&mtx->mtx_lo, file, line);
	if (spin)
		s = splraise(mtx->mtx_ipl);
	if (pthread_mutex_trylock(&mtx->mtx_lock) != 0) {
		/* under the deterministic scheduler the holder is parked */
		for (i = dsched_active() ? MUTEX_SPINS : 0; i < MUTEX_SPINS;
		    i++) {
			SPINLOCK_SPIN_HOOK;
			if (pthread_mutex_trylock(&mtx->mtx_lock) == 0)
				goto got;
		}
		host_hook(HE_LOCK_WAIT, mtx, 0, file, line);
		if (spin) {
			hs_lock(&mtx->mtx_lock);
		} else {
			lwp_block(mtx, mtx->mtx_lo.lo_name, &mutex_syncobj);
			hs_lock(&mtx->mtx_lock);
			lwp_unblock();
		}
	}
got:
	mutex_acquired(mtx, ht, s, file, line);
	host_hook(HE_LOCK, mtx, LM_EXCL, file, line);
}

int
_mutex_tryenter(kmutex_t *mtx, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	int s = IPL_NONE;

	if (mutex_is_spin(mtx))
		s = splraise(mtx->mtx_ipl);
	if (pthread_mutex_trylock(&mtx->mtx_lock) != 0) {
		if (mutex_is_spin(mtx))
			splx(s);
		host_hook(HE_TRYLOCK, mtx, 0, file, line);
		return 0;
	}
	mutex_acquired(mtx, ht, s, file, line);
	host_hook(HE_TRYLOCK, mtx, 1, file, line);
	return 1;
}

/*
 * mutex_spin_restore_level: the spin mutex mtx is about to be released;
 * return the spl to restore, or -1 to leave the spl alone because a spin
 * mutex taken after mtx is still held (mtx is released out of order): that
 * one inherits mtx's saved level.
 * => mtx held by ht and still on its held stack; ht_nspin not yet dropped
 */
static int
mutex_spin_restore_level(kmutex_t *mtx, struct host_thread *ht)
{
	const struct lock_object *lo;
	kmutex_t *m, *later = NULL;
	int i;

	if (ht->ht_nspin > 1) {
		for (i = ht->ht_nheld - 1; i >= 0; i--) {
			lo = ht->ht_held[i].hl_lock;
			if (lo == &mtx->mtx_lo)
				break;
			if (lo->lo_kind != LK_MUTEX)
				continue;
			m = (kmutex_t *)((char *)lo -
			    offsetof(kmutex_t, mtx_lo));
			if (mutex_is_spin(m))
				later = m;	/* ends as the nearest one */
		}
		if (later != NULL) {
			later->mtx_oldspl = mtx->mtx_oldspl;
			return -1;
		}
	}
	return mtx->mtx_oldspl;
}

void
_mutex_exit(kmutex_t *mtx, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	int s = -1;

	if (__predict_false(owner_load(mtx) != ht))
		panic("mutex_exit: %s not held by %s at %s:%d",
		    mtx->mtx_lo.lo_name, ht->ht_name, file, line);
	if (mutex_is_spin(mtx))
		s = mutex_spin_restore_level(mtx, ht);	/* before the release */
	witness_released(&mtx->mtx_lo, file, line);
	__atomic_store_n(&mtx->mtx_owner, NULL, __ATOMIC_RELAXED);
	hs_unlock(&mtx->mtx_lock);
	if (mutex_is_spin(mtx)) {
		ht->ht_nspin--;
		if (s >= 0)
			splx(s);
	}
	host_hook(HE_UNLOCK, mtx, 0, file, line);
}

bool
mutex_owned(const kmutex_t *mtx)
{
	struct host_thread *ht = host_curthread;

	return ht != NULL && owner_load(mtx) == ht;
}
