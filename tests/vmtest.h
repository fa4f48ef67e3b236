/*
 * tests/vmtest.h: boot the machine and the VM for a test.
 *
 * Criterion forks every test, so each test boots its own machine:
 * vmtest_boot() in the suite's .init, vmtest_shutdown() in .fini.
 */
#ifndef TESTS_VMTEST_H
#define TESTS_VMTEST_H

#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "host/hook.h"
#include "host/lwp.h"
#include "host/machine.h"
#include "host/trap.h"
#include "vm/uvm.h"
#include "vm/uvm_map.h"
#include "vm/uvm_pdaemon.h"
#include "vm/uvm_swap.h"

static inline void
vmtest_boot_ram(uint64_t ram)
{
	struct machine_config mc;

	machine_config_default(&mc);
	mc.mc_ram = ram;
	mc.mc_seed = 1;
	cr_assert_eq(host_boot(&mc), 0, "%s", host_boot_error());
	uvm_init();
}

static inline void
vmtest_boot(void)
{
	vmtest_boot_ram(16ull << 20);
}

/* A swap device of npages pages in a temporary file. */
static inline void
vmtest_attach_swap(uint64_t npages)
{
	cr_assert_eq(uvm_swap_attach(NULL, npages, 0), 0, "%s",
	    uvm_swap_error());
}

static inline void
vmtest_shutdown(void)
{
	/* The process ends with the test; only stop the machine's threads. */
	host_shutdown();
}

/* as_pagedaemon: run fn(arg) on a new LWP of the pagedaemon's process. */
static inline void
as_pagedaemon(void (*fn)(void *), void *arg)
{
	struct lwp *l;

	cr_assert_eq(lwp_create(__atomic_load_n(&uvm.pagedaemon_proc,
	    __ATOMIC_ACQUIRE), "pdtest", LW_SYSTEM, fn, arg, &l), 0);
	lwp_join(l);
}

/*
 * vmtest_system_lwp: run fn(arg) on an LW_SYSTEM LWP of a new system
 * process (as kern_swapper_start runs the swapper): not proc0, for which
 * uvm_wait refuses to sleep ("during boot").  The process stays (on
 * allproc) until the machine goes.
 */
static inline struct lwp *
vmtest_system_lwp(const char *name, void (*fn)(void *), void *arg)
{
	struct proc *p;
	struct lwp *l;

	cr_assert_eq(proc_create(name, &p), 0);
	mutex_enter(&p->p_lock);
	p->p_flag |= P_SYSTEM;
	mutex_exit(&p->p_lock);
	cr_assert_eq(lwp_create(p, name, LW_SYSTEM, fn, arg, &l), 0);
	return l;
}

/* vmtest_lwp_stat: l's l_stat, read under its lock. */
static inline int
vmtest_lwp_stat(struct lwp *l)
{
	int st;

	lwp_lock(l);
	st = l->l_stat;
	lwp_unlock(l);
	return st;
}

/* vmtest_lwp_waits_in: does l sleep in wmesg (under its lock)? */
static inline bool
vmtest_lwp_waits_in(struct lwp *l, const char *wmesg)
{
	bool yes;

	lwp_lock(l);
	yes = l->l_stat == LSSLEEP && l->l_wmesg != NULL &&
	    strcmp(l->l_wmesg, wmesg) == 0;
	lwp_unlock(l);
	return yes;
}

/* scan_inactive_fn: one uvmpd_scan_inactive pass (arg: the pma, or NULL). */
static inline void
scan_inactive_fn(void *arg)
{
	uvm_lock_pageq();
	uvmpd_scan_inactive(arg, &uvm.page_inactive);
	uvm_unlock_pageq();
}

/* One access of a user page in user mode (user_access). */
struct vmtest_access {
	struct vmspace	*vm;
	vaddr_t		va;
	bool		write;
	uint64_t	value;
};

static inline void
vmtest_do_access(void *arg)
{
	struct vmtest_access *a = arg;
	volatile uint64_t *p = pmap_hostaddr(a->vm->vm_map.pmap, a->va);

	if (a->write)
		*p = a->value;
	else
		a->value = *p;
}

/*
 * user_access: read (write: write *value) the word at va of vm in user
 * mode.  => 0, or the error of the simulated SIGSEGV; value may be NULL
 */
static inline int
user_access(struct vmspace *vm, vaddr_t va, bool write, uint64_t *value)
{
	struct vmtest_access a = { vm, va, write, value != NULL ? *value : 0 };
	struct host_user_fault uf;

	if (host_user_call(vmtest_do_access, &a, &uf) != 0)
		return uf.uf_error;
	if (value != NULL)
		*value = a.value;
	return 0;
}

/* vmtest_page_at: the page pm maps at va, or NULL. */
static inline struct vm_page *
vmtest_page_at(pmap_t pm, vaddr_t va)
{
	paddr_t pa;

	if (!pmap_extract(pm, va, &pa))
		return NULL;
	return PHYS_TO_VM_PAGE(pa);
}

/* vmtest_peek/vmtest_poke: a user access of the word at va that must work. */
static inline uint64_t
vmtest_peek(struct vmspace *vm, vaddr_t va)
{
	uint64_t v = 0;

	cr_assert_eq(user_access(vm, va, false, &v), 0, "read of %#lx",
	    (unsigned long)va);
	return v;
}

static inline void
vmtest_poke(struct vmspace *vm, vaddr_t va, uint64_t v)
{
	cr_assert_eq(user_access(vm, va, true, &v), 0, "write of %#lx",
	    (unsigned long)va);
}

/*
 * The disk gate: while it is set, a finished disk transfer waits before
 * its biodone (install disk_gate_hook with host_set_sched_hook), so an
 * I/O stays in flight for as long as a test needs.
 */
static inline int *
disk_gate_flag(void)
{
	static int gate;	/* [a] */

	return &gate;
}

static inline void
disk_gate_set(int on)
{
	__atomic_store_n(disk_gate_flag(), on, __ATOMIC_RELEASE);
}

static inline void
disk_gate_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	(void)obj;
	(void)arg;
	if (ev != HE_DISK_DONE)
		return;
	while (__atomic_load_n(disk_gate_flag(), __ATOMIC_ACQUIRE))
		usleep(100);
}

#endif /* TESTS_VMTEST_H */
