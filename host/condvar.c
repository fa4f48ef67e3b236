/*
 * host/condvar.c: condition variables over pthread condition variables.
 *
 * The interlock's pthread mutex is the condvar's mutex, so the release of
 * the interlock and the start of the wait are one atomic step: a signal
 * sent after the waiter checked its condition under the interlock is
 * never lost.
 */
#include <time.h>

#include "clock.h"
#include "condvar.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "spl.h"
#include "thread.h"

void
cv_init(kcondvar_t *cv, const char *wmesg)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cv->cv_cond, &attr);
	pthread_condattr_destroy(&attr);
	cv->cv_wmesg = wmesg;
	cv->cv_waiters = 0;
}

void
cv_destroy(kcondvar_t *cv)
{
	KASSERTMSG(cv->cv_waiters == 0, "cv_destroy: %s has waiters",
	    cv->cv_wmesg);
	pthread_cond_destroy(&cv->cv_cond);
}

/*
 * cv_wait_common: the interlock is handed to the pthread wait; our own
 * owner and held-lock records are dropped before and restored after.
 * => mtx held by the caller, adaptive (a spin interlock is allowed too)
 * => no other spin mutex held: the waiter sleeps
 * => may sleep
 */
static int
cv_wait_common(kcondvar_t *cv, kmutex_t *mtx, uint64_t ticks,
    const char *file, int line)
{
	uint64_t deadline = 0;
	int error = 0;

	if (__predict_false(!mutex_owned(mtx)))
		panic("cv_wait: %s: interlock %s not held at %s:%d",
		    cv->cv_wmesg, mtx->mtx_lo.lo_name, file, line);
	KASSERTMSG(host_curthread->ht_nspin == (mtx->mtx_ipl > IPL_NONE),
	    "cv_wait: %s: would sleep holding a spin mutex at %s:%d",
	    cv->cv_wmesg, file, line);
	host_hook(HE_CV_WAIT, cv, ticks, file, line);
	if (ticks != 0)
		deadline = host_real_ns() + host_ticks_to_real_ns(ticks);
	cv->cv_waiters++;
	witness_released(&mtx->mtx_lo, file, line);
	__atomic_store_n(&mtx->mtx_owner, NULL, __ATOMIC_RELAXED);
	if (mtx->mtx_ipl > IPL_NONE) {
		host_curthread->ht_nspin--;
		splx(mtx->mtx_oldspl);	/* the only spin mutex held */
	}
	lwp_block(cv, cv->cv_wmesg, &cv_syncobj);
	if (ticks == 0)
		hs_cond_wait(&cv->cv_cond, &mtx->mtx_lock);
	else if (hs_cond_timedwait(&cv->cv_cond, &mtx->mtx_lock, deadline) != 0)
		error = EWOULDBLOCK;
	cv->cv_waiters--;
	/*
	 * Take a CPU back before the interlock, never while holding it: a
	 * spin interlock's holder must not wait for a CPU.  Letting the
	 * interlock go for a moment is a spurious wakeup, which condvar
	 * users must tolerate anyway.
	 */
	hs_unlock(&mtx->mtx_lock);
	lwp_unblock();
	_mutex_enter(mtx, file, line);
	host_hook(HE_SLEEP_DONE, cv, (uintptr_t)error, file, line);
	return error;
}

void
_cv_wait(kcondvar_t *cv, kmutex_t *mtx, const char *file, int line)
{
	(void)cv_wait_common(cv, mtx, 0, file, line);
}

int
_cv_timedwait(kcondvar_t *cv, kmutex_t *mtx, int ticks, const char *file,
    int line)
{
	KASSERT(ticks >= 0);
	return cv_wait_common(cv, mtx, ticks == 0 ? 0 : (uint64_t)ticks,
	    file, line);
}

void
_cv_signal(kcondvar_t *cv, const char *file, int line)
{
	host_hook(HE_CV_SIGNAL, cv, 0, file, line);
	hs_cond_signal(&cv->cv_cond);
}

void
_cv_broadcast(kcondvar_t *cv, const char *file, int line)
{
	host_hook(HE_CV_SIGNAL, cv, 1, file, line);
	hs_cond_broadcast(&cv->cv_cond);
}

bool
cv_has_waiters(const kcondvar_t *cv)
{
	return cv->cv_waiters > 0;
}
