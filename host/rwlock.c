/*
 * host/rwlock.c: kernel reader/writer locks.
 *
 * Built on a host mutex and two condition variables rather than
 * pthread_rwlock, which can neither downgrade nor try to upgrade.  The
 * internal mutex is held only for a few instructions; a thread that must
 * wait gives its CPU up (lwp_block) and takes one back after it has let
 * the internal mutex go, so no thread ever waits for a CPU while holding
 * it.  Writers are preferred: new readers wait while a writer waits.
 */
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "rwlock.h"
#include "thread.h"

static inline struct host_thread *
writer_load(const krwlock_t *rw)
{
	return __atomic_load_n(&rw->rw_writer, __ATOMIC_RELAXED);
}

void
_rw_init(krwlock_t *rw, const char *name, const char *file, int line)
{
	pthread_mutex_init(&rw->rw_mtx, NULL);
	pthread_cond_init(&rw->rw_rcv, NULL);
	pthread_cond_init(&rw->rw_wcv, NULL);
	rw->rw_readers = 0;
	rw->rw_wwait = 0;
	rw->rw_writer = NULL;
	lock_object_init(&rw->rw_lo, LK_RWLOCK, name, file, line);
}

void
rw_destroy(krwlock_t *rw)
{
	KASSERTMSG(writer_load(rw) == NULL && rw->rw_readers == 0,
	    "rw_destroy: %s is held", rw->rw_lo.lo_name);
	pthread_cond_destroy(&rw->rw_rcv);
	pthread_cond_destroy(&rw->rw_wcv);
	pthread_mutex_destroy(&rw->rw_mtx);
}

/* Can `op` be granted now?  => rw_mtx held */
static inline bool
rw_can_take(const krwlock_t *rw, int op)
{
	if (op == RW_WRITER)
		return rw->rw_writer == NULL && rw->rw_readers == 0;
	return rw->rw_writer == NULL && rw->rw_wwait == 0;
}

static inline void
rw_take(krwlock_t *rw, int op, struct host_thread *ht)
{
	if (op == RW_WRITER)
		__atomic_store_n(&rw->rw_writer, ht, __ATOMIC_RELAXED);
	else
		rw->rw_readers++;
}

int
_rw_enter(krwlock_t *rw, int op, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	int mode = op & RW_OPMASK;
	bool blocked = false;

	KASSERTMSG(mode == RW_READER || mode == RW_WRITER,
	    "rw_enter: bad op %#x at %s:%d", op, file, line);
	if (op & RW_NOSLEEP)
		return _rw_tryenter(rw, mode, file, line) ? 0 : EBUSY;
	if (__predict_false(writer_load(rw) == ht))
		panic("rw_enter: locking against myself: %s at %s:%d",
		    rw->rw_lo.lo_name, file, line);
	/* A reader wanting to write waits for itself forever. */
	if (__predict_false(mode == RW_WRITER &&
	    witness_held(&rw->rw_lo, LM_SHARED)))
		panic("rw_enter: %s: write wanted while read-held by %s at "
		    "%s:%d", rw->rw_lo.lo_name, ht->ht_name, file, line);
	if (witness_enabled())
		witness_wantlock(&rw->rw_lo, file, line);

	hs_lock(&rw->rw_mtx);
	if (!rw_can_take(rw, mode)) {
		/*
		 * A waiting writer holds new readers off from here on.  The
		 * hook (chaos may sleep there, a scheduler park) and the
		 * CPU hand-off run without rw_mtx; the condition is checked
		 * again under it, so a release in between is not missed.
		 */
		if (mode == RW_WRITER)
			rw->rw_wwait++;
		hs_unlock(&rw->rw_mtx);
		host_hook(HE_LOCK_WAIT, rw, (uintptr_t)mode, file, line);
		lwp_block(rw, rw->rw_lo.lo_name, &rw_syncobj);
		blocked = true;
		hs_lock(&rw->rw_mtx);
		if (mode == RW_WRITER) {
			while (!rw_can_take(rw, mode))
				hs_cond_wait(&rw->rw_wcv, &rw->rw_mtx);
			rw->rw_wwait--;
		} else {
			while (!rw_can_take(rw, mode))
				hs_cond_wait(&rw->rw_rcv, &rw->rw_mtx);
		}
	}
	rw_take(rw, mode, ht);
	hs_unlock(&rw->rw_mtx);
	if (blocked)
		lwp_unblock();
	witness_acquired(&rw->rw_lo, mode == RW_WRITER ? LM_EXCL : LM_SHARED,
	    file, line);
	host_hook(HE_LOCK, rw, (uintptr_t)mode, file, line);
	return 0;
}

int
_rw_tryenter(krwlock_t *rw, krw_t op, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	bool ok;

	KASSERT(op == RW_READER || op == RW_WRITER);
	hs_lock(&rw->rw_mtx);
	ok = rw_can_take(rw, op);
	if (ok)
		rw_take(rw, op, ht);
	hs_unlock(&rw->rw_mtx);
	if (ok)
		witness_acquired(&rw->rw_lo,
		    op == RW_WRITER ? LM_EXCL : LM_SHARED, file, line);
	host_hook(HE_TRYLOCK, rw, ok, file, line);
	return ok;
}

void
_rw_exit(krwlock_t *rw, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();

	if (writer_load(rw) == ht) {
		witness_released(&rw->rw_lo, file, line);
		hs_lock(&rw->rw_mtx);
		__atomic_store_n(&rw->rw_writer, NULL, __ATOMIC_RELAXED);
	} else {
		if (!witness_held(&rw->rw_lo, LM_SHARED))
			panic("rw_exit: %s not held by %s at %s:%d",
			    rw->rw_lo.lo_name, ht->ht_name, file, line);
		witness_released(&rw->rw_lo, file, line);
		hs_lock(&rw->rw_mtx);
		KASSERT(rw->rw_readers > 0);
		rw->rw_readers--;
	}
	if (rw->rw_writer == NULL && rw->rw_readers == 0 && rw->rw_wwait > 0)
		hs_cond_signal(&rw->rw_wcv);
	else if (rw->rw_wwait == 0)
		hs_cond_broadcast(&rw->rw_rcv);
	hs_unlock(&rw->rw_mtx);
	host_hook(HE_UNLOCK, rw, 0, file, line);
}

void
_rw_downgrade(krwlock_t *rw, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();

	if (writer_load(rw) != ht)
		panic("rw_downgrade: %s not write-held at %s:%d",
		    rw->rw_lo.lo_name, file, line);
	hs_lock(&rw->rw_mtx);
	__atomic_store_n(&rw->rw_writer, NULL, __ATOMIC_RELAXED);
	rw->rw_readers++;
	/* Waiting readers may come in beside us, unless a writer waits. */
	if (rw->rw_wwait == 0)
		hs_cond_broadcast(&rw->rw_rcv);
	hs_unlock(&rw->rw_mtx);
	witness_mode_changed(&rw->rw_lo, LM_SHARED);
	host_hook(HE_UNLOCK, rw, RW_WRITER, file, line);
}

int
_rw_tryupgrade(krwlock_t *rw, const char *file, int line)
{
	struct host_thread *ht = host_thread_self();
	bool ok;

	if (!witness_held(&rw->rw_lo, LM_SHARED))
		panic("rw_tryupgrade: %s not read-held at %s:%d",
		    rw->rw_lo.lo_name, file, line);
	hs_lock(&rw->rw_mtx);
	ok = rw->rw_readers == 1 && rw->rw_writer == NULL;
	if (ok) {
		rw->rw_readers = 0;
		__atomic_store_n(&rw->rw_writer, ht, __ATOMIC_RELAXED);
	}
	hs_unlock(&rw->rw_mtx);
	if (ok)
		witness_mode_changed(&rw->rw_lo, LM_EXCL);
	host_hook(HE_TRYLOCK, rw, ok ? 2 : 0, file, line);
	return ok;
}

bool
rw_write_held(const krwlock_t *rw)
{
	return host_curthread != NULL && writer_load(rw) == host_curthread;
}

bool
rw_read_held(const krwlock_t *rw)
{
	return host_curthread != NULL && witness_held(&rw->rw_lo, LM_SHARED);
}

bool
rw_lock_held(const krwlock_t *rw)
{
	return rw_write_held(rw) || rw_read_held(rw);
}

krw_t
rw_lock_op(const krwlock_t *rw)
{
	KASSERT(rw_lock_held(rw));
	return rw_write_held(rw) ? RW_WRITER : RW_READER;
}
