/*
 * host/rcu.h: the read-copy-update shim over liburcu (memb flavour).
 *
 * Used only for the machine's read-mostly registries on hot paths (the
 * trap's window lookup, the lock-order checker's closure), never for
 * UVM's own structures, which keep UVM's locks.
 *
 * A thread must be registered (host_thread_self() does it) before it
 * enters a read-side section; read-side sections may be taken in the
 * SIGSEGV handler.  Publication uses C11 release/acquire, and under
 * ThreadSanitizer the shim tells TSan that a grace period orders every
 * earlier read-side section before the writer's free (liburcu 0.13 has
 * no annotations of its own).
 */
#ifndef HOST_RCU_H
#define HOST_RCU_H

#include "param.h"

void host_rcu_register(void);
void host_rcu_unregister(void);
void host_rcu_read_lock(void);
void host_rcu_read_unlock(void);
/* host_rcu_synchronize: wait for a grace period. => may sleep */
void host_rcu_synchronize(void);

#define host_rcu_publish(pp, v)	__atomic_store_n((pp), (v), __ATOMIC_RELEASE)
#define host_rcu_deref(pp)	__atomic_load_n((pp), __ATOMIC_ACQUIRE)

#endif /* HOST_RCU_H */
