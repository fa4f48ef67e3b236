/*
 * stress/scenario_fork.c: processes that fork, vfork, exec and exit.
 *
 * Root processes of --threads LWPs each (the runner's) map one private
 * region per LWP and one region shared with every descendant (inherit
 * share).  Each LWP draws seeded operations:
 *
 *	touch	write new generations of some of its pages, check others
 *	fork	fork a child (copy-on-write), or vfork one (the address space
 *		shared, the parent waiting); the child checks what it
 *		inherited, writes its own pages, may fork a grandchild (up to
 *		--depth), may exec a fresh image, and exits; the parent
 *		writes its pages meanwhile (copy-on-write against a child that
 *		reads them), reaps the child and checks what the child left in
 *		the shared region
 *	vslock	wire a range for I/O (uvm_vslock / vslock), check it resident
 *		and wired, unwire it; and the refusals: a hole, a range that
 *		wraps, too many pages (vslock's EFAULT, EINVAL, ENOMEM), and
 *		useracc/kernacc on good and bad ranges
 *	mlock	wire or unwire the first pages of its region: a fork while
 *		they are wired copies them at once (amap_cow_now) and the
 *		parent's frames must not move
 *
 * The integrity oracle learns processes.  A page's expected content is a
 * (writer's address space, generation) pair, kept per process: a child
 * starts with a copy of its parent's ledger taken across the fork, and
 * each side then writes its own generations, so a copy-on-write leak is
 * a page carrying the other process's signature, and the failure names
 * both processes, the address and the generations.  A sibling LWP of the
 * forker may be writing a page while the fork runs: its content in the
 * child is then whatever the fork caught (UVM allows a torn page there,
 * as a real fork of a threaded process does); such a page is marked
 * unknown in the child's ledger (each page records a write in progress)
 * and rewritten before it is checked.  The shared region is slotted:
 * word FORK_SLOT0 + d of page k belongs to the depth-d member of LWP
 * k's line of descent, a counter only it writes: the parent checks,
 * after reaping, that it sees the child's last count there.
 *
 * The working set (--ws, default 3/2 x --ram) is the roots' regions: the
 * pagedaemon runs throughout, so forks meet anons being paged out and
 * swapped in.  Children and their address spaces are registered with the
 * auditor while they live.  An op is one operation.
 */
#include <stdlib.h>
#include <string.h>

#include "host/clock.h"
#include "host/hook.h"
#include "host/machine.h"
#include "host/pmap.h"
#include "host/trap.h"
#include "audit.h"
#include "integrity.h"
#include "runner.h"
#include "scenario.h"
#include "vm/kern_proc.h"
#include "vm/uvm.h"
#include "vm/uvm_glue.h"
#include "vm/uvm_km.h"
#include "vm/uvm_mmap.h"

#define FORK_BASE	((vaddr_t)0x10000000)	/* LWP k's region ... */
#define FORK_SPAN	((vaddr_t)1 << 28)	/* ... at BASE + k * SPAN */
#define FORK_SHARED	((vaddr_t)0x08000000)	/* the shared region */
#define FORK_HOLE	((vaddr_t)0x04000000)	/* never mapped */
#define FORK_FRESH	((vaddr_t)0x06000000)	/* a forker's fresh page */
#define FORK_COW	((vaddr_t)0x40000000)	/* the benchmark's region */
#define FORK_MAXLWPS	8			/* regions of a process */
#define FORK_MAXPAGES	((int)(FORK_SPAN / PAGE_SIZE))
#define FORK_MAXDEPTH	4
#define FORK_SLOT0	8			/* first slot word */
#define FORK_SAMPLE	64			/* pages a child checks a region */
#define FORK_WRITES	16			/* pages a side writes a fork */
#define FORK_WIRED	8			/* pages of an mlock */
#define FORK_ASIDS	4096			/* asid -> pid, for messages */
#define FORK_ASID0	0x10000			/* children's asids from here */
#define FORK_EXEC_PAGES	8
#define FORK_AUDIT_NS	1000000000ull		/* the exact audit's period */
#define FORK_WS_MAX	(1ll << 40)
#define PAGE_WORDS	(PAGE_SIZE / sizeof(uint64_t))
/* A root LWP and its descendants count in the same context. */
#define FC_INC(p)	__atomic_fetch_add((p), 1, __ATOMIC_RELAXED)

/* Help text. */
static const char fork_help[] =
"  Root processes of --threads LWPs fork children (copy-on-write) and\n"
"  vfork them (address space shared, parent waiting); children check\n"
"  what they inherited, write their own pages, fork grandchildren (up to\n"
"  --depth), may exec a fresh image, and exit while their parents write\n"
"  the same pages.  LWPs also vslock/useracc/kernacc good and bad ranges\n"
"  and mlock pages across forks.  A page carries (address space,\n"
"  generation): a copy-on-write leak names both processes.  The working\n"
"  set (--ws) exceeds the RAM, so forks meet pages in flight to swap.\n"
"  Defaults: 4 LWPs in processes of 2 (--threads at most 8: each LWP has\n"
"  a region of its own).  An op is one operation.\n";

/* Options table. */
enum { FO_WS, FO_DEPTH, FO_FORK, FO_VFORK, FO_EXEC, FO_VSLOCK, FO_MLOCK,
    FO_VSLOCK_PAGES, FO_COW, FO_CHILDREN };
static const struct sopt fork_opts[] = {
	[FO_WS] = { "ws", SOPT_SIZE, PAGE_SIZE, FORK_WS_MAX, 0, NULL, "SIZE",
	    "working set of the root processes together", "3/2 x --ram",
	    NULL },
	[FO_DEPTH] = { "depth", SOPT_INT, 1, FORK_MAXDEPTH, 2, NULL, "N",
	    "generations below a root (1: children only)", NULL, NULL },
	[FO_FORK] = { "fork-pct", SOPT_INT, 0, 100, 10, NULL, "PCT",
	    "operations that fork", NULL, NULL },
	[FO_VFORK] = { "vfork-pct", SOPT_INT, 0, 100, 25, NULL, "PCT",
	    "forks that are vforks (address space shared)", NULL, NULL },
	[FO_EXEC] = { "exec-pct", SOPT_INT, 0, 100, 20, NULL, "PCT",
	    "children that exec a fresh image before they exit", NULL,
	    NULL },
	[FO_VSLOCK] = { "vslock-pct", SOPT_INT, 0, 100, 5, NULL, "PCT",
	    "operations that vslock/useracc/kernacc", NULL, NULL },
	[FO_MLOCK] = { "mlock-pct", SOPT_INT, 0, 100, 3, NULL, "PCT",
	    "operations that mlock or munlock", NULL, NULL },
	[FO_VSLOCK_PAGES] = { "vslock-pages", SOPT_INT, 1, 1024, 4, NULL, "N",
	    "pages per vslock (at most the pages of a region but 8)", NULL,
	    NULL },
	[FO_COW] = { "cow-bench", SOPT_SIZE, 0, 1ll << 30, 0, NULL, "SIZE",
	    "the copy-on-write benchmark instead: each LWP touches SIZE of "
	    "private memory, then forks children that write every page",
	    "off", NULL },
	[FO_CHILDREN] = { "children", SOPT_INT, 1, 4096, 16, NULL, "N",
	    "forked processes alive at once, at most (a fork beyond waits "
	    "for none: it is skipped, counted in fork_deferred)", NULL,
	    NULL },
};

/*
 * A page of a ledger: the last completed write (writer's asid and
 * generation; 0: never written, reads zero) and the generation of a write
 * in progress (equal when none is).  Written by the page's writer with
 * atomics (a forker reads its siblings' pages across its fork).
 */
struct fpage {
	uint64_t	fp_state;	/* [a] asid << 32 | gen */
	uint32_t	fp_pending;	/* [a] */
	uint8_t		fp_unknown;	/* [a] torn by a fork: rewrite first
					   (a sibling's fork reads it) */
};

#define UNKNOWN(fp)	__atomic_load_n(&(fp)->fp_unknown, __ATOMIC_RELAXED)

/* What one process's private regions must hold. */
struct fview {
	int		fv_nregions;
	int		fv_npages;	/* per region */
	struct fpage	*fv_pages;	/* region r page i: [r * npages + i] */
};

struct fork_ctx;
struct word_op;

/* A process's LWP that forks: a root LWP, or a child's only LWP. */
struct forker {
	struct fork_ctx		*f_fc;		/* the root LWP's context */
	struct proc		*f_p;
	struct vmspace		*f_vm;
	uint32_t		f_asid;
	int			f_depth;	/* 0: a root */
	struct fview		*f_view;
	int			f_own_lo;	/* regions it writes */
	int			f_own_hi;
	bool			f_shared;	/* the shared region is mapped */
	bool			f_vfork;	/* a vfork child */
	bool			f_exec;		/* it will exec */
	bool			f_execd;	/* it did: a vmspace of its own */
	bool			f_killed;	/* out of swap: stop */
	bool			f_failed;	/* a failure was recorded */
	uint64_t		f_slot;		/* its last shared count */
	vaddr_t			f_fresh;	/* a share page never touched
						   before the fork, or 0 */
	uint64_t		f_fresh_val;	/* what the child wrote there */
	uint64_t		f_parent_slot;	/* the parent's, at the fork */
	struct host_rng		f_rng;
	/* a child waits until its parent has written its ledger */
	kmutex_t		f_lock;
	kcondvar_t		f_cv;
	bool			f_go;		/* [f_lock] */
	/* the user-mode call's arguments and findings */
	int			f_region, f_page;
	struct integ_bad	f_bad;
	bool			f_bad_found;
	const char		*f_what;
};

/* Context: one per root LWP. */
struct fork_ctx {
	struct stress_worker	*fc_w;
	struct forker		fc_root;
	struct fork_shared	*fc_sh;
	bool			fc_wired;
	paddr_t			fc_wpa[FORK_WIRED];
	/* counters [a]: summed into metrics */
	uint64_t		fc_forks, fc_vforks, fc_enomem, fc_execs;
	uint64_t		fc_children, fc_checked, fc_unknown;
	uint64_t		fc_cow_writes, fc_vslocks, fc_refusals;
	uint64_t		fc_mlocks, fc_child_kills, fc_maxdepth;
	uint64_t		fc_cow_pages, fc_cow_ns;	/* --cow-bench */
	uint64_t		fc_vfork_execs, fc_deferred;
};

/* Per root process. */
struct fork_shared {
	struct fview		fs_view;
	int			fs_nlwps;
};

static uint32_t fork_next_asid = FORK_ASID0;	/* [a] */
static int fork_live;				/* [a] children alive */

/*
 * The audit gate: the exact reference audit (audit_refs) needs every
 * process stopped where it changes no amap or anon reference.  Each LWP
 * of the scenario (roots and children) holds the gate while it runs VM
 * operations and lets go of it at safe points (between operations, while
 * it waits for a child); the auditor (worker 0, about once a second)
 * closes the gate, waits until nobody holds it, audits, and opens it.
 */
static struct {
	kmutex_t	fg_lock;
	kcondvar_t	fg_cv;
	int		fg_active;	/* [fg_lock] LWPs holding the gate */
	int		fg_closed;	/* [fg_lock, a] the auditor waits */
	uint64_t	fg_audits;	/* [fg_lock] audits done */
	uint64_t	fg_checks;	/* [fg_lock] their checks */
} fork_gate;
static pid_t fork_asid_pid[FORK_ASIDS];		/* [a] for messages */

/* local prototypes */
static struct fpage *fpage(const struct fview *v, int r, int i);
static vaddr_t fpage_va(int r, int i);
static volatile uint64_t *fpage_host(const struct forker *f, int r, int i);
static uint64_t fork_pages_per_lwp(const struct stress_config *cfg);
static uint64_t ws_bytes(const struct stress_config *cfg);
static void fork_write_user(void *arg);
static void fork_check_user(void *arg);
static bool fork_call(struct forker *f, void (*fn)(void *), void *arg);
static bool fork_user(struct forker *f, void (*fn)(void *));
static void fork_report(struct forker *f);
static bool fork_write(struct forker *f, int r, int i);
static bool fork_check(struct forker *f, int r, int i, const char *what);
static bool fork_touch(struct forker *f, int nwrite, int ncheck);
static vaddr_t slot_va(int tid, int depth);
static void word_user(void *arg);
static bool word_call(struct forker *f, struct word_op *wo);
static bool fork_slot_bump(struct forker *f);
static int fork_one(struct forker *f, int tid);
static bool fork_child_owns_vm(const struct forker *c);
static bool fork_child_stopping(const struct forker *c);
static bool fork_check_inherited(struct forker *c, int nsample,
    const char *what);
static bool fork_child_unwired(struct forker *c);
static void fork_child_main(void *arg);
static void fork_child_exec(struct forker *c);
static bool fork_vslock(struct forker *f);
static bool fork_mlock(struct fork_ctx *fc);
static bool fork_wired_check(struct fork_ctx *fc, const char *when);
static const char *fork_check_opts(const struct stress_config *cfg,
    char *buf, size_t len);

/* fork_gate_enter: hold the gate (wait while the auditor has it closed). */
static void
fork_gate_enter(void)
{
	mutex_enter(&fork_gate.fg_lock);
	while (fork_gate.fg_closed)
		cv_wait(&fork_gate.fg_cv, &fork_gate.fg_lock);
	fork_gate.fg_active++;
	mutex_exit(&fork_gate.fg_lock);
}

static void
fork_gate_leave(void)
{
	mutex_enter(&fork_gate.fg_lock);
	KASSERT(fork_gate.fg_active > 0);
	if (--fork_gate.fg_active == 0 && fork_gate.fg_closed)
		cv_broadcast(&fork_gate.fg_cv);
	mutex_exit(&fork_gate.fg_lock);
}

/* fork_gate_point: a safe point: let the auditor in if it waits. */
static void
fork_gate_point(void)
{
	if (__atomic_load_n(&fork_gate.fg_closed, __ATOMIC_RELAXED)) {
		fork_gate_leave();
		fork_gate_enter();
	}
}

/*
 * fork_gate_audit: stop every process at a safe point and check the
 * reference counts exactly.  => the caller holds the gate; false: a
 * violation (recorded)
 */
static bool
fork_gate_audit(void)
{
	struct audit_result ar;

	memset(&ar, 0, sizeof(ar));
	mutex_enter(&fork_gate.fg_lock);
	__atomic_store_n(&fork_gate.fg_closed, 1, __ATOMIC_RELAXED);
	fork_gate.fg_active--;
	while (fork_gate.fg_active > 0)
		cv_wait(&fork_gate.fg_cv, &fork_gate.fg_lock);
	mutex_exit(&fork_gate.fg_lock);

	audit_refs(&ar, 0);

	mutex_enter(&fork_gate.fg_lock);
	fork_gate.fg_audits++;
	fork_gate.fg_checks += ar.nchecks;
	__atomic_store_n(&fork_gate.fg_closed, 0, __ATOMIC_RELAXED);
	fork_gate.fg_active++;
	cv_broadcast(&fork_gate.fg_cv);
	mutex_exit(&fork_gate.fg_lock);
	if (ar.nviolations != 0) {
		stress_fail(FK_INVARIANT, NULL, "fork: reference audit with "
		    "every process stopped: %s (%u violations)", ar.first,
		    ar.nviolations);
		return false;
	}
	return true;
}

static struct fpage *
fpage(const struct fview *v, int r, int i)
{
	return &v->fv_pages[(size_t)r * (size_t)v->fv_npages + (size_t)i];
}

static vaddr_t
fpage_va(int r, int i)
{
	return FORK_BASE + (vaddr_t)r * FORK_SPAN + ptoa(i);
}

static volatile uint64_t *
fpage_host(const struct forker *f, int r, int i)
{
	return pmap_hostaddr(f->f_vm->vm_map.pmap, fpage_va(r, i));
}

static void
asid_name(uint32_t asid, pid_t pid)
{
	__atomic_store_n(&fork_asid_pid[asid % FORK_ASIDS], pid,
	    __ATOMIC_RELAXED);
}

static pid_t
asid_pid(uint32_t asid)
{
	return __atomic_load_n(&fork_asid_pid[asid % FORK_ASIDS],
	    __ATOMIC_RELAXED);
}

/*
 * User mode.
 */

/* Write the next generation of page (f_region, f_page).  => user mode */
static void
fork_write_user(void *arg)
{
	struct forker *f = arg;
	struct fpage *fp = fpage(f->f_view, f->f_region, f->f_page);
	uint64_t st = __atomic_load_n(&fp->fp_state, __ATOMIC_RELAXED);
	uint32_t gen = (uint32_t)st + 1;

	__atomic_store_n(&fp->fp_pending, gen, __ATOMIC_RELEASE);
	integ_write(fpage_host(f, f->f_region, f->f_page), f->f_asid,
	    fpage_va(f->f_region, f->f_page), gen);
	__atomic_store_n(&fp->fp_state, (uint64_t)f->f_asid << 32 | gen,
	    __ATOMIC_RELEASE);
	__atomic_store_n(&fp->fp_unknown, 0, __ATOMIC_RELAXED);
}

/* Check page (f_region, f_page) against the ledger.  => user mode */
static void
fork_check_user(void *arg)
{
	struct forker *f = arg;
	struct fpage *fp = fpage(f->f_view, f->f_region, f->f_page);
	uint64_t st = __atomic_load_n(&fp->fp_state, __ATOMIC_ACQUIRE);

	f->f_bad_found = !integ_check(fpage_host(f, f->f_region, f->f_page),
	    (uint32_t)(st >> 32), fpage_va(f->f_region, f->f_page),
	    (uint32_t)st, &f->f_bad);
}

/*
 * fork_call: run fn(arg) in user mode on f's behalf.  A refused fault:
 * ENOMEM is out of swap (a root: the runner kills the process; a child:
 * it just stops, counted), anything else a failure.  => false: stop
 */
static bool
fork_call(struct forker *f, void (*fn)(void *), void *arg)
{
	struct host_user_fault uf;
	struct stress_worker *w = f->f_fc->fc_w;

	if (host_user_call(fn, arg, &uf) == 0)
		return true;
	/* a root's process is killed by the runner; a child just stops */
	if (f->f_depth == 0) {
		if (!stress_refused(w, &uf, NULL))
			f->f_failed = true;
		f->f_killed = true;
		return false;
	}
	if (uf.uf_error == ENOMEM) {
		f->f_killed = true;
		FC_INC(&f->f_fc->fc_child_kills);
		return false;
	}
	stress_fail(FK_SEGV, NULL, "fork: pid %d (asid %u, depth %d) va %#lx: "
	    "unexpected SIGSEGV on %s (fault error %d: %s)", f->f_p->p_pid,
	    f->f_asid, f->f_depth, (unsigned long)uf.uf_addr,
	    uf.uf_access == VM_PROT_WRITE ? "write" : "read", uf.uf_error,
	    strerror(uf.uf_error));
	f->f_failed = true;
	return false;
}

/* fork_user: fn(f) in user mode (fork_call). */
static bool
fork_user(struct forker *f, void (*fn)(void *))
{
	f->f_bad_found = false;
	return fork_call(f, fn, f);
}

/*
 * fork_report: a check failed: name the page, the process that read it,
 * the content due (whose generation) and the content found (whose).
 */
static void
fork_report(struct forker *f)
{
	const struct integ_bad *bad = &f->f_bad;
	uint64_t st = __atomic_load_n(&fpage(f->f_view, f->f_region,
	    f->f_page)->fp_state, __ATOMIC_RELAXED);
	uint32_t wasid = (uint32_t)(st >> 32), fasid, fgen;
	char found[200], due[96], who[96];

	integ_describe(bad, wasid, found, sizeof(found));
	if ((uint32_t)st == 0)
		snprintf(due, sizeof(due), "zeroes");
	else
		snprintf(due, sizeof(due), "asid %u (pid %d) gen %u", wasid,
		    asid_pid(wasid), (uint32_t)st);
	who[0] = '\0';
	if (integ_found_sig(bad, &fasid, &fgen) && fasid != wasid)
		snprintf(who, sizeof(who), "; the page carries pid %d's "
		    "(asid %u) gen %u: %s", asid_pid(fasid), fasid, fgen,
		    fasid == f->f_asid ? "this process's own write" :
		    "a copy-on-write leak between processes");
	stress_fail(FK_INTEGRITY, NULL, "fork: pid %d (asid %u, depth %d, %s) "
	    "va %#lx (region %d page %d), %s: due %s, found %s%s",
	    f->f_p->p_pid, f->f_asid, f->f_depth,
	    f->f_depth == 0 ? "root" : f->f_vfork ? "vfork child" : "child",
	    (unsigned long)fpage_va(f->f_region, f->f_page), f->f_region,
	    f->f_page, f->f_what, due, found, who);
	f->f_failed = true;
}

static bool
fork_write(struct forker *f, int r, int i)
{
	f->f_region = r;
	f->f_page = i;
	if (!fork_user(f, fork_write_user))
		return false;
	if (f->f_depth == 0)	/* the worker's own sequence only */
		stress_touched(f->f_fc->fc_w, fpage_va(r, i));
	return true;
}

static bool
fork_check(struct forker *f, int r, int i, const char *what)
{
	f->f_region = r;
	f->f_page = i;
	f->f_what = what;
	if (!fork_user(f, fork_check_user))
		return false;
	FC_INC(&f->f_fc->fc_checked);
	if (f->f_bad_found) {
		fork_report(f);
		return false;
	}
	return true;
}

/* Write nwrite random pages of f's own regions and check ncheck. */
static bool
fork_touch(struct forker *f, int nwrite, int ncheck)
{
	int n, r, i;

	for (n = 0; n < nwrite + ncheck; n++) {
		r = f->f_own_lo + (int)host_rng_below(&f->f_rng,
		    (uint64_t)(f->f_own_hi - f->f_own_lo));
		i = (int)host_rng_below(&f->f_rng,
		    (uint64_t)f->f_view->fv_npages);
		if (n < nwrite) {
			if (!fork_write(f, r, i) ||
			    !fork_check(f, r, i, "read-back"))
				return false;
		} else if (!UNKNOWN(fpage(f->f_view, r, i)) &&
		    !fork_check(f, r, i, "read"))
			return false;
	}
	return true;
}

/* The shared region: word FORK_SLOT0 + depth of page tid. */
static vaddr_t
slot_va(int tid, int depth)
{
	return FORK_SHARED + ptoa(tid) +
	    (vaddr_t)(FORK_SLOT0 + depth) * sizeof(uint64_t);
}

/* A word of f's address space (a slot, a fresh page), read or written. */
struct word_op {
	struct forker	*wo_f;
	vaddr_t		wo_va;
	bool		wo_write;
	uint64_t	wo_value;
};

/* => user mode */
static void
word_user(void *arg)
{
	struct word_op *wo = arg;
	uint64_t *p = pmap_hostaddr(wo->wo_f->f_vm->vm_map.pmap, wo->wo_va);

	if (wo->wo_write)
		__atomic_store_n(p, wo->wo_value, __ATOMIC_RELAXED);
	else
		wo->wo_value = __atomic_load_n(p, __ATOMIC_RELAXED);
}

static bool
word_call(struct forker *f, struct word_op *wo)
{
	return fork_call(f, word_user, wo);
}

/* Count one more in f's slot of the shared region (checks it first). */
static bool
fork_slot_bump(struct forker *f)
{
	int tid = (int)f->f_fc->fc_w->w_tid;
	struct word_op so = { f, slot_va(tid, f->f_depth), false, 0 };

	if (!f->f_shared)
		return true;
	if (!word_call(f, &so))
		return false;
	if (so.wo_value != f->f_slot) {
		stress_fail(FK_INTEGRITY, NULL, "fork: pid %d (asid %u, depth "
		    "%d) shared region va %#lx word %d: its own count %lu "
		    "reads %lu (a write to a shared page lost)", f->f_p->p_pid,
		    f->f_asid, f->f_depth, (unsigned long)(FORK_SHARED +
		    ptoa(tid)), FORK_SLOT0 + f->f_depth,
		    (unsigned long)f->f_slot, (unsigned long)so.wo_value);
		f->f_failed = true;
		return false;
	}
	so.wo_write = true;
	so.wo_value = ++f->f_slot;
	return word_call(f, &so);
}

/*
 * Fork.
 */

/*
 * fork_one: f forks a child (or vforks one), lets it run, writes its own
 * pages meanwhile (not while vforked: it waits), reaps it and checks what
 * it left.  => kernel mode, f's LWP; 0, or -1: stop (failure or killed)
 */
static int
fork_one(struct forker *f, int tid)
{
	struct fork_ctx *fc = f->f_fc;
	struct forker *c;
	struct fview *v = f->f_view, *cv = NULL;
	struct proc *p2;
	struct lwp *l2;
	struct word_op so;
	pid_t cpid;
	uint64_t *before = NULL;
	size_t n = (size_t)v->fv_nregions * (size_t)v->fv_npages, k;
	bool vfork = host_rng_below(&f->f_rng, 100) <
	    (uint64_t)fc->fc_w->w_run->r_cfg->sval[FO_VFORK];
	int error, i, flags;

	/*
	 * At most --children forked processes at once: hundreds of LWPs
	 * forking would otherwise fill the kernel with amaps and the run
	 * with children its end waits for.
	 */
	if (__atomic_add_fetch(&fork_live, 1, __ATOMIC_RELAXED) >
	    (int)fc->fc_w->w_run->r_cfg->sval[FO_CHILDREN]) {
		__atomic_sub_fetch(&fork_live, 1, __ATOMIC_RELAXED);
		FC_INC(&fc->fc_deferred);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!vfork) {
		before = calloc(n, sizeof(*before));
		cv = calloc(1, sizeof(*cv));
		if (cv != NULL)
			cv->fv_pages = calloc(n, sizeof(*cv->fv_pages));
	}
	if (c == NULL || (!vfork && (before == NULL || cv == NULL ||
	    cv->fv_pages == NULL))) {
		stress_fail(FK_VM, NULL, "fork: no host memory for a ledger");
		error = -1;
		goto out;
	}

	/* Across the fork: every page's last write, then writes begun. */
	if (!vfork)
		for (k = 0; k < n; k++)
			before[k] = __atomic_load_n(&v->fv_pages[k].fp_state,
			    __ATOMIC_ACQUIRE);
	*c = (struct forker){
		.f_fc = fc, .f_depth = f->f_depth + 1, .f_shared = f->f_shared,
		.f_vfork = vfork, .f_parent_slot = f->f_slot,
	};
	/*
	 * A page shared with the child that nobody touched yet: its entry
	 * still needs its amap when the fork shares it.
	 */
	c->f_fresh = FORK_FRESH + ptoa(tid * (FORK_MAXDEPTH + 1) + f->f_depth);
	if (uvm_mmap_anon(&f->f_vm->vm_map, &c->f_fresh, PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED) != 0 ||
	    uvm_map_inherit(&f->f_vm->vm_map, c->f_fresh, c->f_fresh +
	    PAGE_SIZE, MAP_INHERIT_SHARE) != 0) {
		stress_fail(FK_VM, NULL, "fork: pid %d: mapping a page at %#lx "
		    "failed", f->f_p->p_pid, (unsigned long)c->f_fresh);
		error = -1;
		goto out;
	}
	mutex_init_class(&c->f_lock, MUTEX_DEFAULT, IPL_NONE, "forkgate");
	cv_init(&c->f_cv, "forkgate");
	host_rng_init(&c->f_rng, host_rng_next(&f->f_rng), (uint64_t)tid);
	c->f_exec = host_rng_below(&f->f_rng, 100) <
	    (uint64_t)fc->fc_w->w_run->r_cfg->sval[FO_EXEC];
	flags = vfork ? KFORK_SHAREVM | KFORK_PPWAIT : 0;
	error = kern_fork(f->f_p, flags, vfork ? "vforked" : "forked",
	    fork_child_main, c, &p2, &l2);
	if (error != 0) {
		/* ENOMEM to the caller, as the BSDs do: counted */
		FC_INC(&fc->fc_enomem);
		cv_destroy(&c->f_cv);
		mutex_destroy(&c->f_lock);
		error = 0;
		goto out;
	}
	STRESS_INC(vfork ? &fc->fc_vforks : &fc->fc_forks);
	FC_INC(&fc->fc_children);

	/* The child waits at its gate while its ledger is written. */
	c->f_p = p2;
	c->f_vm = p2->p_vmspace;
	if (vfork) {
		/* the same space: it writes as its parent, the parent's pages */
		c->f_asid = f->f_asid;
		c->f_view = v;
		c->f_own_lo = f->f_own_lo;
		c->f_own_hi = f->f_own_hi;
	} else {
		c->f_asid = __atomic_fetch_add(&fork_next_asid, 1,
		    __ATOMIC_RELAXED);
		cv->fv_nregions = v->fv_nregions;
		cv->fv_npages = v->fv_npages;
		for (k = 0; k < n; k++) {
			uint32_t pend = __atomic_load_n(
			    &v->fv_pages[k].fp_pending, __ATOMIC_ACQUIRE);

			cv->fv_pages[k].fp_state = before[k];
			cv->fv_pages[k].fp_pending = (uint32_t)before[k];
			cv->fv_pages[k].fp_unknown = UNKNOWN(&v->fv_pages[k]) ||
			    pend != (uint32_t)before[k];
		}
		c->f_view = cv;
		c->f_own_lo = 0;
		c->f_own_hi = cv->fv_nregions;
		audit_register_map(&c->f_vm->vm_map);
	}
	asid_name(c->f_asid, p2->p_pid);
	mutex_enter(&c->f_lock);
	c->f_go = true;
	cv_broadcast(&c->f_cv);
	mutex_exit(&c->f_lock);

	/*
	 * The parent writes while the child reads (not a vforking one): some
	 * pages, and the first ones of its region (wired, if it mlocked
	 * them: a fork copies those at once), which the child checks.
	 */
	if (!vfork && !f->f_failed) {
		for (i = 0; i < FORK_WIRED && i < v->fv_npages &&
		    !f->f_failed && !f->f_killed; i++)
			(void)fork_write(f, f->f_own_lo, i);
		if (!f->f_failed && !f->f_killed)
			(void)fork_touch(f, FORK_WRITES, 0);
	}

	cpid = p2->p_pid;
	fork_gate_leave();	/* waiting for the child is a safe point */
	kern_lwp_join(l2);
	fork_gate_enter();
	if (fork_child_owns_vm(c) && kern_glue() == UVM_GLUE_FREEBSD)
		audit_unregister_map(&c->f_vm->vm_map);
	kern_reap(p2);	/* (p2 is gone) */
	cv_destroy(&c->f_cv);
	mutex_destroy(&c->f_lock);
	if (c->f_failed || f->f_failed || f->f_killed) {
		error = -1;
		goto out;
	}

	/* The fresh page: what the child wrote, the parent sees. */
	if (c->f_fresh_val != 0) {
		struct word_op fo = { f, c->f_fresh, false, 0 };

		if (!word_call(f, &fo)) {
			error = -1;
			goto out;
		}
		if (fo.wo_value != c->f_fresh_val) {
			stress_fail(FK_INTEGRITY, NULL, "fork: pid %d (asid %u) "
			    "va %#lx, inherited shared by child pid %d before "
			    "either touched it: the child wrote %#lx, the "
			    "parent reads %#lx (a shared page not shared)",
			    f->f_p->p_pid, f->f_asid, (unsigned long)c->f_fresh,
			    cpid, (unsigned long)c->f_fresh_val,
			    (unsigned long)fo.wo_value);
			error = -1;
			goto out;
		}
	}

	/* What the child left in the shared region, the parent sees. */
	if (f->f_shared && c->f_slot != 0) {
		so = (struct word_op){ f, slot_va(tid, c->f_depth), false, 0 };
		if (!word_call(f, &so)) {
			error = -1;
			goto out;
		}
		if (so.wo_value != c->f_slot) {
			stress_fail(FK_INTEGRITY, NULL, "fork: pid %d (asid %u) "
			    "shared region va %#lx word %d: the child pid %d "
			    "left count %lu, the parent reads %lu (a shared "
			    "page not shared)", f->f_p->p_pid, f->f_asid,
			    (unsigned long)(FORK_SHARED + ptoa(tid)),
			    FORK_SLOT0 + c->f_depth, cpid,
			    (unsigned long)c->f_slot,
			    (unsigned long)so.wo_value);
			error = -1;
			goto out;
		}
	}
	/* The child's writes stayed its own (a vfork child's are ours). */
	for (i = 0; i < FORK_WRITES && error == 0; i++)
		if (!fork_touch(f, 0, 1))
			error = -1;
out:
	__atomic_sub_fetch(&fork_live, 1, __ATOMIC_RELAXED);
	if (c != NULL && c->f_fresh != 0 && !f->f_killed &&
	    !stress_killed(fc->fc_w))
		(void)uvm_munmap(&f->f_vm->vm_map, c->f_fresh, PAGE_SIZE);
	if (cv != NULL)
		free(cv->fv_pages);
	free(cv);
	free(before);
	free(c);
	return error;
}

/*
 * fork_child_stopping: the run is ending (its time is up, a failure, a
 * signal): a child cuts its work short and exits, so that its parent,
 * waiting for it, can leave too.
 */
static bool
fork_child_owns_vm(const struct forker *c)
{
	return !c->f_vfork || c->f_execd;
}

static bool
fork_child_stopping(const struct forker *c)
{
	return !stress_running(c->f_fc->fc_w);
}

/*
 * fork_check_inherited: check the first FORK_WIRED pages (those a parent
 * mlocks) and nsample more of each region c inherited (a vfork child:
 * its parent's), unless a fork caught them half written or c wrote them
 * since.  => false: stop
 */
static bool
fork_check_inherited(struct forker *c, int nsample, const char *what)
{
	struct fpage *fp;
	int r, i, n, pg;

	for (r = c->f_vfork ? c->f_own_lo : 0; r < c->f_view->fv_nregions &&
	    (!c->f_vfork || r < c->f_own_hi); r++) {
		n = MIN(FORK_WIRED + nsample, c->f_view->fv_npages);
		for (i = 0; i < n; i++) {
			if ((i & 15) == 0 && fork_child_stopping(c))
				return true;	/* the run ends: leave */
			pg = i < FORK_WIRED ? i : (int)host_rng_below(
			    &c->f_rng, (uint64_t)c->f_view->fv_npages);
			fp = fpage(c->f_view, r, pg);
			if (UNKNOWN(fp)) {
				FC_INC(&c->f_fc->fc_unknown);
				continue;
			}
			if ((uint32_t)(fp->fp_state >> 32) == c->f_asid &&
			    !c->f_vfork)
				continue;	/* its own write: not inherited */
			if (!fork_check(c, r, pg, what))
				return false;
		}
	}
	return true;
}

/*
 * fork_child_unwired: a child wired nothing yet: memory locks are not
 * inherited by fork (POSIX; NetBSD: "new pmap has nothing wired in it").
 * => kernel mode, the child's LWP; false: a failure (recorded)
 */
static bool
fork_child_unwired(struct forker *c)
{
	struct vm_map *map = &c->f_vm->vm_map;
	struct vm_map_entry *e;
	vaddr_t bad = 0;
	int wired = 0;

	vm_map_lock_read(map);
	for (e = map->header.next; e != &map->header; e = e->next)
		if (VM_MAPENT_ISWIRED(e) && bad == 0) {
			bad = e->start;
			wired = e->wired_count;
		}
	vm_map_unlock_read(map);
	if (bad == 0)
		return true;
	stress_fail(FK_INVARIANT, NULL, "fork: child pid %d (asid %u): its "
	    "entry at %#lx is wired (wired_count %d) right after the fork: "
	    "memory locks are not inherited by fork", c->f_p->p_pid, c->f_asid,
	    (unsigned long)bad, wired);
	c->f_failed = true;
	return false;
}

/*
 * fork_child_main: the child's only LWP.  Check a sample of every region
 * it inherited, count in the shared region, write pages of its own, maybe
 * fork a grandchild, maybe exec, exit.
 */
static void
fork_child_main(void *arg)
{
	struct forker *c = arg;
	struct fork_ctx *fc = c->f_fc;
	const struct stress_config *cfg = fc->fc_w->w_run->r_cfg;
	struct word_op so;
	int tid = (int)fc->fc_w->w_tid;
	uint64_t d;

	mutex_enter(&c->f_lock);
	while (!c->f_go)
		cv_wait(&c->f_cv, &c->f_lock);
	mutex_exit(&c->f_lock);
	fork_gate_enter();
	if (!c->f_vfork && !fork_child_unwired(c))
		goto exit;
	d = (uint64_t)c->f_depth;
	while (STRESS_LD(&fc->fc_maxdepth) < d)
		STRESS_ST(&fc->fc_maxdepth, d);

	/* What it inherited: a sample of each region (vfork: the parent's). */
	if (!fork_check_inherited(c, FORK_SAMPLE, "inherited"))
		goto exit;

	fork_gate_point();
	if (fork_child_stopping(c))
		goto exit;
	/* The shared region: the parent's count is at least the fork's. */
	if (c->f_shared) {
		so = (struct word_op){ c, slot_va(tid, c->f_depth - 1), false,
		    0 };
		if (!word_call(c, &so))
			goto exit;
		if (so.wo_value < c->f_parent_slot) {
			stress_fail(FK_INTEGRITY, NULL, "fork: child pid %d "
			    "(asid %u, depth %d) shared region va %#lx: the "
			    "parent's count reads %lu, it was %lu at the fork "
			    "(the shared region was copied)", c->f_p->p_pid,
			    c->f_asid, c->f_depth,
			    (unsigned long)(FORK_SHARED + ptoa(tid)),
			    (unsigned long)so.wo_value,
			    (unsigned long)c->f_parent_slot);
			c->f_failed = true;
			goto exit;
		}
		c->f_slot = 0;
		so = (struct word_op){ c, slot_va(tid, c->f_depth), false, 0 };
		if (!word_call(c, &so))
			goto exit;
		c->f_slot = so.wo_value;	/* an earlier child's count */
		if (!fork_slot_bump(c) || !fork_slot_bump(c))
			goto exit;
	}

	/* The page shared untouched at the fork: a value for the parent. */
	if (c->f_fresh != 0) {
		struct word_op fo = { c, c->f_fresh, true,
		    (uint64_t)c->f_asid << 32 | c->f_p->p_pid };

		if (!word_call(c, &fo))
			goto exit;
		c->f_fresh_val = fo.wo_value;
	}

	/* Its own writes, then a few reads. */
	if (!fork_touch(c, FORK_WRITES, FORK_WRITES))
		goto exit;
	__atomic_fetch_add(&fc->fc_cow_writes, FORK_WRITES, __ATOMIC_RELAXED);
	if (host_rng_below(&c->f_rng, 100) < (uint64_t)cfg->sval[FO_VSLOCK] &&
	    !fork_vslock(c))
		goto exit;

	fork_gate_point();
	if (fork_child_stopping(c))
		goto exit;
	/* A grandchild. */
	if (!c->f_vfork && c->f_depth < (int)cfg->sval[FO_DEPTH] &&
	    host_rng_below(&c->f_rng, 2) == 0 && fork_one(c, tid) != 0)
		goto exit;

	/* Its parent wrote meanwhile: what it inherited is still its own. */
	if (!c->f_vfork &&
	    !fork_check_inherited(c, FORK_SAMPLE / 4, "inherited, rechecked"))
		goto exit;

	if (c->f_exec && !fork_child_stopping(c))
		fork_child_exec(c);
exit:
	/*
	 * Off the auditor's list before its address space goes: at exit with
	 * NetBSD's glue, at the parent's reap (vm_waitproc) with FreeBSD's.
	 * (A vfork child's is its parent's, unless it exec'd.)
	 */
	if (fork_child_owns_vm(c) && kern_glue() == UVM_GLUE_NETBSD)
		audit_unregister_map(&c->f_vm->vm_map);
	kern_exit(c->f_p);
	fork_gate_leave();	/* (its address space is gone: NetBSD's glue) */
}

struct exec_user {
	struct forker	*eu_f;
	vaddr_t		eu_va;
	int		eu_bad;		/* page that was not zero, or -1 */
};

static void
exec_user(void *arg)
{
	struct exec_user *eu = arg;
	volatile uint64_t *p;
	int i;
	size_t k;

	for (i = 0; i < FORK_EXEC_PAGES; i++) {
		p = pmap_hostaddr(eu->eu_f->f_vm->vm_map.pmap,
		    eu->eu_va + ptoa(i));
		for (k = 0; k < PAGE_WORDS; k += 64)
			if (p[k] != 0 && eu->eu_bad < 0)
				eu->eu_bad = i;
		p[0] = eu->eu_va + ptoa(i);
	}
}

/*
 * fork_child_exec: exec a fresh image: its address space (its alone)
 * is emptied; a new region must read zero.
 */
static void
fork_child_exec(struct forker *c)
{
	struct exec_user eu = { c, FORK_BASE, -1 };
	struct host_user_fault uf;
	int error;

	/*
	 * A child alone in its vmspace has it emptied; a vfork child, which
	 * shares its parent's, gets a new one (uvmspace_exec's two cases).
	 */
	if (fork_child_owns_vm(c))
		audit_unregister_map(&c->f_vm->vm_map);
	error = uvmspace_exec(c->f_p, PAGE_SIZE, VM_MAXUSER_ADDRESS);
	if (error == 0 && c->f_vfork) {
		c->f_execd = true;
		FC_INC(&c->f_fc->fc_vfork_execs);
	}
	c->f_vm = c->f_p->p_vmspace;
	if (fork_child_owns_vm(c))
		audit_register_map(&c->f_vm->vm_map);
	if (error != 0) {
		FC_INC(&c->f_fc->fc_enomem);
		return;
	}
	FC_INC(&c->f_fc->fc_execs);
	c->f_shared = false;
	c->f_slot = 0;		/* nothing for the parent to check */
	if (c->f_vm->vm_map.nentries != 0) {
		stress_fail(FK_VM, NULL, "fork: pid %d exec left %d entries",
		    c->f_p->p_pid, c->f_vm->vm_map.nentries);
		c->f_failed = true;
		return;
	}
	error = uvm_mmap_anon(&c->f_vm->vm_map, &eu.eu_va,
	    ptoa(FORK_EXEC_PAGES), VM_PROT_READ | VM_PROT_WRITE,
	    UVM_MMAP_FIXED);
	if (error != 0) {
		stress_fail(FK_VM, NULL, "fork: pid %d: mmap after exec: %d",
		    c->f_p->p_pid, error);
		c->f_failed = true;
		return;
	}
	if (host_user_call(exec_user, &eu, &uf) != 0) {
		if (uf.uf_error == ENOMEM) {
			FC_INC(&c->f_fc->fc_child_kills);
			return;
		}
		stress_fail(FK_SEGV, NULL, "fork: pid %d after exec: SIGSEGV "
		    "at %#lx (error %d)", c->f_p->p_pid,
		    (unsigned long)uf.uf_addr, uf.uf_error);
		c->f_failed = true;
		return;
	}
	if (eu.eu_bad >= 0) {
		stress_fail(FK_INTEGRITY, NULL, "fork: pid %d after exec: new "
		    "page %#lx is not zero (the old image leaked)",
		    c->f_p->p_pid, (unsigned long)(FORK_BASE +
		    ptoa(eu.eu_bad)));
		c->f_failed = true;
	}
}

/*
 * vslock, useracc, kernacc: a good range wires and is resident; each
 * refusal is the one the seed documents.  => kernel mode, f's LWP
 */
static bool
fork_vslock(struct forker *f)
{
	struct fork_ctx *fc = f->f_fc;
	const struct stress_config *cfg = fc->fc_w->w_run->r_cfg;
	int np = (int)cfg->sval[FO_VSLOCK_PAGES], r, i, error;
	vaddr_t va, kva;
	paddr_t pa;

	/*
	 * Past the pages an mlock may have wired: uvm_vsunlock unwires the
	 * pmap's mapping whatever else wired the page (NetBSD's
	 * uvm_fault_unwire: pmap_unwire, then one uvm_pageunwire).
	 */
	r = f->f_own_lo;
	i = FORK_WIRED + (int)host_rng_below(&f->f_rng,
	    (uint64_t)(f->f_view->fv_npages - FORK_WIRED - np + 1));
	va = fpage_va(r, i);
	FC_INC(&fc->fc_vslocks);
	if (!kern_useracc(va, ptoa(np), VM_PROT_READ | VM_PROT_WRITE)) {
		stress_fail(FK_VM, NULL, "fork: pid %d: useracc(%#lx, %d pages) "
		    "refused a mapped, writable range", f->f_p->p_pid,
		    (unsigned long)va, np);
		return false;
	}
	error = kern_vslock(va, ptoa(np), VM_PROT_READ | VM_PROT_WRITE);
	if (error == ENOMEM || error == EAGAIN) {
		FC_INC(&fc->fc_refusals);	/* the wired limit: allowed */
	} else if (error != 0) {
		stress_fail(FK_VM, NULL, "fork: pid %d: vslock(%#lx, %d pages) "
		    "of a mapped range: error %d", f->f_p->p_pid,
		    (unsigned long)va, np, error);
		return false;
	} else {
		for (i = 0; i < np; i++)
			if (!pmap_extract(f->f_vm->vm_map.pmap, va + ptoa(i),
			    &pa) || !pmap_is_wired(f->f_vm->vm_map.pmap,
			    va + ptoa(i), pa)) {
				stress_fail(FK_VM, NULL, "fork: pid %d: page "
				    "%#lx not wired after vslock",
				    f->f_p->p_pid,
				    (unsigned long)(va + ptoa(i)));
				kern_vsunlock(va, ptoa(np));
				return false;
			}
		kern_vsunlock(va, ptoa(np));
	}

	/* The refusals. */
	if (kern_useracc(FORK_HOLE, PAGE_SIZE, VM_PROT_READ) ||
	    kern_useracc(VM_MAXUSER_ADDRESS - PAGE_SIZE, 2 * PAGE_SIZE,
	    VM_PROT_READ) || kern_useracc(~(vaddr_t)0 - 16, 64, VM_PROT_READ)) {
		stress_fail(FK_VM, NULL, "fork: pid %d: useracc allowed a hole, "
		    "a range past the map or one that wraps", f->f_p->p_pid);
		return false;
	}
	if ((error = kern_vslock(FORK_HOLE, PAGE_SIZE, VM_PROT_READ)) == 0) {
		kern_vsunlock(FORK_HOLE, PAGE_SIZE);
		stress_fail(FK_VM, NULL, "fork: pid %d: vslock of a hole "
		    "succeeded", f->f_p->p_pid);
		return false;
	}
	if (kern_glue() == UVM_GLUE_FREEBSD && error != EFAULT) {
		stress_fail(FK_VM, NULL, "fork: pid %d: vslock of a hole: "
		    "error %d, the seed returns EFAULT", f->f_p->p_pid, error);
		return false;
	}
	if (kern_glue() == UVM_GLUE_FREEBSD &&
	    (error = kern_vslock(~(vaddr_t)0 - 16, 64, VM_PROT_READ)) !=
	    EINVAL) {
		stress_fail(FK_VM, NULL, "fork: pid %d: vslock of a range that "
		    "wraps: error %d, the seed returns EINVAL", f->f_p->p_pid,
		    error);
		return false;
	}
	__atomic_fetch_add(&fc->fc_refusals, 3, __ATOMIC_RELAXED);

	/* kernacc: the kernel's own memory, and a kernel VA not mapped. */
	kva = uvm_km_alloc1(kernel_map, PAGE_SIZE, true);
	if (kva != 0) {
		bool good = kern_kernacc(kva, PAGE_SIZE, VM_PROT_READ |
		    VM_PROT_WRITE);

		if (kern_glue() == UVM_GLUE_NETBSD) {
			/* a debugger's breakpoint: read-only, then writable */
			uvm_chgkprot((void *)kva, PAGE_SIZE, B_READ);
			uvm_chgkprot((void *)kva, PAGE_SIZE, B_WRITE);
			*(volatile uint64_t *)kva = 0x6b707274;	/* "kprt" */
			good = good && *(volatile uint64_t *)kva == 0x6b707274;
		}

		uvm_km_free(kernel_map, kva, PAGE_SIZE, UVM_KMF_WIRED);
		if (!good) {
			stress_fail(FK_VM, NULL, "fork: kernacc refused kernel "
			    "memory at %#lx", (unsigned long)kva);
			return false;
		}
	}
	if (kern_kernacc(VM_MAX_KERNEL_ADDRESS - PAGE_SIZE, 2 * PAGE_SIZE,
	    VM_PROT_READ)) {
		stress_fail(FK_VM, NULL, "fork: kernacc allowed a range past "
		    "the kernel map");
		return false;
	}
	return true;
}

/* mlock or munlock the first FORK_WIRED pages of the LWP's region. */
static bool
fork_mlock(struct fork_ctx *fc)
{
	struct forker *f = &fc->fc_root;
	vaddr_t va = fpage_va(f->f_own_lo, 0);
	int error, i;

	FC_INC(&fc->fc_mlocks);
	if (fc->fc_wired) {
		fc->fc_wired = false;
		if (!fork_wired_check(fc, "before munlock"))
			return false;
		error = uvm_munlock(&f->f_vm->vm_map, va, ptoa(FORK_WIRED));
		if (error != 0) {
			stress_fail(FK_VM, NULL, "fork: munlock: %d", error);
			return false;
		}
		return true;
	}
	error = uvm_mlock(&f->f_vm->vm_map, va, ptoa(FORK_WIRED));
	if (error == EAGAIN || error == ENOMEM) {
		FC_INC(&fc->fc_refusals);	/* the wired limit */
		return true;
	}
	if (error != 0) {
		stress_fail(FK_VM, NULL, "fork: mlock: %d", error);
		return false;
	}
	for (i = 0; i < FORK_WIRED; i++)
		if (!pmap_extract(f->f_vm->vm_map.pmap, va + ptoa(i),
		    &fc->fc_wpa[i])) {
			stress_fail(FK_VM, NULL, "fork: asid %u va %#lx: mlocked "
			    "but not mapped", f->f_asid,
			    (unsigned long)(va + ptoa(i)));
			return false;
		}
	fc->fc_wired = true;
	return true;
}

/* The wired pages are where they were wired, wired, and keep no slot. */
static bool
fork_wired_check(struct fork_ctx *fc, const char *when)
{
	struct forker *f = &fc->fc_root;
	vaddr_t va = fpage_va(f->f_own_lo, 0);
	struct audit_result ar;
	paddr_t pa;
	int i;

	for (i = 0; i < FORK_WIRED; i++)
		if (!pmap_extract(f->f_vm->vm_map.pmap, va + ptoa(i), &pa) ||
		    pa != fc->fc_wpa[i] || !pmap_is_wired(f->f_vm->vm_map.pmap,
		    va + ptoa(i), pa)) {
			stress_fail(FK_INTEGRITY, NULL, "fork: asid %u va %#lx, "
			    "mlocked at pa %#lx, %s: not there or not wired (a "
			    "fork must copy a wired page for the child, not "
			    "move the parent's)", f->f_asid,
			    (unsigned long)(va + ptoa(i)),
			    (unsigned long)fc->fc_wpa[i], when);
			return false;
		}
	memset(&ar, 0, sizeof(ar));
	audit_wired_range(&ar, &f->f_vm->vm_map, va, va + ptoa(FORK_WIRED));
	if (ar.nviolations != 0) {
		stress_fail(FK_INVARIANT, NULL, "fork: asid %u: %s", f->f_asid,
		    ar.first);
		return false;
	}
	return true;
}

/*
 * The copy-on-write benchmark (--cow-bench SIZE): the LWP's process has
 * SIZE of private memory, every page written; each op forks a child
 * that writes every page once (one copy-on-write fault each), checks a
 * page of its parent's is unchanged through a sibling view, and exits.
 * The rate is the child's pages over the time of its writing loop.
 */
struct cow_bench {
	struct fork_ctx		*cb_fc;
	struct vmspace		*cb_vm;
	int			cb_npages;
	uint64_t		cb_value;	/* what the writes store */
	uint64_t		cb_ns;		/* the child's loop */
	int			cb_bad;		/* page that read wrong, or -1 */
	kmutex_t		cb_lock;
	kcondvar_t		cb_cv;
	bool			cb_go;		/* [cb_lock] */
};

/* Write (or check) the first word of every page.  => user mode */
static void
cow_write_user(void *arg)
{
	struct cow_bench *cb = arg;
	volatile uint64_t *p;
	int i;

	for (i = 0; i < cb->cb_npages; i++) {
		p = pmap_hostaddr(cb->cb_vm->vm_map.pmap, FORK_COW + ptoa(i));
		if (*p != cb->cb_value - 1 && cb->cb_bad < 0)
			cb->cb_bad = i;
		*p = cb->cb_value;
	}
}

static void
cow_child_main(void *arg)
{
	struct cow_bench *cb = arg;
	struct host_user_fault uf;
	uint64_t t0;

	mutex_enter(&cb->cb_lock);
	while (!cb->cb_go)
		cv_wait(&cb->cb_cv, &cb->cb_lock);
	mutex_exit(&cb->cb_lock);
	cb->cb_vm = curproc->p_vmspace;
	t0 = host_real_ns();
	if (host_user_call(cow_write_user, cb, &uf) != 0)
		stress_fail(FK_SEGV, NULL, "fork --cow-bench: child pid %d: "
		    "SIGSEGV at %#lx (error %d)", curproc->p_pid,
		    (unsigned long)uf.uf_addr, uf.uf_error);
	cb->cb_ns = host_real_ns() - t0;
	kern_exit(curproc);
}

static bool
fork_cow_bench(struct fork_ctx *c, bool setup)
{
	struct stress_worker *w = c->fc_w;
	struct cow_bench cb = { .cb_fc = c, .cb_vm = w->w_vm, .cb_bad = -1,
	    .cb_npages = (int)(w->w_run->r_cfg->sval[FO_COW] / PAGE_SIZE) };
	struct host_user_fault uf;
	struct proc *p2;
	struct lwp *l2;
	vaddr_t va = FORK_COW;
	int error;

	if (setup) {	/* map and write it all: the parent's pages */
		error = uvm_mmap_anon(w->w_map, &va, ptoa(cb.cb_npages),
		    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED);
		cb.cb_value = 1;
		if (error == 0 && host_user_call(cow_write_user, &cb, &uf) != 0)
			error = uf.uf_error;
		if (error != 0)
			stress_fail(FK_VM, NULL, "fork --cow-bench: asid %u: "
			    "%d pages: error %d", w->w_asid, cb.cb_npages, error);
		return error == 0;
	}
	cb.cb_value = 2;	/* the child finds 1 and writes 2 */
	mutex_init_class(&cb.cb_lock, MUTEX_DEFAULT, IPL_NONE, "cowbench");
	cv_init(&cb.cb_cv, "cowbench");
	error = kern_fork(w->w_proc, 0, "cow", cow_child_main, &cb, &p2, &l2);
	if (error == 0) {
		mutex_enter(&cb.cb_lock);
		cb.cb_go = true;
		cv_broadcast(&cb.cb_cv);
		mutex_exit(&cb.cb_lock);
		kern_lwp_join(l2);
		kern_reap(p2);
		c->fc_cow_pages += (uint64_t)cb.cb_npages;
		c->fc_cow_ns += cb.cb_ns;
		FC_INC(&c->fc_forks);
	} else {
		FC_INC(&c->fc_enomem);
	}
	cv_destroy(&cb.cb_cv);
	mutex_destroy(&cb.cb_lock);
	if (cb.cb_bad >= 0) {
		stress_fail(FK_INTEGRITY, NULL, "fork --cow-bench: asid %u va "
		    "%#lx: the child read something else than its parent "
		    "wrote", w->w_asid, (unsigned long)(FORK_COW +
		    ptoa(cb.cb_bad)));
		return false;
	}
	/* the parent's pages are its own still (reads 1 where it wrote 1) */
	cb.cb_vm = w->w_vm;
	cb.cb_value = 2;
	cb.cb_bad = -1;
	if (host_user_call(cow_write_user, &cb, &uf) != 0 || cb.cb_bad >= 0) {
		stress_fail(FK_INTEGRITY, NULL, "fork --cow-bench: asid %u: "
		    "the parent's page %d changed under its child's writes "
		    "(a copy-on-write leak)", w->w_asid, cb.cb_bad);
		return false;
	}
	/* ... and back to 1 for the next child */
	cb.cb_value = 1;
	cb.cb_bad = -1;
	return host_user_call(cow_write_user, &cb, &uf) == 0;
}

/* The LWP worker (a root process's LWP). */
static void
fork_worker(struct stress_worker *w)
{
	struct fork_ctx *c = w->w_ctx;
	struct forker *f = &c->fc_root;
	const struct stress_config *cfg = w->w_run->r_cfg;
	struct fview *v = &c->fc_sh->fs_view;
	vaddr_t va;
	uint64_t pick, next_audit;
	int error;
	bool ok = true;

	c->fc_w = w;
	if (cfg->sval[FO_COW] != 0) {
		ok = fork_cow_bench(c, true);
		stress_barrier(w);
		while (ok && stress_continue(w)) {
			ok = fork_cow_bench(c, false);
			stress_op_done(w);
		}
		stress_timed_end(w);
		return;
	}
	*f = (struct forker){
		.f_fc = c, .f_p = w->w_proc, .f_vm = w->w_vm,
		.f_asid = w->w_asid, .f_depth = 0, .f_view = v,
		.f_own_lo = w->w_tid, .f_own_hi = w->w_tid + 1,
		.f_shared = true,
	};
	host_rng_init(&f->f_rng, cfg->seed, 0x10000u + (uint64_t)w->w_index);
	asid_name(w->w_asid, w->w_proc->p_pid);

	/* Its region; the first LWP also maps the shared one. */
	va = fpage_va(w->w_tid, 0);
	error = uvm_mmap_anon(w->w_map, &va, ptoa(v->fv_npages),
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED);
	if (error == 0 && w->w_tid == 0) {
		va = FORK_SHARED;
		error = uvm_mmap_anon(w->w_map, &va,
		    ptoa(c->fc_sh->fs_nlwps), VM_PROT_READ | VM_PROT_WRITE,
		    UVM_MMAP_FIXED);
		if (error == 0)
			error = uvm_map_inherit(w->w_map, FORK_SHARED,
			    FORK_SHARED + ptoa(c->fc_sh->fs_nlwps),
			    MAP_INHERIT_SHARE);
	}
	if (error != 0) {
		stress_fail(FK_VM, NULL, "fork: asid %u: mapping its regions: %d",
		    w->w_asid, error);
		ok = false;
	}
	stress_barrier(w);
	fork_gate_enter();
	next_audit = host_real_ns() + FORK_AUDIT_NS;
	while (ok && stress_continue(w)) {
		if (w->w_index == 0 && host_real_ns() >= next_audit) {
			/* the exact reference audit, every process stopped */
			if (!(ok = fork_gate_audit()))
				break;
			next_audit = host_real_ns() + FORK_AUDIT_NS;
		}
		pick = host_rng_below(&f->f_rng, 100);
		if (pick < (uint64_t)cfg->sval[FO_FORK])
			ok = fork_one(f, w->w_tid) == 0;
		else if ((pick -= (uint64_t)cfg->sval[FO_FORK]) <
		    (uint64_t)cfg->sval[FO_VSLOCK])
			ok = fork_vslock(f);
		else if ((pick -= (uint64_t)cfg->sval[FO_VSLOCK]) <
		    (uint64_t)cfg->sval[FO_MLOCK])
			ok = fork_mlock(c);
		else
			ok = fork_touch(f, 4, 4) && fork_slot_bump(f);
		if (ok && c->fc_wired)
			ok = fork_wired_check(c, "after the operation");
		stress_op_done(w);
		fork_gate_point();
		lwp_userret();
	}
	stress_timed_end(w);
	if (stress_killed(w) || f->f_killed) {
		fork_gate_leave();
		return;
	}
	/* The final checks: every page of its region. */
	for (int i = 0; ok && i < v->fv_npages; i++) {
		if (!stress_checks_continue(w))
			break;
		if (!UNKNOWN(fpage(v, f->f_own_lo, i)))
			ok = fork_check(f, f->f_own_lo, i, "final sweep");
	}
	if (c->fc_wired && ok)
		(void)uvm_munlock(w->w_map, fpage_va(f->f_own_lo, 0),
		    ptoa(FORK_WIRED));
	fork_gate_leave();
}

/* --ws, or 3/2 x --ram. */
static uint64_t
ws_bytes(const struct stress_config *cfg)
{
	uint64_t ws = (uint64_t)cfg->sval[FO_WS];

	return ws != 0 ? ws : cfg->ram / 2 * 3;
}

static uint64_t
fork_pages_per_lwp(const struct stress_config *cfg)
{
	uint64_t per;

	if (cfg->sval[FO_COW] != 0)	/* the parent's and a child's copy */
		return 2 * (uint64_t)cfg->sval[FO_COW] / PAGE_SIZE;
	per = ws_bytes(cfg) / PAGE_SIZE / (uint64_t)MAX(cfg->lwps, 1);

	return MAX(MIN(per, (uint64_t)FORK_MAXPAGES), (uint64_t)FORK_WIRED + 1);
}

static const char *
fork_check_opts(const struct stress_config *cfg, char *buf, size_t len)
{
	if (cfg->sval[FO_COW] != 0) {
		for (int i = 0; i < (int)nitems(fork_opts); i++)
			if (i != FO_COW && cfg->sset[i]) {
				snprintf(buf, len, "fork: --%s has no effect with "
				    "--cow-bench (the benchmark forks children that "
				    "write every page, nothing else)",
				    fork_opts[i].so_name);
				return buf;
			}
		if (cfg->threads != 1) {
			snprintf(buf, len, "fork: --cow-bench needs --threads 1 "
			    "(each LWP's process holds one region of its own)");
			return buf;
		}
	}
	if (cfg->inject == INJECT_CORRUPT) {
		snprintf(buf, len, "fork: --inject corrupt cannot reach its "
		    "ledgers (a process's, kept across forks): use mix, touch, "
		    "segv or pressure");
		return buf;
	}
	if (cfg->threads > FORK_MAXLWPS) {
		snprintf(buf, len, "fork: --threads %d: at most %d LWPs a "
		    "process (each has a region of its own)", cfg->threads,
		    FORK_MAXLWPS);
		return buf;
	}
	if (cfg->sval[FO_FORK] + cfg->sval[FO_VSLOCK] + cfg->sval[FO_MLOCK] >
	    100) {
		snprintf(buf, len, "fork: --fork-pct, --vslock-pct and "
		    "--mlock-pct add up to more than 100");
		return buf;
	}
	if ((uint64_t)cfg->sval[FO_VSLOCK_PAGES] + FORK_WIRED >
	    fork_pages_per_lwp(cfg)) {
		snprintf(buf, len, "fork: an LWP's region of %llu pages (--ws "
		    "over --lwps) leaves %llu past the %d an mlock wires: too few "
		    "for a vslock of --vslock-pages %lld (default 4): raise --ws "
		    "or lower --vslock-pages",
		    (unsigned long long)fork_pages_per_lwp(cfg),
		    (unsigned long long)(fork_pages_per_lwp(cfg) - FORK_WIRED),
		    FORK_WIRED, (long long)cfg->sval[FO_VSLOCK_PAGES]);
		return buf;
	}
	return NULL;
}

/* The scenario entry. */
static int
fork_run(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	struct fork_ctx *ctxs;
	struct fork_shared *sh;
	uint64_t forks = 0, vforks = 0, enomem = 0, execs = 0, children = 0;
	uint64_t checked = 0, unknown = 0, cow = 0, vslocks = 0, refusals = 0;
	uint64_t mlocks = 0, kills = 0, depth = 0, vexecs = 0, deferred = 0;
	int i, npages = (int)fork_pages_per_lwp(cfg), nprocs, error;

	mutex_init_class(&fork_gate.fg_lock, MUTEX_DEFAULT, IPL_NONE,
	    "forkgate");
	cv_init(&fork_gate.fg_cv, "forkaudit");
	fork_gate.fg_active = fork_gate.fg_closed = 0;
	fork_gate.fg_audits = fork_gate.fg_checks = 0;
	fork_live = 0;
	/* (the runner makes the processes: worker i is of i / threads) */
	nprocs = howmany(cfg->lwps, cfg->threads);
	ctxs = calloc((size_t)cfg->lwps, sizeof(*ctxs));
	sh = calloc((size_t)nprocs, sizeof(*sh));
	if (ctxs == NULL || sh == NULL)
		return EXIT_NO_RESOURCE;
	for (i = 0; i < nprocs; i++) {
		sh[i].fs_nlwps = MIN(cfg->threads, cfg->lwps - i * cfg->threads);
		sh[i].fs_view.fv_nregions = sh[i].fs_nlwps;
		sh[i].fs_view.fv_npages = npages;
		sh[i].fs_view.fv_pages = calloc((size_t)npages *
		    (size_t)sh[i].fs_nlwps, sizeof(struct fpage));
		if (sh[i].fs_view.fv_pages == NULL)
			return EXIT_NO_RESOURCE;
	}
	for (i = 0; i < cfg->lwps; i++)
		ctxs[i].fc_sh = &sh[i / cfg->threads];
	error = stress_run_workers(r, fork_worker, ctxs, sizeof(*ctxs));
	for (i = 0; i < cfg->lwps; i++) {
		struct fork_ctx *c = &ctxs[i];

		forks += c->fc_forks;
		vforks += c->fc_vforks;
		enomem += c->fc_enomem;
		execs += c->fc_execs;
		vexecs += c->fc_vfork_execs;
		deferred += c->fc_deferred;
		children += c->fc_children;
		checked += c->fc_checked;
		unknown += c->fc_unknown;
		cow += c->fc_cow_writes;
		vslocks += c->fc_vslocks;
		refusals += c->fc_refusals;
		mlocks += c->fc_mlocks;
		kills += c->fc_child_kills;
		depth = MAX(depth, c->fc_maxdepth);
	}
	/* (--ws's default is 0 in the options: this is what the run used) */
	stress_metric_u64(r, "ws_pages", (uint64_t)npages * (uint64_t)cfg->lwps);
	stress_metric_u64(r, "forks", forks);
	stress_metric_u64(r, "vforks", vforks);
	stress_metric_u64(r, "children_run", children);
	stress_metric_u64(r, "fork_enomem", enomem);
	stress_metric_u64(r, "execs", execs);
	stress_metric_u64(r, "vfork_execs", vexecs);
	stress_metric_u64(r, "fork_deferred", deferred);
	stress_metric_u64(r, "deepest_generation", depth);
	stress_metric_u64(r, "pages_checked", checked);
	stress_metric_u64(r, "pages_torn_by_fork", unknown);
	stress_metric_u64(r, "child_writes", cow);
	stress_metric_u64(r, "vslock_rounds", vslocks);
	stress_metric_u64(r, "refusals_checked", refusals);
	stress_metric_u64(r, "mlock_ops", mlocks);
	stress_metric_u64(r, "child_oom_kills", kills);
	stress_metric_str(r, "glue", kern_glue_name(kern_glue()));
	stress_metric_u64(r, "stopped_audits", fork_gate.fg_audits);
	stress_metric_u64(r, "stopped_audit_checks", fork_gate.fg_checks);
	if (cfg->sval[FO_COW] != 0) {
		uint64_t pages = 0, ns = 0;

		for (i = 0; i < cfg->lwps; i++) {
			pages += ctxs[i].fc_cow_pages;
			ns += ctxs[i].fc_cow_ns;
		}
		stress_metric_u64(r, "cow_pages", pages);
		/* per second of the children's write loops (an LWP's rate) */
		stress_metric_double(r, "cow_faults_per_s", ns == 0 ? 0.0 :
		    (double)pages / ((double)ns / 1e9));
	}
	for (i = 0; i < nprocs; i++)
		free(sh[i].fs_view.fv_pages);
	free(sh);
	free(ctxs);
	cv_destroy(&fork_gate.fg_cv);
	mutex_destroy(&fork_gate.fg_lock);
	return error;
}

/* The descriptor. */
const struct scenario scenario_fork = {
	.sc_name = "fork",
	.sc_summary = "processes fork, vfork, exec and exit under paging; "
	    "copy-on-write checked per process",
	.sc_help = fork_help,
	.sc_opts = fork_opts,
	.sc_nopts = (int)nitems(fork_opts),
	.sc_pages_per_lwp = fork_pages_per_lwp,
	.sc_reclaim = true,
	.sc_lwps = 4,
	.sc_threads = 2,
	.sc_check = fork_check_opts,
	.sc_run = fork_run,
};
