/*
 * host/rcu.c: liburcu memb flavour behind four calls.
 */
#if defined(__SANITIZE_THREAD__)
#define HOST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HOST_TSAN 1
#endif
#endif

#ifndef HOST_TSAN
#define _LGPL_SOURCE	/* inline fast paths; TSan must see the calls */
#endif
#include <urcu/urcu-memb.h>

#include "rcu.h"

#ifdef HOST_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static char rcu_tsan_sync;
#endif

void
host_rcu_register(void)
{
	urcu_memb_register_thread();
}

void
host_rcu_unregister(void)
{
	urcu_memb_unregister_thread();
}

void
host_rcu_read_lock(void)
{
	urcu_memb_read_lock();
}

void
host_rcu_read_unlock(void)
{
#ifdef HOST_TSAN
	__tsan_release(&rcu_tsan_sync);
#endif
	urcu_memb_read_unlock();
}

void
host_rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
#ifdef HOST_TSAN
	__tsan_acquire(&rcu_tsan_sync);
#endif
}
