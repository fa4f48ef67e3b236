/*
 * host/trap.h: the trap: SIGSEGV on a window becomes a page fault.
 *
 * A fault on a pmap's window arrives as SIGSEGV on the faulting thread;
 * the handler decodes it to (pmap, va, access type), lets the pmap fix
 * up referenced/modified emulation, and otherwise calls the fault hook
 * (uvm_fault, installed by vm/; tests install their own) on that thread,
 * as a real trap runs on the faulting LWP.  A fault the hook refuses is
 * delivered to the thread as a simulated SIGSEGV: control returns to the
 * innermost host_user_call() with the fault described, never a crash.
 * A SIGSEGV outside every window is a real bug: panic with a dump.
 *
 * Window lookup is an RCU-published sorted array (host/rcu.h): no lock
 * and no allocation on the trap path.
 */
#ifndef HOST_TRAP_H
#define HOST_TRAP_H

#include "pmap.h"
#include "thread.h"

/*
 * The fault hook: resolve a fault on va of pm for `access`; `valid`: pm
 * maps va (a protection fault), as the MMU's present bit would say.
 * => returns 0 (retry the access) or an errno value (EFAULT: no mapping,
 *    EACCES: protection, ENOMEM: out of memory) to deliver SIGSEGV.
 */
typedef int (*host_fault_hook_t)(pmap_t pm, vaddr_t va, vm_prot_t access,
    bool valid);
void host_set_fault_hook(host_fault_hook_t fn);

/* struct host_user_fault (host/thread.h): the simulated SIGSEGV. */

/*
 * host_user_call: run fn(arg) in "user mode".  Returns 0 if it ran to the
 * end, or EFAULT with *uf filled if a fault was refused (fn was cut
 * short at the faulting access).
 */
int host_user_call(void (*fn)(void *), void *arg, struct host_user_fault *uf);

/* Register/unregister a window (pmap.c). */
int host_trap_add_window(uintptr_t start, uintptr_t end, pmap_t pm,
    vaddr_t va_of_start);
void host_trap_remove_window(uintptr_t start);

int host_trap_init(void);
void host_trap_fini(void);

/* Trap counters. */
struct host_trap_stats {
	uint64_t	ntraps;		/* SIGSEGVs on windows */
	uint64_t	nfixups;	/* resolved by the pmap */
	uint64_t	nfaults;	/* passed to the fault hook */
	uint64_t	nsegv;		/* delivered as simulated SIGSEGV */
};
void host_trap_get_stats(struct host_trap_stats *st);

#endif /* HOST_TRAP_H */
