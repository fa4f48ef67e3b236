/*
 * vm/kern_proc.c: fork1, LWP creation, exit and reap around the glue
 * seeds (see kern_proc.h).  Our own code, in the spirit of NetBSD's
 * kern_fork.c/kern_lwp.c/kern_exit.c and FreeBSD's kern_fork.c/
 * kern_thread.c/kern_exit.c, reduced to what the VM sees of them.
 *
 * The glue is chosen once, at boot, before any LWP of a process exists:
 * the two kernels differ in what an LWP carries (a u-area or a kernel
 * stack) and in when an exiting process lets go of its address space.
 * The default is NetBSD's (--glue netbsd): the rest of the VM is UVM,
 * whose own glue it is; FreeBSD's is the translation (docs/glue.md).
 */
#include <errno.h>
#include <string.h>

#include "host/lwp.h"
#include "kern_proc.h"
#include "uvm.h"
#include "uvm_glue.h"
#include "uvm_map.h"
#include "uvm_pdaemon.h"
#include "vm_glue.h"

static enum uvm_glue_kind kern_glue_kind = UVM_GLUE_NETBSD;	/* [I] */
static enum kern_swapper_kind kern_swapper_kind = KERN_SWAPPER_OFF; /* [I] */
static struct lwp *kern_swapper_lwp;		/* [I] while it runs */
static struct proc *kern_swapper_proc;		/* [I] while it runs */
static bool kern_swapper_on;			/* [a] */
static int kern_swap_out_peak;			/* [a] sampled */
static uint64_t kern_nforked, kern_nreaped;			/* [a] */
static int kern_nlive, kern_peak;				/* [a] */

/* local prototypes */
static void kern_lwp_free(struct lwp *l);
static void kern_lwp_run(struct lwp *l);
static void kern_swapper_main(void *arg);
static void kern_swapout_procs(void);

void
kern_set_glue(enum uvm_glue_kind kind)
{
	KASSERT(kind == UVM_GLUE_NETBSD || kind == UVM_GLUE_FREEBSD);
	kern_glue_kind = kind;
	/*
	 * Whatever the glue, a reaped LWP gives back what it carries
	 * (NetBSD's lwp_free: uvm_lwp_exit; FreeBSD's thread_free:
	 * vm_thread_dispose).
	 */
	host_set_lwp_free_hook(kern_lwp_free);
	host_set_lwp_run_hook(kern_lwp_run);
}

enum uvm_glue_kind
kern_glue(void)
{
	return kern_glue_kind;
}

const char *
kern_glue_name(enum uvm_glue_kind kind)
{
	return kind == UVM_GLUE_FREEBSD ? "freebsd" : "netbsd";
}

/*
 * kern_lwp_free: the host's free hook: l is reaped (its thread gone).
 * => may sleep
 */
static void
kern_lwp_free(struct lwp *l)
{
	if (l->l_addr != NULL)
		uvm_lwp_exit(l);
	if (__atomic_load_n(&l->l_kstack, __ATOMIC_RELAXED) != 0)
		vm_thread_dispose(l);
}

/*
 * kern_lwp_run: the host's run hook: every time an LWP gets a CPU (so
 * after a swap-in, before it runs), its u-area's or kernel stack's canary
 * is checked.  => never sleeps, takes no lock
 */
static void
kern_lwp_run(struct lwp *l)
{
	if (l->l_addr != NULL)
		uvm_uarea_check(l);
	if (__atomic_load_n(&l->l_kstack, __ATOMIC_RELAXED) != 0)
		vm_thread_check(l, "run");
}

/*
 * kern_fork_freebsd: FreeBSD's fork1 around vm_forkproc: the child's
 * thread (thread_alloc: its kernel stack) and, unless shared, the copy
 * of the vmspace (vmspace_fork) come first; vm_forkproc installs them.
 */
static int
kern_fork_freebsd(struct proc *p1, struct proc *p2, int flags,
    struct lwp **l2p)
{
	struct vmspace *vm2 = NULL;
	struct lwp *l2;
	int error;

	if ((error = lwp_alloc(p2, p2->p_comm, LW_INMEM, &l2)) != 0)
		return error;
	if (vm_thread_new(l2, 0) == 0) {
		lwp_discard(l2);
		return ENOMEM;
	}
	if ((flags & KFORK_SHAREVM) == 0 &&
	    (vm2 = uvmspace_fork(p1->p_vmspace)) == NULL) {
		lwp_discard(l2);	/* the free hook disposes the stack */
		return ENOMEM;
	}
	error = vm_forkproc(curlwp, p2, l2, vm2, RFPROC |
	    ((flags & KFORK_SHAREVM) ? RFMEM : 0) |
	    ((flags & KFORK_PPWAIT) ? RFPPWAIT : 0));
	if (error != 0) {
		if (vm2 != NULL)
			uvmspace_free(vm2);
		lwp_discard(l2);
		return error;
	}
	*l2p = l2;
	return 0;
}

/* kern_fork: see kern_proc.h. */
int
kern_fork(struct proc *p1, int flags, const char *name, void (*fn)(void *),
    void *arg, struct proc **p2p, struct lwp **l2p)
{
	struct lwp *l2 = NULL;
	struct proc *p2;
	int error, live, peak;

	KASSERTMSG(curlwp != NULL && curlwp->l_proc == p1,
	    "kern_fork: not called by an LWP of the forking process");
	if ((error = proc_create(name, &p2)) != 0)
		return error;
	p2->p_nice = p1->p_nice;
	memcpy(p2->p_rlimit, p1->p_rlimit, sizeof(p2->p_rlimit));

	if (kern_glue_kind == UVM_GLUE_NETBSD) {
		error = uvm_proc_fork(p1, p2, (flags & KFORK_SHAREVM) != 0);
		if (error == 0 &&
		    (error = uvm_lwp_create(p2, name, fn, arg, &l2)) != 0) {
			uvmspace_free(p2->p_vmspace);
			p2->p_vmspace = NULL;
		}
	} else {
		error = kern_fork_freebsd(p1, p2, flags, &l2);
		if (error == 0 &&
		    (error = cpu_lwp_fork(curlwp, l2, NULL, 0, fn, arg)) != 0) {
			lwp_discard(l2);
			vm_waitproc(p2);
		}
	}
	if (error != 0) {
		proc_free(p2);
		return error;
	}
	/* NetBSD's fork1 counts these */
	live = __atomic_add_fetch(&kern_nlive, 1, __ATOMIC_RELAXED);
	while (live > (peak = __atomic_load_n(&kern_peak, __ATOMIC_RELAXED)) &&
	    !__atomic_compare_exchange_n(&kern_peak, &peak, live, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		continue;
	__atomic_fetch_add(&kern_nforked, 1, __ATOMIC_RELAXED);
	uvmexp_inc(forks);
	if (flags & KFORK_PPWAIT)
		uvmexp_inc(forks_ppwait);
	if (flags & KFORK_SHAREVM)
		uvmexp_inc(forks_sharevm);
	*p2p = p2;
	*l2p = l2;
	return 0;
}

/* kern_lwp_create: see kern_proc.h. */
int
kern_lwp_create(struct proc *p, const char *name, void (*fn)(void *),
    void *arg, struct lwp **lp)
{
	struct lwp *l;
	int error;

	if (kern_glue_kind == UVM_GLUE_NETBSD)
		return uvm_lwp_create(p, name, fn, arg, lp);

	/* FreeBSD: thread_alloc's vm_thread_new, then the MD start */
	if ((error = lwp_alloc(p, name, LW_INMEM, &l)) != 0)
		return error;
	if (vm_thread_new(l, 0) == 0) {
		lwp_discard(l);
		return ENOMEM;
	}
	if ((error = cpu_lwp_fork(curlwp, l, NULL, 0, fn, arg)) != 0) {
		lwp_discard(l);		/* the free hook disposes the stack */
		return error;
	}
	*lp = l;
	return 0;
}

void
kern_lwp_join(struct lwp *l)
{
	lwp_join(l);		/* the free hook gives back its u-area/stack */
}

/* kern_exit: see kern_proc.h. */
void
kern_exit(struct proc *p)
{
	KASSERT(curlwp != NULL && curlwp->l_proc == p);
	mutex_enter(&p->p_lock);
	p->p_flag |= P_WEXIT;		/* exit1: the swapper leaves it */
	mutex_exit(&p->p_lock);
	if (kern_glue_kind == UVM_GLUE_NETBSD)
		uvm_proc_exit(p);
	/* FreeBSD: the reap's vm_waitproc frees it (vmspace_exitfree) */
}

/* kern_reap: see kern_proc.h. */
void
kern_reap(struct proc *p)
{
	if (kern_glue_kind == UVM_GLUE_FREEBSD) {
		if (p->p_vmspace != NULL)
			vm_waitproc(p);
	}
	proc_free(p);
	__atomic_fetch_sub(&kern_nlive, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&kern_nreaped, 1, __ATOMIC_RELAXED);
}

/*
 * The access checks.  NetBSD's seed has uvm_kernacc and uvm_vslock but no
 * useracc (removed from uvm_glue.c before 1.133): for the NetBSD glue,
 * kern_useracc is FreeBSD's check on curproc's map (uvm_map_checkprot),
 * and its vslock errors are uvm_fault_wire's.
 */
int
kern_vslock(vaddr_t addr, size_t len, vm_prot_t access)
{
	if (kern_glue_kind == UVM_GLUE_NETBSD)
		return uvm_vslock(curproc->p_vmspace, (void *)addr, len,
		    access);
	return vslock((void *)addr, len);
}

void
kern_vsunlock(vaddr_t addr, size_t len)
{
	if (kern_glue_kind == UVM_GLUE_NETBSD)
		uvm_vsunlock(curproc->p_vmspace, (void *)addr, len);
	else
		vsunlock((void *)addr, len);
}

bool
kern_useracc(vaddr_t addr, size_t len, vm_prot_t access)
{
	struct vm_map *map = &curproc->p_vmspace->vm_map;
	bool rv;

	if (kern_glue_kind == UVM_GLUE_FREEBSD)
		return useracc((void *)addr, (int)len, (int)access) != 0;
	if (addr + len > vm_map_max(map) || addr + len < addr)
		return false;
	vm_map_lock_read(map);
	rv = uvm_map_checkprot(map, trunc_page(addr), round_page(addr + len),
	    access);
	vm_map_unlock_read(map);
	return rv;
}

bool
kern_kernacc(vaddr_t addr, size_t len, vm_prot_t access)
{
	if (kern_glue_kind == UVM_GLUE_NETBSD)
		return uvm_kernacc((void *)addr, len, (access & VM_PROT_WRITE) ?
		    B_WRITE : B_READ);
	return kernacc((void *)addr, (int)len, (int)access) != 0;
}

/* kern_proc_stats: see kern_proc.h. */
void
kern_proc_stats(struct kern_proc_stats *st)
{
	struct pool_cache_stats pcs;
	struct vm_kstack_stats ks;

	memset(st, 0, sizeof(*st));
	st->kp_forked = __atomic_load_n(&kern_nforked, __ATOMIC_RELAXED);
	st->kp_reaped = __atomic_load_n(&kern_nreaped, __ATOMIC_RELAXED);
	st->kp_live = __atomic_load_n(&kern_nlive, __ATOMIC_RELAXED);
	st->kp_peak = __atomic_load_n(&kern_peak, __ATOMIC_RELAXED);
	uvm_uarea_stats(&pcs);
	st->kp_uareas = pcs.pcs_hits + pcs.pcs_misses;
	st->kp_uareas_made = pcs.pcs_nctor;
	st->kp_uareas_cached = pcs.pcs_cached;
	vm_kstack_stats(&ks);
	st->kp_kstacks = ks.ks_new + ks.ks_reused;
	st->kp_kstacks_made = ks.ks_new;
	st->kp_kstacks_cached = (uint64_t)ks.ks_cached;
	st->kp_kstacks_purged = ks.ks_purged;
	st->kp_max_kstack_used = ks.ks_max_used;
	st->kp_lowmem_events = uvm_lowmem_count();
}

/*
 * The swapper.
 */
void
kern_set_swapper(enum kern_swapper_kind kind)
{
	KASSERT(kind == KERN_SWAPPER_OFF ||
	    (kind == KERN_SWAPPER_NETBSD && kern_glue_kind == UVM_GLUE_NETBSD) ||
	    (kind == KERN_SWAPPER_FREEBSD &&
	    kern_glue_kind == UVM_GLUE_FREEBSD));
	KASSERT(!__atomic_load_n(&kern_swapper_on, __ATOMIC_RELAXED));
	kern_swapper_kind = kind;
}

enum kern_swapper_kind
kern_swapper(void)
{
	return kern_swapper_kind;
}

const char *
kern_swapper_name(enum kern_swapper_kind kind)
{
	switch (kind) {
	case KERN_SWAPPER_NETBSD: return "netbsd";
	case KERN_SWAPPER_FREEBSD: return "freebsd";
	default: return "off";
	}
}

void
kern_swap_tune(int slp, int idle_threshold1, int idle_threshold2,
    bool idle_enabled)
{
	KASSERT(!__atomic_load_n(&kern_swapper_on, __ATOMIC_RELAXED));
	maxslp = slp;
	vm_swap_idle_threshold1_set(idle_threshold1);
	vm_swap_idle_threshold2_set(idle_threshold2);
	vm_swap_idle_enabled_set(idle_enabled);
}

/*
 * kern_swapout_procs: FreeBSD's pagedaemon asks vm_daemon for
 * swapout_procs(VM_SWAP_NORMAL) when a scan leaves memory short; here
 * the pagedaemon calls it where uvmpd_scan calls uvm_swapout_threads
 * (there is no vm_daemon thread: the call is made directly).
 */
static void
kern_swapout_procs(void)
{
	swapout_procs(VM_SWAP_NORMAL);
}

/* kern_swapper_main: proc0's swapper thread. */
static void
kern_swapper_main(void *arg)
{
	(void)arg;
	if (kern_swapper_kind == KERN_SWAPPER_NETBSD)
		uvm_scheduler();
	else
		swapper();
}

int
kern_swapper_start(void)
{
	int error;

	if (kern_swapper_kind == KERN_SWAPPER_OFF)
		return 0;
	KASSERT(!__atomic_load_n(&kern_swapper_on, __ATOMIC_RELAXED));
	if (kern_swapper_kind == KERN_SWAPPER_NETBSD)
		uvm_scheduler_start();
	else
		vm_swapper_reset();
	/*
	 * The seeds' swapper is proc0's own loop; ours is a kernel thread of
	 * a system process of its own, as the pagedaemon's is: proc0 stands
	 * for the kernel at boot, where OpenBSD's uvm_wait (seed 003) may
	 * not sleep, and the swapper waits for memory in uvm_wait.
	 */
	if ((error = proc_create("swapper", &kern_swapper_proc)) != 0)
		goto fail;
	mutex_enter(&kern_swapper_proc->p_lock);
	kern_swapper_proc->p_flag |= P_SYSTEM;
	mutex_exit(&kern_swapper_proc->p_lock);
	error = lwp_create(kern_swapper_proc, "swapper", LW_SYSTEM,
	    kern_swapper_main, NULL, &kern_swapper_lwp);
	if (error != 0) {
		proc_free(kern_swapper_proc);
		kern_swapper_proc = NULL;
		goto fail;
	}
	__atomic_store_n(&kern_swapper_on, true, __ATOMIC_RELEASE);
	if (kern_swapper_kind == KERN_SWAPPER_NETBSD) {
		host_set_kick_scheduler(uvm_kick_scheduler);
		uvm_pdaemon_set_swapout(uvm_swapout_threads);
	} else {
		host_set_kick_scheduler(kick_proc0);
		uvm_pdaemon_set_swapout(kern_swapout_procs);
	}
	return 0;
fail:
	if (kern_swapper_kind == KERN_SWAPPER_NETBSD)
		uvm_scheduler_stop();
	return error;
}

void
kern_swapper_stop(void)
{
	if (!__atomic_load_n(&kern_swapper_on, __ATOMIC_ACQUIRE))
		return;
	uvm_pdaemon_set_swapout(NULL);
	host_set_kick_scheduler(NULL);
	if (kern_swapper_kind == KERN_SWAPPER_NETBSD)
		uvm_scheduler_stop();
	else
		vm_swapper_stop();
	lwp_join(kern_swapper_lwp);
	kern_swapper_lwp = NULL;
	proc_free(kern_swapper_proc);
	kern_swapper_proc = NULL;
	__atomic_store_n(&kern_swapper_on, false, __ATOMIC_RELEASE);
}

bool
kern_swapper_running(void)
{
	return __atomic_load_n(&kern_swapper_on, __ATOMIC_ACQUIRE);
}

void
kern_lwp_hold(struct lwp *l)
{
	if (kern_glue_kind == UVM_GLUE_NETBSD)
		uvm_lwp_hold(l);
	else
		PHOLD(l->l_proc);
}

void
kern_lwp_rele(struct lwp *l)
{
	if (kern_glue_kind == UVM_GLUE_NETBSD)
		uvm_lwp_rele(l);
	else
		PRELE(l->l_proc);
}

bool
kern_lwp_inmem(struct lwp *l)
{
	return uvm_lwp_inmem(l);
}

bool
kern_lwp_swapin_wanted(struct lwp *l)
{
	bool wanted;

	lwp_lock(l);
	wanted = l->l_stat == LSRUN && (l->l_flag & LW_INMEM) == 0;
	lwp_unlock(l);
	return wanted;
}

bool
kern_lwp_resident(struct lwp *l, char *why, size_t len)
{
	if (l->l_addr != NULL)
		return uvm_uarea_resident(l, why, len);
	if (__atomic_load_n(&l->l_kstack, __ATOMIC_RELAXED) != 0)
		return vm_thread_resident(l, why, len);
	return true;
}

void
kern_lwp_check(struct lwp *l)
{
	kern_lwp_run(l);
}

void
kern_swap_stats(struct kern_swap_stats *st)
{
	struct vm_swap_stats vs;
	struct lwp *l;
	int out = 0, peak;

	memset(st, 0, sizeof(*st));
	st->ks_swapouts = (uint64_t)uvmexp_read(swapouts);
	st->ks_swapins = (uint64_t)uvmexp_read(swapins);
	st->ks_pdswout = (uint64_t)uvmexp_read(pdswout);
	vm_swap_stats(&vs);
	st->ks_proc_swapouts = vs.vs_proc_swapouts;
	st->ks_proc_swapins = vs.vs_proc_swapins;
	st->ks_busy = vs.vs_busy;
	st->ks_faultin_waits = vs.vs_faultin_waits;
	st->ks_pages_in = uvm_uarea_pages_in() + vs.vs_pages_in;
	mutex_enter(proc_lock);
	LIST_FOREACH(l, &alllwp, l_list) {
		lwp_lock(l);
		if ((l->l_flag & LW_INMEM) == 0 && l->l_stat != LSIDL &&
		    l->l_stat != LSZOMB)
			out++;
		lwp_unlock(l);
	}
	mutex_exit(proc_lock);
	st->ks_out_now = out;
	while (out > (peak = __atomic_load_n(&kern_swap_out_peak,
	    __ATOMIC_RELAXED)) &&
	    !__atomic_compare_exchange_n(&kern_swap_out_peak, &peak, out,
	    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		continue;
	st->ks_out_peak = __atomic_load_n(&kern_swap_out_peak,
	    __ATOMIC_RELAXED);
}
