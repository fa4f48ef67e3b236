/*
 * host/sleepq.h: tsleep(9)/msleep/wakeup on wait channels.
 *
 * A wait channel is any address.  Sleepers hash into sleep queues; a
 * sleeper is queued before its interlock is released, so a wakeup between
 * the caller's check and its sleep is never lost.  Timeouts are ticks of
 * the simulated clock (0: none); a timed-out sleep returns EWOULDBLOCK.
 * The seeds' spellings are all here: tsleep, msleep (kmutex interlock,
 * PNORELOCK), msleep_nsec/tsleep_nsec (OpenBSD, INFSLP), rwsleep_nsec
 * (rwlock interlock), wakeup, wakeup_one.
 *
 * => may sleep; never with a spin mutex other than the interlock held.
 */
#ifndef HOST_SLEEPQ_H
#define HOST_SLEEPQ_H

#include "mutex.h"
#include "rwlock.h"

#define INFSLP	UINT64_MAX	/* OpenBSD: no timeout */

int _tsleep(const void *ident, int pri, const char *wmesg, int timo,
    const char *file, int line);
int _msleep(const void *ident, kmutex_t *mtx, int pri, const char *wmesg,
    int timo, const char *file, int line);
int _msleep_nsec(const void *ident, kmutex_t *mtx, int pri,
    const char *wmesg, uint64_t nsecs, const char *file, int line);
int _rwsleep_nsec(const void *ident, krwlock_t *rw, int pri,
    const char *wmesg, uint64_t nsecs, const char *file, int line);
void _wakeup(const void *ident, const char *file, int line);
void _wakeup_one(const void *ident, const char *file, int line);

#define tsleep(id, pri, msg, timo) \
	_tsleep((id), (pri), (msg), (timo), __FILE__, __LINE__)
#define tsleep_nsec(id, pri, msg, ns) \
	_msleep_nsec((id), NULL, (pri), (msg), (ns), __FILE__, __LINE__)
#define msleep(id, mtx, pri, msg, timo) \
	_msleep((id), (mtx), (pri), (msg), (timo), __FILE__, __LINE__)
#define msleep_nsec(id, mtx, pri, msg, ns) \
	_msleep_nsec((id), (mtx), (pri), (msg), (ns), __FILE__, __LINE__)
#define rwsleep_nsec(id, rw, pri, msg, ns) \
	_rwsleep_nsec((id), (rw), (pri), (msg), (ns), __FILE__, __LINE__)
#define wakeup(id)	_wakeup((id), __FILE__, __LINE__)
#define wakeup_one(id)	_wakeup_one((id), __FILE__, __LINE__)

/* How many threads sleep on ident right now (tests, dumps). */
int sleepq_nsleepers(const void *ident);

#endif /* HOST_SLEEPQ_H */
