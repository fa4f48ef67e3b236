/*
 * stress/scenario_segv.c: faults the VM must refuse, and how it refuses.
 *
 * Each LWP lays out, in its own address space:
 *
 *	[guard][data pages ...][guard]	read/write, guards PROT_NONE
 *	[ro pages]			read-only
 *	[page][hole][page]		the middle page unmapped
 *
 * and runs seeded probes, one op each: a data touch (checked, as in
 * touch), a guard access (read or write: SIGSEGV, EACCES), a read of a
 * read-only page (works, reads zero), a write to it (SIGSEGV, access
 * WRITE, EACCES, and nothing lands), an access to the hole, to page 0
 * and to the top page of user space (SIGSEGV, EFAULT), an mprotect of a
 * data page to read-only and back (the signature survives, the write in
 * between is refused), and hole churn (map the hole, touch it, unmap it:
 * it reads zero while mapped and faults again after).
 *
 * Every simulated SIGSEGV is checked: the faulting address exactly, its
 * page, the access type, the pmap, and the error; a missing one is a
 * "missing-segv" failure, a wrong one a "wrong-segv" failure, and one
 * where none was due a "segv" failure.
 */
#include <stdlib.h>
#include <string.h>

#include "host/hook.h"
#include "host/machine.h"
#include "host/trap.h"
#include "integrity.h"
#include "runner.h"
#include "scenario.h"
#include "vm/uvm_mmap.h"

#define SEGV_RO_PAGES	4
#define SEGV_HINT	((vaddr_t)0x20000000)
#define PAGE_WORDS	(PAGE_SIZE / sizeof(uint64_t))
#define SEGV_MARKER	0xdeadbeefbadc0ffeull	/* what refused writes write */

/* Help text. */
static const char segv_help[] =
"  Each LWP maps data pages between PROT_NONE guard pages, read-only\n"
"  pages and a hole, and probes them: guard accesses, writes to read-only\n"
"  pages, hole, page-0 and top-of-space accesses must each arrive as a\n"
"  simulated SIGSEGV with the right address, access type and error\n"
"  (EACCES for protection, EFAULT for no mapping); reads of read-only\n"
"  pages, data touches and mprotect round trips must work.  An op is one\n"
"  probe.\n";

/* Options table. */
enum { SO_PAGES };
static const struct sopt segv_opts[] = {
	[SO_PAGES] = { "pages", SOPT_INT, 1, 1 << 16, 16, NULL, "N",
	    "data pages per LWP (between the guards)", NULL, NULL },
};

/* The probes, with their weights (out of 100). */
enum probe {
	PR_DATA, PR_GUARD, PR_RO_READ, PR_RO_WRITE, PR_HOLE, PR_NULL, PR_TOP,
	PR_PROTECT, PR_HOLE_CHURN, PR_NPROBES
};
static const struct {
	const char	*name;
	int		weight;
} probes[PR_NPROBES] = {
	[PR_DATA] = { "probes_data", 25 },
	[PR_GUARD] = { "probes_guard", 15 },
	[PR_RO_READ] = { "probes_ro_read", 10 },
	[PR_RO_WRITE] = { "probes_ro_write", 10 },
	[PR_HOLE] = { "probes_hole", 10 },
	[PR_NULL] = { "probes_null", 5 },
	[PR_TOP] = { "probes_top", 5 },
	[PR_PROTECT] = { "probes_protect", 12 },
	[PR_HOLE_CHURN] = { "probes_hole_churn", 8 },
};

/* Context: one per LWP. */
struct segv_ctx {
	struct stress_worker	*sg_w;
	int			sg_npages;	/* data pages */
	vaddr_t			sg_data;	/* first data page */
	vaddr_t			sg_guard[2];	/* below and above the data */
	vaddr_t			sg_ro;		/* read-only pages */
	vaddr_t			sg_holereg;	/* [page][hole][page] */
	vaddr_t			sg_hole;
	bool			sg_hole_mapped;
	struct integ_ledger	sg_lg;		/* the data pages */
	/* the access user mode makes */
	volatile uint64_t	*sg_p;
	bool			sg_write;
	uint64_t		sg_sink;
	/* a check user mode makes */
	int			sg_page;	/* ledger index, -1: sg_p's page */
	uint32_t		sg_gen;		/* expected, for -1 */
	vaddr_t			sg_va;
	bool			sg_bad;
	struct integ_bad	sg_badinfo;
	uint64_t		sg_count[PR_NPROBES];
	uint64_t		sg_expected;	/* SIGSEGVs due */
};

/* local prototypes */
static volatile uint64_t *host(const struct segv_ctx *c, vaddr_t va);
static void user_access(void *arg);
static void user_check(void *arg);
static void user_write(void *arg);
static bool segv_unexpected(struct segv_ctx *c, const struct host_user_fault *uf,
    const char *what);
static bool segv_expect(struct segv_ctx *c, const char *what, vaddr_t addr,
    bool write, int error);
static bool segv_check(struct segv_ctx *c, const char *what, int page,
    vaddr_t va, uint32_t gen);
static bool segv_touch_data(struct segv_ctx *c, int i, bool write);
static bool segv_vm(struct segv_ctx *c, const char *call, int error);
static bool segv_setup(struct segv_ctx *c);
static bool segv_probe(struct segv_ctx *c, enum probe pr);
static void segv_worker(struct stress_worker *w);
static uint64_t segv_pages_per_lwp(const struct stress_config *cfg);
static int segv_run(struct stress_run *r);

static volatile uint64_t *
host(const struct segv_ctx *c, vaddr_t va)
{
	return pmap_hostaddr(c->sg_w->w_pmap, va);
}

/* User mode: one load or store at sg_p. */
static void
user_access(void *arg)
{
	struct segv_ctx *c = arg;

	if (c->sg_write)
		*c->sg_p = SEGV_MARKER;
	else
		c->sg_sink = *c->sg_p;
}

/* User mode: check the page at sg_va against gen sg_gen (0: zeroes). */
static void
user_check(void *arg)
{
	struct segv_ctx *c = arg;

	c->sg_badinfo.ib_page = c->sg_page;
	c->sg_bad = !integ_check(host(c, c->sg_va), c->sg_w->w_asid, c->sg_va,
	    c->sg_gen, &c->sg_badinfo);
}

/* User mode: sign the page at sg_va with sg_gen, and read it back. */
static void
user_write(void *arg)
{
	struct segv_ctx *c = arg;

	integ_write(host(c, c->sg_va), c->sg_w->w_asid, c->sg_va, c->sg_gen);
	user_check(c);
}

static bool
segv_unexpected(struct segv_ctx *c, const struct host_user_fault *uf,
    const char *what)
{
	stress_fail(FK_SEGV, NULL, "asid %u va %#lx: unexpected SIGSEGV (%s, "
	    "error %d: %s) during %s", c->sg_w->w_asid,
	    (unsigned long)uf->uf_addr,
	    uf->uf_access == VM_PROT_WRITE ? "write" : "read", uf->uf_error,
	    strerror(uf->uf_error), what);
	return false;
}

/*
 * segv_expect: access addr (write or read) in user mode; a simulated
 * SIGSEGV must come, exactly for addr, with the access and the error.
 */
static bool
segv_expect(struct segv_ctx *c, const char *what, vaddr_t addr, bool write,
    int error)
{
	struct stress_worker *w = c->sg_w;
	struct host_user_fault uf;
	int access = write ? VM_PROT_WRITE : VM_PROT_READ;

	c->sg_p = host(c, addr);
	c->sg_write = write;
	c->sg_expected++;
	memset(&uf, 0, sizeof(uf));
	if (host_user_call(user_access, c, &uf) == 0) {
		stress_fail(FK_NOSEGV, NULL, "asid %u va %#lx: %s of %s went "
		    "through; a SIGSEGV with error %d (%s) was due",
		    w->w_asid, (unsigned long)addr, write ? "write" : "read",
		    what, error, strerror(error));
		return false;
	}
	STRESS_INC(&w->w_segv);
	if (uf.uf_pmap != w->w_pmap || uf.uf_addr != addr ||
	    uf.uf_va != trunc_page(addr) || uf.uf_access != access ||
	    uf.uf_error != error) {
		stress_fail(FK_WRONGSEGV, NULL, "asid %u: %s of %s at va %#lx: "
		    "SIGSEGV for va %#lx (page %#lx, %s pmap) access %s error "
		    "%d (%s); expected va %#lx access %s error %d (%s)",
		    w->w_asid, write ? "write" : "read", what,
		    (unsigned long)addr, (unsigned long)uf.uf_addr,
		    (unsigned long)uf.uf_va,
		    uf.uf_pmap == w->w_pmap ? "this" : "ANOTHER",
		    uf.uf_access == VM_PROT_WRITE ? "write" :
		    uf.uf_access == VM_PROT_READ ? "read" : "other",
		    uf.uf_error, strerror(uf.uf_error), (unsigned long)addr,
		    write ? "write" : "read", error, strerror(error));
		return false;
	}
	return true;
}

/* segv_check: the page at va must hold gen (0: zeroes); no fault due. */
static bool
segv_check(struct segv_ctx *c, const char *what, int page, vaddr_t va,
    uint32_t gen)
{
	struct host_user_fault uf;

	c->sg_page = page;
	c->sg_va = va;
	c->sg_gen = gen;
	c->sg_badinfo.ib_when = what;
	if (host_user_call(user_check, c, &uf) != 0)
		return segv_unexpected(c, &uf, what);
	if (c->sg_bad) {
		struct integ_ledger one = { c->sg_w->w_asid, c->sg_w->w_pmap,
		    1, &(struct integ_page){ .ip_gen = gen, .ip_va = va } };

		c->sg_badinfo.ib_page = page >= 0 ? page : 0;
		integ_report(c->sg_w, page >= 0 ? &c->sg_lg : &one,
		    &c->sg_badinfo);
		return false;
	}
	return true;
}

/* A data page: check it, and maybe write its next generation. */
static bool
segv_touch_data(struct segv_ctx *c, int i, bool write)
{
	struct stress_worker *w = c->sg_w;
	struct host_user_fault uf;
	vaddr_t va = c->sg_data + ptoa(i);
	uint32_t gen = c->sg_lg.il_pages[i].ip_gen;

	if (!segv_check(c, "read", i, va, gen))
		return false;
	if (!write)
		return true;
	c->sg_page = i;
	c->sg_va = va;
	c->sg_gen = gen + 1;
	c->sg_badinfo.ib_when = "read-back";
	if (host_user_call(user_write, c, &uf) != 0)
		return segv_unexpected(c, &uf, "a data write");
	if (c->sg_bad) {
		integ_report(w, &c->sg_lg, &c->sg_badinfo);
		return false;
	}
	integ_wrote(&c->sg_lg, i, gen + 1, STRESS_LD(&w->w_ops));
	return true;
}

static bool
segv_vm(struct segv_ctx *c, const char *call, int error)
{
	if (error == 0)
		return true;
	stress_fail(FK_VM, NULL, "asid %u: %s: error %d (%s)",
	    c->sg_w->w_asid, call, error, strerror(error));
	return false;
}

/* The layout.  => kernel mode, before the barrier */
static bool
segv_setup(struct segv_ctx *c)
{
	struct vm_map *map = c->sg_w->w_map;
	vaddr_t va;
	int i;

	va = SEGV_HINT;
	if (!segv_vm(c, "uvm_mmap_anon (data and guards)", uvm_mmap_anon(map,
	    &va, ptoa(c->sg_npages + 2), VM_PROT_READ | VM_PROT_WRITE,
	    UVM_MMAP_PRIVATE)))
		return false;
	c->sg_guard[0] = va;
	c->sg_data = va + PAGE_SIZE;
	c->sg_guard[1] = c->sg_data + ptoa(c->sg_npages);
	if (!segv_vm(c, "uvm_mprotect (low guard)", uvm_mprotect(map,
	    c->sg_guard[0], PAGE_SIZE, VM_PROT_NONE)) ||
	    !segv_vm(c, "uvm_mprotect (high guard)", uvm_mprotect(map,
	    c->sg_guard[1], PAGE_SIZE, VM_PROT_NONE)))
		return false;
	for (i = 0; i < c->sg_npages; i++)
		integ_set_va(&c->sg_lg, i, c->sg_data + ptoa(i));

	va = SEGV_HINT;
	if (!segv_vm(c, "uvm_mmap_anon (read-only)", uvm_mmap_anon(map, &va,
	    ptoa(SEGV_RO_PAGES), VM_PROT_READ, UVM_MMAP_PRIVATE)))
		return false;
	c->sg_ro = va;

	va = SEGV_HINT;
	if (!segv_vm(c, "uvm_mmap_anon (hole region)", uvm_mmap_anon(map, &va,
	    ptoa(3), VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_PRIVATE)))
		return false;
	c->sg_holereg = va;
	c->sg_hole = va + PAGE_SIZE;
	return segv_vm(c, "uvm_munmap (the hole)", uvm_munmap(map, c->sg_hole,
	    PAGE_SIZE));
}

/* A random word-aligned address in the page at va. */
#define IN_PAGE(c, va) \
	((va) + host_rng_below(&(c)->sg_w->w_rng, PAGE_WORDS) * sizeof(uint64_t))

/* One probe: one op.  => kernel mode (probes enter user mode themselves) */
static bool
segv_probe(struct segv_ctx *c, enum probe pr)
{
	struct stress_worker *w = c->sg_w;
	struct host_rng *rng = &w->w_rng;
	struct vm_map *map = w->w_map;
	bool write = host_rng_below(rng, 2) != 0;
	vaddr_t va;
	int i;

	c->sg_count[pr]++;
	switch (pr) {
	case PR_DATA:
		i = (int)host_rng_below(rng, (uint64_t)c->sg_npages);
		stress_touched(w, (uint64_t)pr << 32 | (uint64_t)i << 1 | write);
		return segv_touch_data(c, i, write);
	case PR_GUARD:
		va = IN_PAGE(c, c->sg_guard[host_rng_below(rng, 2)]);
		stress_touched(w, (uint64_t)pr << 32 ^ va ^ write);
		return segv_expect(c, "a PROT_NONE guard page", va, write,
		    EACCES);
	case PR_RO_READ:
		va = c->sg_ro + ptoa(host_rng_below(rng, SEGV_RO_PAGES));
		stress_touched(w, (uint64_t)pr << 32 ^ va);
		return segv_check(c, "read of a read-only page", -1, va, 0);
	case PR_RO_WRITE:
		va = c->sg_ro + ptoa(host_rng_below(rng, SEGV_RO_PAGES));
		stress_touched(w, (uint64_t)pr << 32 ^ va);
		/* refused, and nothing may land: the page still reads zero */
		return segv_expect(c, "a read-only page", IN_PAGE(c, va), true,
		    EACCES) && segv_check(c, "read after a refused write", -1,
		    va, 0);
	case PR_HOLE:
		if (c->sg_hole_mapped)
			return true;
		va = IN_PAGE(c, c->sg_hole);
		stress_touched(w, (uint64_t)pr << 32 ^ va ^ write);
		return segv_expect(c, "an unmapped hole", va, write, EFAULT);
	case PR_NULL:
		va = IN_PAGE(c, VM_MIN_ADDRESS);
		stress_touched(w, (uint64_t)pr << 32 ^ va ^ write);
		return segv_expect(c, "page 0 (below the map)", va, write,
		    EFAULT);
	case PR_TOP:
		va = IN_PAGE(c, VM_MAXUSER_ADDRESS - PAGE_SIZE);
		stress_touched(w, (uint64_t)pr << 32 ^ va ^ write);
		return segv_expect(c, "the top page of user space", va, write,
		    EFAULT);
	case PR_PROTECT:
		i = (int)host_rng_below(rng, (uint64_t)c->sg_npages);
		va = c->sg_data + ptoa(i);
		stress_touched(w, (uint64_t)pr << 32 | (uint64_t)i);
		if (!segv_vm(c, "uvm_mprotect (data page to read-only)",
		    uvm_mprotect(map, va, PAGE_SIZE, VM_PROT_READ)))
			return false;
		if (!segv_touch_data(c, i, false) ||
		    !segv_expect(c, "a data page made read-only",
		    va + 2 * sizeof(uint64_t), true, EACCES))
			return false;
		if (!segv_vm(c, "uvm_mprotect (data page back to read/write)",
		    uvm_mprotect(map, va, PAGE_SIZE, VM_PROT_READ |
		    VM_PROT_WRITE)))
			return false;
		return segv_touch_data(c, i, true);
	case PR_HOLE_CHURN:
		va = c->sg_hole;
		stress_touched(w, (uint64_t)pr << 32 ^ va);
		if (!segv_vm(c, "uvm_mmap_anon (fill the hole)",
		    uvm_mmap_anon(map, &va, PAGE_SIZE, VM_PROT_READ |
		    VM_PROT_WRITE, UVM_MMAP_FIXED)))
			return false;
		c->sg_hole_mapped = true;
		/* a fresh page reads zero; then sign it */
		if (!segv_check(c, "first touch of the filled hole", -1, va, 0))
			return false;
		c->sg_page = -1;
		c->sg_va = va;
		c->sg_gen = 1;
		c->sg_badinfo.ib_when = "read-back";
		{
			struct host_user_fault uf;

			if (host_user_call(user_write, c, &uf) != 0)
				return segv_unexpected(c, &uf, "a write to "
				    "the filled hole");
		}
		if (c->sg_bad)
			return segv_check(c, "read-back", -1, va, 1);
		if (!segv_vm(c, "uvm_munmap (the hole again)",
		    uvm_munmap(map, va, PAGE_SIZE)))
			return false;
		c->sg_hole_mapped = false;
		return segv_expect(c, "a hole unmapped again", IN_PAGE(c, va),
		    write, EFAULT);
	default:
		return false;
	}
}

/* The LWP worker. */
static void
segv_worker(struct stress_worker *w)
{
	struct segv_ctx *c = w->w_ctx;
	bool ok;
	int i, k, roll;

	c->sg_w = w;
	if (integ_ledger_init(&c->sg_lg, w->w_asid, w->w_pmap,
	    c->sg_npages) != 0) {
		stress_fail(FK_VM, NULL, "asid %u: no memory for the ledger",
		    w->w_asid);
		return;
	}
	ok = segv_setup(c);
	w->w_ledger = &c->sg_lg;

	stress_barrier(w);
	while (ok && stress_continue(w)) {
		roll = (int)host_rng_below(&w->w_rng, 100);
		for (k = 0; k < PR_NPROBES - 1; k++) {
			if (roll < probes[k].weight)
				break;
			roll -= probes[k].weight;
		}
		ok = segv_probe(c, (enum probe)k);
		stress_op_done(w);
		lwp_userret();
	}

	/* The final sweep of the data pages, then unmap everything. */
	for (i = 0; ok && i < c->sg_npages; i++) {
		ok = segv_check(c, "sweep", i, c->sg_data + ptoa(i),
		    c->sg_lg.il_pages[i].ip_gen);
		host_progress();
	}
	for (i = 0; i < c->sg_npages; i++)
		integ_set_va(&c->sg_lg, i, 0);
	if (c->sg_data != 0)
		(void)segv_vm(c, "uvm_munmap (data)", uvm_munmap(w->w_map,
		    c->sg_guard[0], ptoa(c->sg_npages + 2)));
	if (c->sg_ro != 0)
		(void)segv_vm(c, "uvm_munmap (read-only)", uvm_munmap(w->w_map,
		    c->sg_ro, ptoa(SEGV_RO_PAGES)));
	if (c->sg_holereg != 0)
		(void)segv_vm(c, "uvm_munmap (hole region)", uvm_munmap(w->w_map,
		    c->sg_holereg, ptoa(3)));
}

static uint64_t
segv_pages_per_lwp(const struct stress_config *cfg)
{
	return (uint64_t)cfg->sval[SO_PAGES] + SEGV_RO_PAGES + 3;
}

/* The scenario entry. */
static int
segv_run(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	struct segv_ctx *ctxs;
	uint64_t count[PR_NPROBES] = { 0 }, expected = 0, delivered = 0;
	int i, k, error;

	ctxs = calloc((size_t)cfg->lwps, sizeof(*ctxs));
	if (ctxs == NULL)
		return EXIT_NO_RESOURCE;
	for (i = 0; i < cfg->lwps; i++)
		ctxs[i].sg_npages = (int)cfg->sval[SO_PAGES];
	error = stress_run_workers(r, segv_worker, ctxs, sizeof(*ctxs));
	for (i = 0; i < cfg->lwps; i++) {
		for (k = 0; k < PR_NPROBES; k++)
			count[k] += ctxs[i].sg_count[k];
		expected += ctxs[i].sg_expected;
		if (r->r_workers != NULL && i < r->r_nworkers)
			delivered += r->r_workers[i].w_segv;
	}
	stress_metric_u64(r, "segv_expected", expected);
	stress_metric_u64(r, "segv_delivered", delivered);
	for (k = 0; k < PR_NPROBES; k++)
		stress_metric_u64(r, probes[k].name, count[k]);
	for (i = 0; i < cfg->lwps; i++)
		integ_ledger_fini(&ctxs[i].sg_lg);
	free(ctxs);
	return error;
}

/* The descriptor. */
const struct scenario scenario_segv = {
	.sc_name = "segv",
	.sc_summary = "faults the VM must refuse: guard pages, read-only "
	    "pages, holes (checks each simulated SIGSEGV)",
	.sc_help = segv_help,
	.sc_opts = segv_opts,
	.sc_nopts = (int)nitems(segv_opts),
	.sc_pages_per_lwp = segv_pages_per_lwp,
	.sc_skip = NULL,
	.sc_run = segv_run,
};
