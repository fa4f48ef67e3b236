/*
 * host/rwlock.h: rwlock(9), the kernel's reader/writer lock.
 *
 * NetBSD's interface (rw_enter with RW_READER/RW_WRITER, rw_tryenter,
 * rw_exit, rw_downgrade, rw_tryupgrade, rw_*_held) plus OpenBSD's flags,
 * since the seeds use both: rw_enter(rw, RW_WRITE | RW_NOSLEEP) is a try
 * and returns EBUSY when it fails.  Writers are preferred: a reader waits
 * while a writer waits, so a writer cannot starve.
 *
 * rw_read_held() is true when the *calling thread* holds the lock shared
 * (NetBSD can only say "some reader holds it"; we can say more, and the
 * seeds' assertions mean the stricter thing).
 */
#ifndef HOST_RWLOCK_H
#define HOST_RWLOCK_H

#include <pthread.h>

#include "witness.h"

struct host_thread;

typedef enum {
	RW_READER = 0x1,
	RW_WRITER = 0x2,
} krw_t;
#define RW_READ		RW_READER	/* OpenBSD */
#define RW_WRITE	RW_WRITER
#define RW_OPMASK	0x3
#define RW_NOSLEEP	0x10		/* OpenBSD: try, EBUSY on failure */

typedef struct krwlock {
	pthread_mutex_t		rw_mtx;		/* internal */
	pthread_cond_t		rw_rcv;		/* readers wait here */
	pthread_cond_t		rw_wcv;		/* writers wait here */
	int			rw_readers;	/* [rw_mtx] */
	int			rw_wwait;	/* [rw_mtx] writers waiting */
	struct host_thread	*rw_writer;	/* [a] */
	struct lock_object	rw_lo;		/* [I] */
} krwlock_t;

void _rw_init(krwlock_t *rw, const char *name, const char *file, int line);
void rw_destroy(krwlock_t *rw);
int _rw_enter(krwlock_t *rw, int op, const char *file, int line);
int _rw_tryenter(krwlock_t *rw, krw_t op, const char *file, int line);
void _rw_exit(krwlock_t *rw, const char *file, int line);
void _rw_downgrade(krwlock_t *rw, const char *file, int line);
int _rw_tryupgrade(krwlock_t *rw, const char *file, int line);

bool rw_write_held(const krwlock_t *rw);	/* by the caller */
bool rw_read_held(const krwlock_t *rw);		/* by the caller */
bool rw_lock_held(const krwlock_t *rw);		/* by the caller, either way */
krw_t rw_lock_op(const krwlock_t *rw);		/* how the caller holds it */

#define rw_init(rw)		_rw_init((rw), NULL, __FILE__, __LINE__)
#define rw_init_class(rw, name)	_rw_init((rw), (name), __FILE__, __LINE__)
#define rw_enter(rw, op)	_rw_enter((rw), (op), __FILE__, __LINE__)
#define rw_tryenter(rw, op)	_rw_tryenter((rw), (op), __FILE__, __LINE__)
#define rw_exit(rw)		_rw_exit((rw), __FILE__, __LINE__)
#define rw_downgrade(rw)	_rw_downgrade((rw), __FILE__, __LINE__)
#define rw_tryupgrade(rw)	_rw_tryupgrade((rw), __FILE__, __LINE__)

#define RW_ASSERT_WRLOCK(rw)	KASSERT(rw_write_held(rw))

#endif /* HOST_RWLOCK_H */
