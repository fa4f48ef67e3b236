/*
 * tests/test_kern_proc.c: vm/kern_proc.c, fork1/LWP/exit/reap around the
 * glue seeds, with each glue: a fork copies (the child's write stays its
 * own), a vfork shares (the parent sees the child's write), the uvmexp
 * fork counters, what the glue's LWPs carry (u-areas or kernel stacks),
 * and the access checks' dispatch.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "tests/vmtest.h"
#include "vm/kern_proc.h"
#include "vm/uvm_mmap.h"

#define VA	((vaddr_t)0x400000)

/* local prototypes */
static void kp_init(void);
static struct proc *newproc_with_page(uint64_t value);
static void child_fn(void *arg);
static int fork_and_run(struct proc *p1, int flags, uint64_t *seen);
static void parent_fn(void *arg);

TestSuite(kern_proc, .init = kp_init, .fini = vmtest_shutdown,
    .timeout = 60);

static void
kp_init(void)
{
	alarm(60);
	vmtest_boot();
}

/* A process whose address space has one written page at VA. */
static struct proc *
newproc_with_page(uint64_t value)
{
	struct vmspace *vm = uvmspace_alloc(PAGE_SIZE, VM_MAXUSER_ADDRESS, true);
	struct proc *p;
	vaddr_t va = VA;

	cr_assert_eq(proc_create("parent", &p), 0);
	cr_assert_eq(uvm_mmap_anon(&vm->vm_map, &va, PAGE_SIZE,
	    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_FIXED), 0);
	cr_assert_eq(user_access(vm, VA, true, &value), 0);
	p->p_vmspace = vm;
	return p;
}

struct child_arg {
	uint64_t	seen;		/* what it read at VA */
	int		error;
};

/* The child: read VA, write 0xc41d there, exit. */
static void
child_fn(void *arg)
{
	struct child_arg *ca = arg;
	struct vmspace *vm = curproc->p_vmspace;
	uint64_t v = 0xc41d;

	ca->error = user_access(vm, VA, false, &ca->seen);
	if (ca->error == 0)
		ca->error = user_access(vm, VA, true, &v);
	kern_exit(curproc);
}

/* kern_fork a child running child_fn, wait for it, reap it. */
static int
fork_and_run(struct proc *p1, int flags, uint64_t *seen)
{
	struct child_arg ca = { 0, -1 };
	struct proc *p2;
	struct lwp *l2;
	int error;

	if ((error = kern_fork(p1, flags, "child", child_fn, &ca, &p2,
	    &l2)) != 0)
		return error;
	kern_lwp_join(l2);
	kern_reap(p2);
	cr_assert_eq(ca.error, 0, "the child's accesses failed: %d", ca.error);
	*seen = ca.seen;
	return 0;
}

struct parent_arg {
	struct proc	*p;
	uint64_t	fork_seen, vfork_seen;
	uint64_t	after_fork, after_vfork;	/* the parent's page */
	int		error;
};

/* The parent's LWP: fork, then vfork (fork is the forker's system call). */
static void
parent_fn(void *arg)
{
	struct parent_arg *pa = arg;
	struct vmspace *vm = curproc->p_vmspace;

	if ((pa->error = fork_and_run(pa->p, 0, &pa->fork_seen)) != 0 ||
	    (pa->error = user_access(vm, VA, false, &pa->after_fork)) != 0)
		return;
	if ((pa->error = fork_and_run(pa->p, KFORK_SHAREVM | KFORK_PPWAIT,
	    &pa->vfork_seen)) != 0)
		return;
	pa->error = user_access(vm, VA, false, &pa->after_vfork);
}

static void
fork_copies_and_vfork_shares(enum uvm_glue_kind glue)
{
	struct kern_proc_stats st0, st1;
	struct parent_arg pa;
	struct proc *p;
	struct lwp *l;
	int forks, ppwait, sharevm;

	kern_set_glue(glue);
	cr_assert_eq(kern_glue(), glue);
	p = newproc_with_page(0x1234);
	kern_proc_stats(&st0);
	forks = uvmexp_read(forks);
	ppwait = uvmexp_read(forks_ppwait);
	sharevm = uvmexp_read(forks_sharevm);

	pa = (struct parent_arg){ .p = p, .error = -1 };
	cr_assert_eq(kern_lwp_create(p, "parent", parent_fn, &pa, &l), 0);
	kern_lwp_join(l);
	cr_assert_eq(pa.error, 0, "the parent's fork or access failed: %d",
	    pa.error);
	/* a fork: the child saw the parent's page; its write was its own */
	cr_assert_eq(pa.fork_seen, 0x1234);
	cr_assert_eq(pa.after_fork, 0x1234, "the child's write reached its "
	    "parent");
	/* a vfork: one address space; the parent sees the child's write */
	cr_assert_eq(pa.vfork_seen, 0x1234);
	cr_assert_eq(pa.after_vfork, 0xc41d, "a vfork child's write is its "
	    "parent's");
	cr_assert_eq(p->p_vmspace->vm_refcnt, 1, "the share's reference went");
	cr_assert_eq(uvmexp_read(forks), forks + 2);
	cr_assert_eq(uvmexp_read(forks_ppwait), ppwait + 1);
	cr_assert_eq(uvmexp_read(forks_sharevm), sharevm + 1);

	kern_proc_stats(&st1);
	cr_assert_eq(st1.kp_forked, st0.kp_forked + 2);
	cr_assert_eq(st1.kp_reaped, st0.kp_reaped + 2);
	cr_assert_eq(st1.kp_live, 0);
	/* what the glue's LWPs carried: the parent's and two children's */
	if (glue == UVM_GLUE_NETBSD) {
		cr_assert_eq(st1.kp_uareas, st0.kp_uareas + 3);
		cr_assert_eq(st1.kp_kstacks, st0.kp_kstacks);
	} else {
		cr_assert_eq(st1.kp_kstacks, st0.kp_kstacks + 3);
		cr_assert_eq(st1.kp_uareas, st0.kp_uareas);
	}
	uvmspace_free(p->p_vmspace);
	p->p_vmspace = NULL;
	proc_free(p);
}

Test(kern_proc, netbsd_fork_copies_and_vfork_shares)
{
	fork_copies_and_vfork_shares(UVM_GLUE_NETBSD);
}

Test(kern_proc, freebsd_fork_copies_and_vfork_shares)
{
	fork_copies_and_vfork_shares(UVM_GLUE_FREEBSD);
}

/* The access checks, from an LWP of a process, by each glue. */
struct acc_arg {
	bool	user_ok, user_hole, kern_bad;
	int	vslock, vslock_hole;
};

static void
acc_fn(void *arg)
{
	struct acc_arg *a = arg;

	a->user_ok = kern_useracc(VA, PAGE_SIZE, VM_PROT_READ |
	    VM_PROT_WRITE);
	a->user_hole = kern_useracc(VA + 16 * PAGE_SIZE, PAGE_SIZE,
	    VM_PROT_READ);
	a->kern_bad = kern_kernacc(VM_MAX_KERNEL_ADDRESS - PAGE_SIZE,
	    2 * PAGE_SIZE, VM_PROT_READ);
	a->vslock = kern_vslock(VA, PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE);
	if (a->vslock == 0)
		kern_vsunlock(VA, PAGE_SIZE);
	a->vslock_hole = kern_vslock(VA + 16 * PAGE_SIZE, PAGE_SIZE,
	    VM_PROT_READ);
}

static void
access_checks(enum uvm_glue_kind glue)
{
	struct acc_arg a = { false, true, true, -1, 0 };
	struct proc *p;
	struct lwp *l;

	kern_set_glue(glue);
	p = newproc_with_page(1);
	cr_assert_eq(kern_lwp_create(p, "acc", acc_fn, &a, &l), 0);
	kern_lwp_join(l);
	cr_assert(a.user_ok, "useracc refused a mapped, writable page");
	cr_assert_not(a.user_hole, "useracc allowed a hole");
	cr_assert_not(a.kern_bad, "kernacc allowed a range past kernel_map");
	cr_assert_eq(a.vslock, 0, "vslock of a mapped page: %d", a.vslock);
	cr_assert_neq(a.vslock_hole, 0, "vslock of a hole succeeded");
	if (glue == UVM_GLUE_FREEBSD)
		cr_assert_eq(a.vslock_hole, EFAULT, "FreeBSD's vslock returns "
		    "EFAULT for a hole, not %d", a.vslock_hole);
	uvmspace_free(p->p_vmspace);
	p->p_vmspace = NULL;
	proc_free(p);
}

Test(kern_proc, netbsd_access_checks)
{
	access_checks(UVM_GLUE_NETBSD);
}

Test(kern_proc, freebsd_access_checks)
{
	access_checks(UVM_GLUE_FREEBSD);
}

Test(kern_proc, glue_names)
{
	cr_assert_str_eq(kern_glue_name(UVM_GLUE_NETBSD), "netbsd");
	cr_assert_str_eq(kern_glue_name(UVM_GLUE_FREEBSD), "freebsd");
}
