/*
 * host/mutex.h: mutex(9), the kernel's adaptive mutex.
 *
 * NetBSD's names (mutex_enter/tryenter/exit/owned) with OpenBSD's
 * spellings as aliases (mtx_enter/mtx_leave, MUTEX_ASSERT_LOCKED), since
 * the seeds use both.  An adaptive mutex spins briefly, then blocks; a
 * blocked LWP gives its simulated CPU up, as a thread on a turnstile does.
 * A mutex initialised above IPL_NONE is a "spin" mutex: it records the
 * raised spl for its holder (host/spl.h).
 *
 * Every operation passes through host_hook() and the held-lock stack and
 * lock-order checker (host/witness.h).
 */
#ifndef HOST_MUTEX_H
#define HOST_MUTEX_H

#include <pthread.h>

#include "spl.h"
#include "witness.h"

struct host_thread;

typedef enum { MUTEX_DEFAULT = 0, MUTEX_DRIVER = 1, MUTEX_SPIN = 2 } kmutex_type_t;

typedef struct kmutex {
	pthread_mutex_t		mtx_lock;
	struct host_thread	*mtx_owner;	/* [a] */
	struct lock_object	mtx_lo;		/* [I] */
	int			mtx_ipl;	/* [I] */
	int			mtx_oldspl;	/* [mtx] holder's spl before */
} kmutex_t;

void _mutex_init(kmutex_t *mtx, kmutex_type_t type, int ipl,
    const char *name, const char *file, int line);
void mutex_destroy(kmutex_t *mtx);
void _mutex_enter(kmutex_t *mtx, const char *file, int line);
int _mutex_tryenter(kmutex_t *mtx, const char *file, int line);
void _mutex_exit(kmutex_t *mtx, const char *file, int line);
/* mutex_owned: held by the calling thread. => never sleeps */
bool mutex_owned(const kmutex_t *mtx);

#define mutex_init(m, t, ipl)	_mutex_init((m), (t), (ipl), NULL, __FILE__, __LINE__)
#define mutex_init_class(m, t, ipl, name) \
	_mutex_init((m), (t), (ipl), (name), __FILE__, __LINE__)
#define mutex_enter(m)		_mutex_enter((m), __FILE__, __LINE__)
#define mutex_tryenter(m)	_mutex_tryenter((m), __FILE__, __LINE__)
#define mutex_exit(m)		_mutex_exit((m), __FILE__, __LINE__)

/* OpenBSD spellings */
#define mtx_enter(m)		mutex_enter(m)
#define mtx_enter_try(m)	mutex_tryenter(m)
#define mtx_leave(m)		mutex_exit(m)
#define MUTEX_ASSERT_LOCKED(m)	KASSERT(mutex_owned(m))
#define MUTEX_ASSERT_UNLOCKED(m) KASSERT(!mutex_owned(m))

#endif /* HOST_MUTEX_H */
