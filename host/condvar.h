/*
 * host/condvar.h: condvar(9).
 *
 * cv_wait releases the interlock and the LWP's CPU, sleeps, and takes both
 * back.  Timeouts are in ticks of the simulated clock (host/clock.h).
 */
#ifndef HOST_CONDVAR_H
#define HOST_CONDVAR_H

#include <pthread.h>

#include "mutex.h"

typedef struct kcondvar {
	pthread_cond_t	cv_cond;
	const char	*cv_wmesg;	/* [I] */
	int		cv_waiters;	/* [interlock] */
} kcondvar_t;

void cv_init(kcondvar_t *cv, const char *wmesg);
void cv_destroy(kcondvar_t *cv);
void _cv_wait(kcondvar_t *cv, kmutex_t *mtx, const char *file, int line);
/* => returns 0, or EWOULDBLOCK when `ticks` (> 0) ran out */
int _cv_timedwait(kcondvar_t *cv, kmutex_t *mtx, int ticks,
    const char *file, int line);
void _cv_signal(kcondvar_t *cv, const char *file, int line);
void _cv_broadcast(kcondvar_t *cv, const char *file, int line);
/* => call with the interlock held */
bool cv_has_waiters(const kcondvar_t *cv);

#define cv_wait(cv, m)		_cv_wait((cv), (m), __FILE__, __LINE__)
#define cv_timedwait(cv, m, t)	_cv_timedwait((cv), (m), (t), __FILE__, __LINE__)
#define cv_signal(cv)		_cv_signal((cv), __FILE__, __LINE__)
#define cv_broadcast(cv)	_cv_broadcast((cv), __FILE__, __LINE__)

#endif /* HOST_CONDVAR_H */
