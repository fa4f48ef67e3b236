/*
 * host/trap.c: SIGSEGV -> (pmap, va, access) -> fixup or fault hook.
 *
 * The handler runs on the faulting thread with SA_NODEFER, so a fault
 * taken while handling a fault (the VM touching user memory) nests.  It
 * never allocates: window lookup is an RCU read of a sorted array.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "lwp.h"
#include "rcu.h"
#include "thread.h"
#include "trap.h"

#define TRAP_MAXWIN	4096
#define TRAP_LOOP_MAX	100000	/* identical faults in a row: a fault loop */

struct trap_window {
	uintptr_t	tw_start;
	uintptr_t	tw_end;
	pmap_t		tw_pmap;
	vaddr_t		tw_va;		/* va at tw_start */
};

struct trap_windows {
	int			tws_n;
	struct trap_window	tws_w[];	/* sorted by tw_start */
};

static struct trap_windows *windows;		/* RCU-published */
static pthread_mutex_t windows_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(host_fault_hook_t) fault_hook;
static struct sigaction old_segv;
static bool trap_installed;
static _Atomic uint64_t ntraps, nfixups, nfaults, nsegv;

void
host_set_fault_hook(host_fault_hook_t fn)
{
	atomic_store(&fault_hook, fn);
}

static const struct trap_window *
window_lookup(const struct trap_windows *tws, uintptr_t addr)
{
	int lo = 0, hi, mid;

	if (tws == NULL)
		return NULL;
	hi = tws->tws_n - 1;
	while (lo <= hi) {
		mid = (lo + hi) / 2;
		if (addr < tws->tws_w[mid].tw_start)
			hi = mid - 1;
		else if (addr >= tws->tws_w[mid].tw_end)
			lo = mid + 1;
		else
			return &tws->tws_w[mid];
	}
	return NULL;
}

int
host_trap_add_window(uintptr_t start, uintptr_t end, pmap_t pm,
    vaddr_t va_of_start)
{
	struct trap_windows *old, *new;
	struct trap_window tw = { start, end, pm, va_of_start };
	int i, n;

	hs_lock(&windows_lock);
	old = windows;
	n = old != NULL ? old->tws_n : 0;
	if (n >= TRAP_MAXWIN) {
		hs_unlock(&windows_lock);
		return ENOSPC;
	}
	new = malloc(sizeof(*new) + (size_t)(n + 1) * sizeof(new->tws_w[0]));
	if (new == NULL) {
		hs_unlock(&windows_lock);
		return ENOMEM;
	}
	/* Copy the entries below start, the new one, then the rest. */
	for (i = 0; i < n && old->tws_w[i].tw_start < start; i++)
		new->tws_w[i] = old->tws_w[i];
	KASSERT(i == 0 || old->tws_w[i - 1].tw_end <= start);
	KASSERT(i == n || old->tws_w[i].tw_start >= end);
	new->tws_w[i] = tw;
	for (; i < n; i++)
		new->tws_w[i + 1] = old->tws_w[i];
	new->tws_n = n + 1;
	host_rcu_publish(&windows, new);
	hs_unlock(&windows_lock);
	host_rcu_synchronize();
	free(old);
	return 0;
}

void
host_trap_remove_window(uintptr_t start)
{
	struct trap_windows *old, *new;
	int i, j, n;

	hs_lock(&windows_lock);
	old = windows;
	KASSERT(old != NULL);
	n = old->tws_n;
	new = malloc(sizeof(*new) + (size_t)n * sizeof(new->tws_w[0]));
	if (new == NULL)
		panic("host_trap_remove_window: out of host memory");
	for (i = 0, j = 0; i < n; i++)
		if (old->tws_w[i].tw_start != start)
			new->tws_w[j++] = old->tws_w[i];
	KASSERTMSG(j == n - 1, "host_trap_remove_window: %#lx not a window",
	    (unsigned long)start);
	new->tws_n = j;
	host_rcu_publish(&windows, new);
	hs_unlock(&windows_lock);
	host_rcu_synchronize();
	free(old);
}

/* The access type of a fault, from the saved machine state. */
static vm_prot_t
trap_access(const ucontext_t *uc)
{
#if defined(__x86_64__)
	unsigned long err = (unsigned long)uc->uc_mcontext.gregs[REG_ERR];

	if (err & 0x10)
		return VM_PROT_EXECUTE;
	return (err & 0x2) ? VM_PROT_WRITE : VM_PROT_READ;
#else
#error "host/trap.c: decode the fault's access type for this architecture"
#endif
}

static void __noreturn
trap_not_ours(void *addr, struct host_thread *ht)
{
	host_printf("trap: host SIGSEGV at %p outside every window "
	    "(thread %s)\n", addr, ht != NULL ? ht->ht_name : "?");
	panic("trap: unexpected SIGSEGV at %p", addr);
}

static void
trap_handler(int sig __unused, siginfo_t *si, void *ctx)
{
	struct host_thread *ht = host_curthread;
	uintptr_t addr = (uintptr_t)si->si_addr;
	const struct trap_window *tw;
	host_fault_hook_t hook;
	pmap_t pm;
	vaddr_t va;
	vm_prot_t access;
	bool valid;
	int error, saved_errno = errno;

	if (ht == NULL || !ht->ht_rcu)
		trap_not_ours(si->si_addr, ht);
	host_rcu_read_lock();
	tw = window_lookup(host_rcu_deref(&windows), addr);
	if (tw == NULL) {
		host_rcu_read_unlock();
		trap_not_ours(si->si_addr, ht);
	}
	pm = tw->tw_pmap;
	va = tw->tw_va + (addr - tw->tw_start);
	host_rcu_read_unlock();
	/* (a window is removed only after its pmap is gone: pm stays valid
	 * for as long as it can fault) */
	access = trap_access(ctx);
	atomic_fetch_add_explicit(&ntraps, 1, memory_order_relaxed);
	host_hook(HE_TRAP_ENTER, pm, va, __FILE__, __LINE__);
	ht->ht_trap_depth++;

	if (ht->ht_loop_va == trunc_page(va) && ht->ht_loop_access == access) {
		if (++ht->ht_loop_count > TRAP_LOOP_MAX)
			panic("trap: fault loop at va %#lx access %d",
			    (unsigned long)va, access);
	} else {
		ht->ht_loop_va = trunc_page(va);
		ht->ht_loop_access = access;
		ht->ht_loop_count = 0;
	}

	error = 0;
	if (pmap_fault_fixup(pm, trunc_page(va), access, &valid)) {
		atomic_fetch_add_explicit(&nfixups, 1, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&nfaults, 1, memory_order_relaxed);
		hook = atomic_load(&fault_hook);
		error = hook != NULL ? hook(pm, trunc_page(va), access, valid) :
		    EFAULT;
	}
	ht->ht_trap_depth--;
	host_hook(HE_TRAP_EXIT, pm, (uintptr_t)error, __FILE__, __LINE__);
	if (error == 0) {
		if (ht->ht_trap_depth == 0)
			preempt();	/* return to user mode */
		errno = saved_errno;
		return;
	}

	/* Refused: a simulated SIGSEGV for the user-mode caller. */
	atomic_fetch_add_explicit(&nsegv, 1, memory_order_relaxed);
	ht->ht_loop_va = 0;
	if (ht->ht_catch == NULL)
		panic("trap: unhandled fault at va %#lx (access %d, error %d) "
		    "outside host_user_call", (unsigned long)va, access, error);
	{
		sigjmp_buf *jb = ht->ht_catch;

		ht->ht_catch = NULL;
		ht->ht_fault.uf_pmap = pm;
		ht->ht_fault.uf_addr = va;
		ht->ht_fault.uf_va = trunc_page(va);
		ht->ht_fault.uf_access = access;
		ht->ht_fault.uf_error = error;
		ht->ht_trap_depth = 0;
		siglongjmp(*jb, 1);
	}
}

int
host_user_call(void (*fn)(void *), void *arg, struct host_user_fault *uf)
{
	struct host_thread *ht = host_thread_self();
	sigjmp_buf jb, *volatile saved = ht->ht_catch;

	if (sigsetjmp(jb, 1) != 0) {
		ht->ht_catch = saved;
		if (uf != NULL)
			*uf = ht->ht_fault;
		return EFAULT;
	}
	ht->ht_catch = &jb;
	fn(arg);
	ht->ht_catch = saved;
	return 0;
}

int
host_trap_init(void)
{
	struct sigaction sa;

	if (trap_installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = trap_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_segv) != 0)
		return errno;
	trap_installed = true;
	return 0;
}

void
host_trap_fini(void)
{
	if (!trap_installed)
		return;
	sigaction(SIGSEGV, &old_segv, NULL);
	trap_installed = false;
}

void
host_trap_get_stats(struct host_trap_stats *st)
{
	st->ntraps = atomic_load(&ntraps);
	st->nfixups = atomic_load(&nfixups);
	st->nfaults = atomic_load(&nfaults);
	st->nsegv = atomic_load(&nsegv);
}
