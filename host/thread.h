/*
 * host/thread.h: the host threads that run the machine.
 *
 * Every thread that runs machine code (simulated LWPs, the hardclock, disk
 * controllers, the watchdog, a test's main thread) has a struct
 * host_thread: its name, event ring, held-lock stack, sleep-queue state
 * and random stream.  A registry links them all for the watchdog and the
 * panic dump.  Threads made with host_thread_create() are registered
 * before they run (with signals blocked until then); any other thread is
 * registered on first use by host_thread_self().
 *
 * host_curthread is the thread-local fast path (NULL if not registered).
 */
#ifndef HOST_THREAD_H
#define HOST_THREAD_H

#include <pthread.h>
#include <setjmp.h>

#include "evring.h"
#include "rng.h"
#include "witness.h"

#define HOST_HELD_MAX	32

struct held_lock {
	const struct lock_object *hl_lock;
	uint8_t		hl_mode;	/* enum lock_mode */
	const char	*hl_file;
	int		hl_line;
};

struct lwp;
struct cpu_info;
struct pmap;
struct dsched_ent;

/* A fault refused by the VM, as delivered to host_user_call(). */
struct host_user_fault {
	struct pmap	*uf_pmap;
	vaddr_t		uf_va;		/* page-aligned fault address */
	vaddr_t		uf_addr;	/* the faulting va */
	int		uf_access;	/* VM_PROT_READ / WRITE / EXECUTE */
	int		uf_error;	/* what the fault hook returned */
};

struct host_thread {
	int			ht_id;		/* [I] registry order */
	char			ht_name[32];	/* [I] */
	pthread_t		ht_pthread;	/* [I] */
	struct evring		ht_ring;	/* owner writes */
	struct held_lock	ht_held[HOST_HELD_MAX];	/* owner writes, relaxed */
	int			ht_nheld;	/* owner writes, relaxed */
	struct host_rng		ht_rng;		/* owner only */
	int			ht_spl;		/* owner only: current spl */
	int			ht_nspin;	/* owner only: spin mutexes held */
	uint64_t		ht_progress;	/* owner writes, relaxed */

	/* sleep queues (host/sleepq.c): under the bucket lock */
	pthread_cond_t		ht_sleepcv;
	const void		*ht_wchan;	/* read relaxed by dumps */
	const char		*ht_wmesg;
	int			ht_woken;
	struct host_thread	*ht_sqnext;

	pthread_cond_t		ht_cpucv;	/* [run queue] CPU hand-off */
	struct lwp		*ht_lwp;	/* owner writes, relaxed: its LWP */
	struct cpu_info		*ht_cpu;	/* owner: CPU held, or NULL */
	int			ht_boundcpu;	/* owner: host binding, -1 none */

	/* the trap (host/trap.c): owner only */
	sigjmp_buf		*ht_catch;	/* where a refused fault goes */
	struct host_user_fault	ht_fault;	/* the refused fault */
	vaddr_t			ht_loop_va;	/* fault-loop detection */
	int			ht_loop_access;
	unsigned int		ht_loop_count;
	int			ht_trap_depth;
	bool			ht_rcu;		/* registered with liburcu */
	struct dsched_ent	*ht_ds;		/* owner: its entity under the
						   deterministic scheduler */

	struct host_thread	*ht_next;	/* [registry lock] */
};

extern __thread struct host_thread *host_curthread;

/* host_thread_self: this thread's record, registering it if needed. */
struct host_thread *host_thread_self(void);

/*
 * host_thread_create: start fn(arg) on a new pthread registered as
 * `name`.  Returns 0 or an errno value.
 */
int host_thread_create(pthread_t *tid, const char *name,
    void *(*fn)(void *), void *arg);

/* host_thread_exit_self: unregister (done automatically at pthread exit). */
void host_thread_unregister(void);

/* Iterate the registry (under its lock: fn must not create threads). */
void host_thread_foreach(void (*fn)(struct host_thread *, void *), void *arg);

/* Progress of all threads, past and present (the watchdog's count). */
uint64_t host_thread_progress_sum(void);

/* Print every thread: name, LWP state, wait channel, held locks. */
void host_thread_dump_all(void);
/* Print one thread's held locks. */
void host_thread_dump_held(const struct host_thread *ht);

#endif /* HOST_THREAD_H */
