/*
 * stress/scenario_mix.c: the whole VM at once, by weighted operations.
 *
 * Processes of --threads LWPs share one map.  Each process has three
 * shared regions its LWPs all touch (a private anonymous one, whose amap
 * they share; a shared anonymous one, an aobj; a private mapping of an
 * aobj, whose first writes promote object pages to anons), and each LWP
 * has up to MIX_REGIONS regions of its own in the same map, which it
 * maps, unmaps, protects, wires and touches while its siblings fault
 * next to it.  Every LWP draws its operations from the seeded --mix
 * weights:
 *
 *	touch	check a page against the oracle and write its next state
 *	peek	read a random address of the process's regions: a sibling's
 *		page being faulted, paged out, unmapped or protected meanwhile
 *		(a hole there is a SIGSEGV with EFAULT: expected)
 *	map	map a region of its own (private or shared anonymous memory,
 *		or a private mapping of a new aobj)
 *	munmap	unmap one of its regions, whole or its tail
 *	mprotect make a region read-only, check a read goes through and a
 *		write is refused (EACCES), make it writable again
 *	madvise	set the paging advice of a range (its own or shared)
 *	msync	msync (MS_ASYNC, MS_INVALIDATE) or madvise DONTNEED a range
 *		(uvm_map_clean: deactivate), or MADV_FREE one of its own
 *		(its pages are freed: each then reads zero, or its old data
 *		where the VM skipped it: swapped out, busy or wired)
 *	mlock	wire one of its regions (checked resident and unmoved until
 *		unwired) or a range of a shared one, or unwire it again
 *	kmem	allocate kernel memory (pageable uvm_km_valloc, wired
 *		uvm_km_alloc1, uvm_km_kmemalloc NOWAIT), sign it, and check
 *		and free an older allocation
 *	pool	get (PR_NOWAIT) or put an item of a pool whose pages come from
 *		uvm_km_alloc_poolpage1
 *
 * The integrity oracle: a page of an LWP's own region carries the
 * signature of its last generation (stress/integrity.h).  A page of a
 * shared region is slotted: word MIX_SLOT0 + k belongs to LWP k of the
 * process, which alone writes it (a counter of its writes) and checks it
 * (a write lost between siblings, e.g. to a page replaced under a racing
 * promotion, shows as a count that went back); words below MIX_SLOT0 and
 * the last word must stay zero.  Kernel memory carries signatures
 * checked before it is freed.
 *
 * The working set (--ws, default 2 x --ram) is split: half for the
 * shared regions (per process), half for the LWPs' own regions; so the
 * pagedaemon and the aiodone daemon run throughout, and --fail-io and
 * --fail-alloc default to 0.5%, so the error paths run too.  Not yet:
 * fork, exec and exit (the processes issue), files (the vnode pager
 * issue), msync (no uvm_map_clean yet).
 *
 * An op is one operation of the mix.
 */
#include <stdlib.h>
#include <string.h>

#include "host/arena.h"
#include "host/hook.h"
#include "host/machine.h"
#include "host/pool.h"
#include "host/trap.h"
#include "audit.h"
#include "integrity.h"
#include "runner.h"
#include "scenario.h"
#include "vm/uvm.h"
#include "vm/uvm_aobj.h"
#include "vm/uvm_km.h"
#include "vm/uvm_mmap.h"

#define MIX_BATCH	64		/* ops per trip to user mode */
#define MIX_REGIONS	8		/* own region slots per LWP */
#define MIX_NSHARED	3		/* shared regions per process */
#define MIX_SLOT0	8		/* the first slot word of a page */
#define MIX_KMEM	32		/* kernel allocations per LWP */
#define MIX_KMEM_PAGES	16		/* pages per allocation, at most */
#define MIX_POOLITEMS	16		/* pool items per LWP */
#define MIX_POOLSIZE	256		/* bytes per pool item */
#define MIX_HINT	((vaddr_t)0x10000000)
#define MIX_WS_MAX	(1ll << 40)
#define MIX_PROC_MAX	(3ull << 30)	/* per process: user VA is 4 GiB */
#define KASID_BIT	0x80000000u	/* kernel memory: asid | LWP index */
#define KMEM_LOST	UINT32_MAX	/* mk_gen: a fault on it was refused */
#define GEN_LOST	UINT32_MAX	/* ip_gen: lost on a bad sector */
#define MIX_OBJ_MAGIC	0x4f424a46ull	/* "OBJF": the shared aobj's fill */
#define PAGE_WORDS	(PAGE_SIZE / sizeof(uint64_t))

/* Help text. */
static const char mix_help[] =
"  Processes of --threads LWPs share a map: three shared regions every\n"
"  LWP of the process touches (private anonymous, shared anonymous, a\n"
"  private mapping of an aobj) and regions of each LWP's own.  Each LWP\n"
"  draws seeded operations by the --mix weights: touch, peek (read a\n"
"  sibling's pages), map, munmap, mprotect, madvise, msync (and\n"
"  MADV_FREE), mlock (and munlock), kmem (uvm_km_* allocations) and pool\n"
"  (pool_get/pool_put).\n"
"  The working set is beyond RAM and I/O errors and allocation failures\n"
"  are injected at 0.5% by default, so the daemons and the error paths\n"
"  run throughout.  Every touch is checked (own pages by signature,\n"
"  shared pages by each LWP's own word of them).  --mix names each\n"
"  operation's weight (0..1000); operations not named get 0.  An op is\n"
"  one operation.\n";

/* The operations. */
enum mix_op { OP_TOUCH, OP_PEEK, OP_MAP, OP_MUNMAP, OP_MPROTECT,
    OP_MADVISE, OP_MSYNC, OP_MLOCK, OP_KMEM, OP_POOL, OP_N };
static const char *const mix_opnames[OP_N] = { "touch", "peek", "map",
    "munmap", "mprotect", "madvise", "msync", "mlock", "kmem", "pool" };
static const char *const mix_metric_names[OP_N] = { "op_touch", "op_peek",
    "op_map", "op_munmap", "op_mprotect", "op_madvise", "op_msync",
    "op_mlock", "op_kmem", "op_pool" };
#define MIX_DEFAULT	"touch=60,peek=4,map=3,munmap=2,mprotect=2," \
			"madvise=1,msync=2,mlock=1,kmem=2,pool=2"
#define MIX_WEIGHT_MAX	1000

/* Options table. */
enum { MO_MIX, MO_WS };
static const struct sopt mix_opts[] = {
	[MO_MIX] = { "mix", SOPT_STRING, 0, 0, 0, NULL, "OP=W,...",
	    "operation weights: touch, map, munmap, mprotect, madvise, "
	    "msync, mlock, kmem, pool", "touch=60, peek=4, map=3, munmap=2, "
	    "mprotect=2, madvise=1, msync=2, mlock=1, kmem=2, pool=2",
	    MIX_DEFAULT },
	/* (the default 0 stands for 2 x --ram; --ws 0 itself is refused) */
	[MO_WS] = { "ws", SOPT_SIZE, PAGE_SIZE, MIX_WS_MAX, 0, NULL, "SIZE",
	    "working set of all processes together: 256M, 1G", "2 x --ram",
	    NULL },
};

/* Region kinds. */
enum mix_kind { RK_ANON, RK_SHANON, RK_AOBJ, RK_N };
static const char *const mix_kindnames[RK_N] = { "private anon",
    "shared anon", "private aobj" };

/* A region: shared ones are slotted, own ones signed. */
struct mix_region {
	vaddr_t			mr_va;		/* 0: not mapped */
	volatile uint64_t	*mr_host;
	int			mr_npages;
	int			mr_kind;
	bool			mr_wired;	/* own: mlocked by us */
};

/* A process's shared regions (set by its LWP 0 before the barrier). */
struct mix_proc {
	struct mix_region	mp_reg[MIX_NSHARED];	/* [I after ready] */
	int			mp_ready;		/* [a] */
	int			mp_nlwps;		/* [I] */
	uint8_t			*mp_lost[MIX_NSHARED];	/* [a] pages lost on a
							   bad sector */
	uint64_t		mp_cursor;		/* [a] the aobj region's
							   next page (x LWPs) */
};

/* How kernel memory is had. */
enum { KM_VALLOC, KM_ALLOC1, KM_KMEMALLOC, KM_VALLOC_WAIT, KM_ALLOC, KM_PGLIST,
    KM_KMEMVA, KM_N };
static const char *const kmem_names[KM_N] = { "uvm_km_valloc",
    "uvm_km_alloc1", "uvm_km_kmemalloc", "uvm_km_valloc_wait",
    "uvm_km_alloc", "uvm_pglistalloc", "uvm_km_kmemalloc(VALLOC)" };

/* A kernel allocation. */
struct mix_kmem {
	vaddr_t			mk_va;		/* 0: none */
	int			mk_npages;
	int			mk_how;		/* KM_* */
	struct pglist		mk_pl;		/* KM_PGLIST: the pages */
	uint32_t		mk_gen;
};

/* Context: one per LWP. */
struct mix_ctx {
	struct stress_worker	*mc_w;
	struct mix_proc		*mc_proc;
	unsigned int		mc_weight[OP_N];
	unsigned int		mc_wsum;
	int			mc_maxpages;	/* own region: pages at most */
	struct mix_region	mc_reg[MIX_REGIONS];
	struct integ_ledger	mc_lg;		/* own pages: region x page */
	uint8_t			*mc_maybe0;	/* own pages MADV_FREEd: old
						   data or zero, either ok */
	uint32_t		*mc_slot[MIX_NSHARED];	/* my word's count */
	paddr_t			*mc_wpa;	/* the wired region's frames */
	int			mc_wiredreg;	/* -1: none */
	struct mix_kmem		mc_km[MIX_KMEM];
	void			*mc_item[MIX_POOLITEMS];
	/* user mode */
	int			mc_pending;	/* an op for kernel mode, or -1 */
	bool			mc_failed;
	bool			mc_stop;
	bool			mc_shared_bad;	/* mc_bad is a slot mismatch */
	struct integ_bad	mc_bad;
	int			mc_badreg;
	uint64_t		mc_badword;
	int			mc_next;	/* sweep cursor */
	volatile uint64_t	*mc_probe;	/* mprotect: the page tried */
	/* counts */
	uint64_t		mc_ops[OP_N];
	uint64_t		mc_refused[OP_N];	/* ENOMEM, EAGAIN... */
	uint64_t		mc_peek_holes;	/* peeks that found no map */
	uint64_t		mc_lost;	/* pages found lost (EIO) */
	int			mc_kmem_pages;	/* pages per allocation at most */
	vaddr_t			mc_span;	/* peeks: [MIX_HINT, +span) */
	uint64_t		mc_shared_touches;
	uint64_t		mc_own_touches;
	uint64_t		mc_swept;
};

/* The run's shared state. */
static struct mix_proc *mix_procs;
static struct pool mix_pool;

/* local prototypes */
static uint64_t ws_bytes(const struct stress_config *cfg);
static int nprocs(const struct stress_config *cfg);
static int shared_pages(const struct stress_config *cfg);
static int own_pages(const struct stress_config *cfg);
static int mix_parse(const char *spec, unsigned int weight[OP_N], char *buf,
    size_t len);
static int mix_draw(struct mix_ctx *c);
static uint64_t obj_word(const struct mix_region *mr, int i, int k);
static volatile uint64_t *reg_page(const struct mix_region *mr, int i);
static void obj_fill_user(void *arg);
static int shared_aobj_map(struct mix_ctx *c, struct mix_region *mr,
    int npages);
static int lg_index(const struct mix_ctx *c, int reg, int i);
static bool touch_own(struct mix_ctx *c, int reg, int i, const char *when);
static bool touch_shared(struct mix_ctx *c, int reg, int i, bool write,
    const char *when);
static bool mix_touch(struct mix_ctx *c);
static void mix_user(void *arg);
static void mix_sweep(void *arg);
static void mix_probe_read(void *arg);
static void mix_probe_write(void *arg);
static bool mix_lost(struct mix_ctx *c, const struct host_user_fault *uf);
static bool mix_user_call(struct mix_ctx *c, void (*fn)(void *));
static int region_map(struct stress_worker *w, struct mix_region *mr,
    int kind, int npages);
static bool own_map(struct mix_ctx *c, int reg);
static bool op_map(struct mix_ctx *c);
static bool op_munmap(struct mix_ctx *c);
static bool op_mprotect(struct mix_ctx *c);
static bool op_madvise(struct mix_ctx *c);
static bool op_msync(struct mix_ctx *c);
static bool own_check(struct mix_ctx *c, int k, const volatile uint64_t *p,
    vaddr_t va, uint32_t gen);
static void mix_peek_user(void *arg);
static bool op_peek(struct mix_ctx *c);
static bool op_mlock(struct mix_ctx *c);
static int own_pick(struct mix_ctx *c, bool churn);
static int shared_mapped(const struct mix_ctx *c);
static int sweep_end(const struct mix_ctx *c);
static uint32_t kasid(const struct mix_ctx *c);
static void kmem_user(void *arg);
static bool kmem_touch(struct mix_ctx *c, struct mix_kmem *mk, bool write,
    int only);
static bool wired_check(struct mix_ctx *c);
static bool wired_slots_check(struct mix_ctx *c);
static bool op_kmem(struct mix_ctx *c);
static bool kmem_check(struct mix_ctx *c, struct mix_kmem *mk);
static volatile uint64_t *kmem_page(const struct mix_kmem *mk, int i,
    vaddr_t *sigva);
static void kmem_free(struct mix_kmem *mk);
static bool op_pool(struct mix_ctx *c);
static bool mix_vm_error(struct mix_ctx *c, const char *call, int error);
static bool mix_setup(struct mix_ctx *c);
static void mix_teardown(struct mix_ctx *c);
static void mix_worker(struct stress_worker *w);
static uint64_t mix_pages_per_lwp(const struct stress_config *cfg);
static const char *mix_check(const struct stress_config *cfg, char *buf,
    size_t len);
static int mix_run(struct stress_run *r);

/* --ws, or 2 x --ram within what the processes can map. */
static uint64_t
ws_bytes(const struct stress_config *cfg)
{
	uint64_t ws = (uint64_t)cfg->sval[MO_WS];

	if (ws != 0)
		return ws;
	return MIN(2 * cfg->ram, (uint64_t)nprocs(cfg) * MIX_PROC_MAX);
}

static int
nprocs(const struct stress_config *cfg)
{
	return (cfg->lwps + cfg->threads - 1) / cfg->threads;
}

/* Pages of each shared region: half the working set, per process. */
static int
shared_pages(const struct stress_config *cfg)
{
	uint64_t n = ws_bytes(cfg) / 2 / PAGE_SIZE / (uint64_t)nprocs(cfg) /
	    MIX_NSHARED;

	return (int)MAX(1, n);
}

/* Pages of an own region at most: the other half, per LWP. */
static int
own_pages(const struct stress_config *cfg)
{
	uint64_t n = ws_bytes(cfg) / 2 / PAGE_SIZE / (uint64_t)cfg->lwps /
	    MIX_REGIONS;

	return (int)MAX(1, n);
}

/*
 * mix_parse: "touch=60,map=3" into weights (unnamed: 0).  => 0, or -1
 * with a one-line reason in buf.
 */
static int
mix_parse(const char *spec, unsigned int weight[OP_N], char *buf, size_t len)
{
	const char *p = spec, *eq, *end;
	unsigned int sum = 0;
	int k;

	memset(weight, 0, sizeof(unsigned int) * OP_N);
	while (*p != '\0') {
		char *num_end;
		unsigned long v;
		size_t nlen;

		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL) {
			snprintf(buf, len, "--mix '%s': '%.*s' is not OP=WEIGHT",
			    spec, (int)(end - p), p);
			return -1;
		}
		nlen = (size_t)(eq - p);
		for (k = 0; k < OP_N; k++)
			if (strlen(mix_opnames[k]) == nlen &&
			    strncmp(mix_opnames[k], p, nlen) == 0)
				break;
		if (k == OP_N) {
			snprintf(buf, len, "--mix '%s': unknown operation "
			    "'%.*s' (touch, peek, map, munmap, mprotect, "
			    "madvise, msync, mlock, kmem, pool)", spec,
			    (int)nlen, p);
			return -1;
		}
		v = eq + 1 < end && eq[1] >= '0' && eq[1] <= '9' ?
		    strtoul(eq + 1, &num_end, 10) : MIX_WEIGHT_MAX + 1ul;
		if (v > MIX_WEIGHT_MAX || (eq + 1 < end && num_end != end) ||
		    eq + 1 == end) {
			snprintf(buf, len, "--mix '%s': the weight of %s, "
			    "'%.*s', is not a count in 0..%d", spec,
			    mix_opnames[k], (int)(end - eq - 1), eq + 1,
			    MIX_WEIGHT_MAX);
			return -1;
		}
		weight[k] = (unsigned int)v;
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && *p == '\0') {
			snprintf(buf, len, "--mix '%s': ends with a comma",
			    spec);
			return -1;
		}
	}
	for (k = 0; k < OP_N; k++)
		sum += weight[k];
	if (sum == 0) {
		snprintf(buf, len, "--mix '%s': the weights sum to zero: give "
		    "some operation a weight above 0", spec);
		return -1;
	}
	return 0;
}

/* mix_draw: the next operation, by weight. */
static int
mix_draw(struct mix_ctx *c)
{
	uint64_t x = host_rng_below(&c->mc_w->w_rng, c->mc_wsum);
	int k;

	for (k = 0; k < OP_N - 1; k++) {
		if (x < c->mc_weight[k])
			return k;
		x -= c->mc_weight[k];
	}
	return OP_N - 1;
}

/*
 * obj_word: what word k < MIX_SLOT0 of page i of a shared region holds:
 * the object's fill of the private aobj region (every copy-on-write copy
 * of the page carries it), zero elsewhere.
 */
static uint64_t
obj_word(const struct mix_region *mr, int i, int k)
{
	return mr->mr_kind == RK_AOBJ ? MIX_OBJ_MAGIC << 32 |
	    (uint64_t)i << 3 | (uint64_t)k : 0;
}

static volatile uint64_t *
reg_page(const struct mix_region *mr, int i)
{
	return mr->mr_host + (size_t)i * PAGE_WORDS;
}

static int
lg_index(const struct mix_ctx *c, int reg, int i)
{
	return reg * c->mc_maxpages + i;
}

/*
 * own_check: own page k (at p, va) holds generation gen, or, if it was
 * MADV_FREEd since, zeroes (then its ledger says gen 0 from now on).
 * => user mode; false with mc_bad filled (against gen) on a mismatch
 */
static bool
own_check(struct mix_ctx *c, int k, const volatile uint64_t *p, vaddr_t va,
    uint32_t gen)
{
	struct integ_bad zero;

	if (integ_check(p, c->mc_w->w_asid, va, gen, &c->mc_bad))
		return true;
	if (!c->mc_maybe0[k] || !integ_check(p, c->mc_w->w_asid, va, 0, &zero))
		return false;
	STRESS_ST(&c->mc_lg.il_pages[k].ip_gen, 0);	/* freed: zero fill */
	return true;
}

/*
 * touch_own: check page i of own region reg and write its next
 * generation.  => user mode; false with mc_bad filled on a mismatch
 */
static bool
touch_own(struct mix_ctx *c, int reg, int i, const char *when)
{
	struct stress_worker *w = c->mc_w;
	struct mix_region *mr = &c->mc_reg[reg];
	int k = lg_index(c, reg, i);
	uint32_t gen = c->mc_lg.il_pages[k].ip_gen;
	volatile uint64_t *p = reg_page(mr, i);
	vaddr_t va = mr->mr_va + ptoa(i);

	if (gen == GEN_LOST)
		return true;	/* its data is gone: nothing to expect */
	c->mc_bad.ib_page = k;
	c->mc_bad.ib_when = when;
	if (!own_check(c, k, p, va, gen))
		return false;
	if (c->mc_maybe0[k]) {	/* settled by what it read */
		c->mc_maybe0[k] = 0;
		gen = c->mc_lg.il_pages[k].ip_gen;
	}
	integ_write(p, w->w_asid, va, gen + 1);
	integ_wrote(&c->mc_lg, k, gen + 1, STRESS_LD(&w->w_ops));
	c->mc_own_touches++;
	return true;
}

/*
 * touch_shared: check my word of page i of shared region reg (and the
 * words nobody writes), and with write count one more write in it.
 * => user mode; false with mc_bad filled on a mismatch
 */
static bool
touch_shared(struct mix_ctx *c, int reg, int i, bool write, const char *when)
{
	struct stress_worker *w = c->mc_w;
	const struct mix_region *mr = &c->mc_proc->mp_reg[reg];
	volatile uint64_t *p = reg_page(mr, i);
	uint64_t *mine = (uint64_t *)(uintptr_t)&p[MIX_SLOT0 + w->w_tid];
	uint32_t want = c->mc_slot[reg][i];
	uint64_t got;
	int k;

	if (__atomic_load_n(&c->mc_proc->mp_lost[reg][i], __ATOMIC_ACQUIRE))
		return true;	/* lost on a bad sector: nothing to expect */
	/* siblings write their own words of the page meanwhile: atomics */
	got = __atomic_load_n(mine, __ATOMIC_RELAXED);
	for (k = 0; k < MIX_SLOT0 && got == want; k++)
		if (__atomic_load_n((uint64_t *)(uintptr_t)&p[k],
		    __ATOMIC_RELAXED) != obj_word(mr, i, k))
			break;
	if (got != want || k < MIX_SLOT0 || __atomic_load_n((uint64_t *)
	    (uintptr_t)&p[PAGE_WORDS - 1], __ATOMIC_RELAXED) != 0) {
		c->mc_shared_bad = true;
		c->mc_badreg = reg;
		c->mc_badword = got;
		c->mc_bad.ib_page = i;
		c->mc_bad.ib_va = mr->mr_va + ptoa(i);
		c->mc_bad.ib_want = want;
		c->mc_bad.ib_when = when;
		for (k = 0; k < SIG_WORDS; k++)
			c->mc_bad.ib_words[k] = __atomic_load_n((uint64_t *)
			    (uintptr_t)&p[k], __ATOMIC_RELAXED);
		c->mc_bad.ib_tail = __atomic_load_n((uint64_t *)(uintptr_t)
		    &p[PAGE_WORDS - 1], __ATOMIC_RELAXED);
		return false;
	}
	if (write) {
		__atomic_store_n(mine, (uint64_t)want + 1, __ATOMIC_RELAXED);
		c->mc_slot[reg][i] = want + 1;
	}
	c->mc_shared_touches++;
	return true;
}

/* mix_touch: one touch of a random page, shared or own.  => user mode */
static bool
mix_touch(struct mix_ctx *c)
{
	struct host_rng *rng = &c->mc_w->w_rng;
	struct mix_proc *mp = c->mc_proc;
	int reg, tries, i;

	if (host_rng_below(rng, 2) == 0 &&
	    __atomic_load_n(&mp->mp_ready, __ATOMIC_ACQUIRE)) {
		reg = (int)host_rng_below(rng, MIX_NSHARED);
		if (reg != RK_AOBJ)
			i = (int)host_rng_below(rng,
			    (uint64_t)mp->mp_reg[reg].mr_npages);
		else	/* in step with the siblings: they fault it at once */
			i = (int)(__atomic_fetch_add(&mp->mp_cursor, 1,
			    __ATOMIC_RELAXED) / (uint64_t)mp->mp_nlwps %
			    (uint64_t)mp->mp_reg[reg].mr_npages);
		return touch_shared(c, reg, i, host_rng_below(rng, 4) != 0,
		    "touch");
	}
	/*
	 * Own regions: 49 touches in 50 on the first half of the slots,
	 * so the others go cold and the pagedaemon pages them out (and then
	 * an mlock or munmap of one meets pages in swap and in flight).
	 */
	for (tries = 0; tries < MIX_REGIONS; tries++) {
		reg = (int)host_rng_below(rng, MIX_REGIONS / 2);
		if (host_rng_below(rng, 50) == 0)
			reg += MIX_REGIONS / 2;
		if (c->mc_reg[reg].mr_va != 0)
			return touch_own(c, reg, (int)host_rng_below(rng,
			    (uint64_t)c->mc_reg[reg].mr_npages), "touch");
	}
	return true;	/* nothing of mine is mapped */
}

/* mix_user: a batch of ops; the first that is not a touch goes back. */
static void
mix_user(void *arg)
{
	struct mix_ctx *c = arg;
	struct stress_worker *w = c->mc_w;
	int n, op;

	for (n = 0; n < MIX_BATCH; n++) {
		if (!stress_continue(w)) {
			c->mc_stop = true;
			return;
		}
		op = mix_draw(c);
		c->mc_ops[op]++;
		if (op != OP_TOUCH) {
			c->mc_pending = op;	/* kernel mode does it */
			return;
		}
		if (!mix_touch(c)) {
			c->mc_failed = true;
			return;
		}
		stress_touched(w, (uint64_t)n);
		stress_op_done(w);
	}
}

/* Shared pages of each region of my process (0: none mapped). */
static int
shared_mapped(const struct mix_ctx *c)
{
	return __atomic_load_n(&c->mc_proc->mp_ready, __ATOMIC_ACQUIRE) ?
	    c->mc_proc->mp_reg[0].mr_npages : 0;
}

/* The final sweep's length: own slots, then my words of shared pages. */
static int
sweep_end(const struct mix_ctx *c)
{
	return MIX_REGIONS * c->mc_maxpages + MIX_NSHARED * shared_mapped(c);
}

/* mix_sweep: a batch of the final check of every page of mine. */
static void
mix_sweep(void *arg)
{
	struct mix_ctx *c = arg;
	int n, reg, i, total = MIX_REGIONS * c->mc_maxpages;
	int nsh = shared_mapped(c);

	for (n = 0; n < 256 && c->mc_next < sweep_end(c);
	    n++, c->mc_next++) {
		/* (each page may fault and wait for a CPU: mind the time) */
		if ((n & 15) == 15 && !stress_checks_continue(c->mc_w))
			return;
		if (c->mc_next < total) {
			reg = c->mc_next / c->mc_maxpages;
			i = c->mc_next % c->mc_maxpages;
			if (c->mc_reg[reg].mr_va == 0 ||
			    i >= c->mc_reg[reg].mr_npages ||
			    c->mc_lg.il_pages[lg_index(c, reg, i)].ip_gen ==
			    GEN_LOST)
				continue;
			c->mc_bad.ib_page = lg_index(c, reg, i);
			c->mc_bad.ib_when = "final sweep";
			if (!own_check(c, lg_index(c, reg, i),
			    reg_page(&c->mc_reg[reg], i),
			    c->mc_reg[reg].mr_va + ptoa(i),
			    c->mc_lg.il_pages[lg_index(c, reg, i)].ip_gen)) {
				c->mc_failed = true;
				return;
			}
		} else {
			reg = (c->mc_next - total) / nsh;
			i = (c->mc_next - total) % nsh;
			if (!touch_shared(c, reg, i, false, "final sweep")) {
				c->mc_failed = true;
				return;
			}
		}
		c->mc_swept++;
	}
}

/* The mprotect probes: a read must go through, a write must not. */
static void
mix_probe_read(void *arg)
{
	struct mix_ctx *c = arg;

	(void)__atomic_load_n((uint64_t *)(uintptr_t)c->mc_probe,
	    __ATOMIC_RELAXED);
}

static void
mix_probe_write(void *arg)
{
	struct mix_ctx *c = arg;
	uint64_t *p = (uint64_t *)(uintptr_t)c->mc_probe;

	/* (the page's own word 0: the same value, were it allowed) */
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED),
	    __ATOMIC_RELAXED);
}

/*
 * mix_lost: a fault refused with EIO under --lose-io: the page's data
 * was on a bad sector (the disk lost it; the VM, after its retries, can
 * only say so).  The page is marked lost where its expectation is kept:
 * this LWP's ledger for an own page, the process's lost map for a shared
 * one (for every sibling); a sibling's own page (a peek) is left to its
 * owner.  => true: handled (counted), false: not a loss to expect
 */
static bool
mix_lost(struct mix_ctx *c, const struct host_user_fault *uf)
{
	struct mix_proc *mp = c->mc_proc;
	vaddr_t va = uf->uf_va;
	int reg;

	if (uf->uf_error != EIO || c->mc_w->w_run->r_cfg->lose_io == 0)
		return false;
	c->mc_lost++;
	for (reg = 0; reg < MIX_REGIONS; reg++) {
		const struct mix_region *mr = &c->mc_reg[reg];

		if (mr->mr_va != 0 && va >= mr->mr_va &&
		    va < mr->mr_va + ptoa(mr->mr_npages)) {
			STRESS_ST(&c->mc_lg.il_pages[lg_index(c, reg,
			    (int)atop(va - mr->mr_va))].ip_gen, GEN_LOST);
			return true;
		}
	}
	if (!__atomic_load_n(&mp->mp_ready, __ATOMIC_ACQUIRE))
		return true;
	for (reg = 0; reg < MIX_NSHARED; reg++) {
		const struct mix_region *mr = &mp->mp_reg[reg];

		if (va >= mr->mr_va && va < mr->mr_va + ptoa(mr->mr_npages)) {
			__atomic_store_n(&mp->mp_lost[reg][atop(va -
			    mr->mr_va)], 1, __ATOMIC_RELEASE);
			return true;
		}
	}
	return true;
}

/*
 * mix_user_call: fn in user mode.  => false if the worker must stop (a
 * failure is recorded, or its process was killed)
 */
static bool
mix_user_call(struct mix_ctx *c, void (*fn)(void *))
{
	struct stress_worker *w = c->mc_w;
	struct host_user_fault uf;

	if (host_user_call(fn, c, &uf) != 0) {
		if (mix_lost(c, &uf))
			return true;	/* (the caller's loop goes on) */
		(void)stress_refused(w, &uf, &c->mc_lg);
		return false;
	}
	if (!c->mc_failed)
		return true;
	if (stress_killed(w))
		return false;	/* (killed: nothing to report) */
	if (!c->mc_shared_bad) {
		integ_report(w, &c->mc_lg, &c->mc_bad);
		return false;
	}
	stress_fail(FK_INTEGRITY, NULL, "asid %u va %#lx (%s, shared region "
	    "%d page %d, %s): LWP %d's word of the page reads %llu, it wrote "
	    "%u there (a write of this LWP was lost, or the page is another; "
	    "words 0-3 %#llx %#llx %#llx %#llx, last %#llx)", w->w_asid,
	    (unsigned long)c->mc_bad.ib_va, mix_kindnames[c->mc_badreg],
	    c->mc_badreg, c->mc_bad.ib_page, c->mc_bad.ib_when, w->w_tid,
	    (unsigned long long)c->mc_badword, c->mc_bad.ib_want,
	    (unsigned long long)c->mc_bad.ib_words[0],
	    (unsigned long long)c->mc_bad.ib_words[1],
	    (unsigned long long)c->mc_bad.ib_words[2],
	    (unsigned long long)c->mc_bad.ib_words[3],
	    (unsigned long long)c->mc_bad.ib_tail);
	return false;
}

/*
 * region_map: map npages of kind into w's map.  => 0 or the error
 * => kernel mode
 */
static int
region_map(struct stress_worker *w, struct mix_region *mr, int kind,
    int npages)
{
	vaddr_t va = MIX_HINT;
	struct uvm_object *uobj;
	int error;

	switch (kind) {
	case RK_ANON:
		error = uvm_mmap_anon(w->w_map, &va, ptoa(npages),
		    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_PRIVATE);
		break;
	case RK_SHANON:
		error = uvm_mmap_anon(w->w_map, &va, ptoa(npages),
		    VM_PROT_READ | VM_PROT_WRITE, UVM_MMAP_SHARED);
		break;
	default:
		/* a private (copy-on-write) mapping of a new object */
		uobj = uao_create(ptoa(npages), 0);
		error = uvm_map(w->w_map, &va, ptoa(npages), uobj, 0, 0,
		    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
		    UVM_INH_COPY, UVM_ADV_NORMAL, UVM_FLAG_COPYONW));
		if (error != 0)
			uao_detach(uobj);
		break;
	}
	if (error != 0)
		return error;
	mr->mr_va = va;
	mr->mr_host = pmap_hostaddr(w->w_pmap, va);
	mr->mr_npages = npages;
	mr->mr_kind = kind;
	mr->mr_wired = false;
	return 0;
}

/*
 * mix_vm_error: a VM call failed.  Resource shortages (ENOMEM, EAGAIN)
 * are the VM's answer to a loaded machine: counted.  Anything else is
 * a failure.  => true: go on
 */
static bool
mix_vm_error(struct mix_ctx *c, const char *call, int error)
{
	if (error == ENOMEM || error == EAGAIN)
		return true;
	/* a wiring fault met a page lost on a bad sector (--lose-io) */
	if (error == EIO && c->mc_w->w_run->r_cfg->lose_io != 0) {
		c->mc_lost++;
		return true;
	}
	if (stress_killed(c->mc_w))
		return false;	/* killed: leave */
	stress_fail(FK_VM, NULL, "asid %u (LWP %d): %s: error %d (%s)",
	    c->mc_w->w_asid, c->mc_w->w_tid, call, error, strerror(error));
	return false;
}

/* own_map: map own region slot reg, of a random kind and size. */
static bool
own_map(struct mix_ctx *c, int reg)
{
	struct stress_worker *w = c->mc_w;
	int kind = (int)host_rng_below(&w->w_rng, RK_N), i, error;
	int npages = 1 + (int)host_rng_below(&w->w_rng,
	    (uint64_t)c->mc_maxpages);

	error = region_map(w, &c->mc_reg[reg], kind, npages);
	if (error != 0) {
		c->mc_refused[OP_MAP]++;
		return mix_vm_error(c, "uvm_map of an own region", error);
	}
	for (i = 0; i < npages; i++) {
		integ_set_va(&c->mc_lg, lg_index(c, reg, i),
		    c->mc_reg[reg].mr_va + ptoa(i));
		c->mc_maybe0[lg_index(c, reg, i)] = 0;
	}
	return true;
}

/* op_map: map a free slot (if there is one). */
static bool
op_map(struct mix_ctx *c)
{
	int reg;

	for (reg = 0; reg < MIX_REGIONS; reg++)
		if (c->mc_reg[reg].mr_va == 0)
			return own_map(c, reg);
	return true;
}

/*
 * own_pick: an own region to work on, or -1.  To unmap (churn), one of
 * the hot half of the slots, a cold one once in 20 times: so the cold
 * regions live long enough for the pagedaemon to page them out.
 */
static int
own_pick(struct mix_ctx *c, bool churn)
{
	struct host_rng *rng = &c->mc_w->w_rng;
	int reg, tries;

	for (tries = 0; tries < MIX_REGIONS; tries++) {
		if (!churn)
			reg = (int)host_rng_below(rng, MIX_REGIONS);
		else
			reg = (int)host_rng_below(rng, MIX_REGIONS / 2) +
			    (host_rng_below(rng, 20) == 0 ? MIX_REGIONS / 2 :
			    0);
		if (c->mc_reg[reg].mr_va != 0)
			return reg;
	}
	return -1;
}

/* op_munmap: unmap an own region, whole or its tail. */
static bool
op_munmap(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	struct mix_region *mr;
	int reg = own_pick(c, true), keep, i, error;

	if (reg < 0)
		return true;
	mr = &c->mc_reg[reg];
	if (reg == c->mc_wiredreg) {	/* checked and unwired first */
		if (!wired_check(c))
			return false;
		if ((error = uvm_munlock(w->w_map, mr->mr_va,
		    ptoa(mr->mr_npages))) != 0)
			return mix_vm_error(c, "uvm_munlock", error);
		mr->mr_wired = false;
		c->mc_wiredreg = -1;
	}
	keep = host_rng_below(&w->w_rng, 2) == 0 ? 0 :
	    (int)host_rng_below(&w->w_rng, (uint64_t)mr->mr_npages);
	error = uvm_munmap(w->w_map, mr->mr_va + ptoa(keep),
	    ptoa(mr->mr_npages - keep));
	if (error != 0)
		return mix_vm_error(c, "uvm_munmap", error);
	for (i = keep; i < mr->mr_npages; i++)
		integ_set_va(&c->mc_lg, lg_index(c, reg, i), 0);
	mr->mr_npages = keep;
	if (keep == 0)
		mr->mr_va = 0;
	return true;
}

/*
 * op_mprotect: make an own region read-only; a read of a page must go
 * through, a write must be refused with EACCES at that very address;
 * then writable again.
 */
static bool
op_mprotect(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	struct host_user_fault uf;
	struct mix_region *mr;
	int reg = own_pick(c, false), i, error, rc;
	vaddr_t va;

	if (reg < 0)
		return true;
	mr = &c->mc_reg[reg];
	i = (int)host_rng_below(&w->w_rng, (uint64_t)mr->mr_npages);
	va = mr->mr_va + ptoa(i);
	error = uvm_mprotect(w->w_map, mr->mr_va, ptoa(mr->mr_npages),
	    VM_PROT_READ);
	if (error != 0)
		return mix_vm_error(c, "uvm_mprotect read-only", error);
	c->mc_probe = reg_page(mr, i);
	if ((rc = host_user_call(mix_probe_read, c, &uf)) != 0) {
		if (!mix_lost(c, &uf)) {
			(void)stress_refused(w, &uf, &c->mc_lg);
			return false;
		}
		rc = 0;	/* lost: the write probe still gets EACCES */
	}
	rc = host_user_call(mix_probe_write, c, &uf);
	STRESS_INC(&w->w_segv);
	if (rc == 0 || uf.uf_error != EACCES || uf.uf_addr != va ||
	    uf.uf_access != VM_PROT_WRITE) {
		if (rc != 0 && mix_lost(c, &uf)) {
			/* (the probe's load met the lost page first) */
			error = uvm_mprotect(w->w_map, mr->mr_va,
			    ptoa(mr->mr_npages), VM_PROT_READ | VM_PROT_WRITE);
			return error == 0 ? true : mix_vm_error(c,
			    "uvm_mprotect read-write", error);
		}
		if (rc != 0 && (uf.uf_error == ENOMEM || uf.uf_error == EIO)) {
			(void)stress_refused(w, &uf, &c->mc_lg);
			return false;
		}
		if (stress_killed(w))
			return false;
		stress_fail(rc == 0 ? FK_NOSEGV : FK_WRONGSEGV, NULL, "asid %u "
		    "va %#lx: a write to a page made read-only by uvm_mprotect "
		    "%s (expected SIGSEGV, EACCES, at that va)", w->w_asid,
		    (unsigned long)va, rc == 0 ? "went through" :
		    "faulted otherwise");
		return false;
	}
	error = uvm_mprotect(w->w_map, mr->mr_va, ptoa(mr->mr_npages),
	    VM_PROT_READ | VM_PROT_WRITE);
	if (error != 0)
		return mix_vm_error(c, "uvm_mprotect read-write", error);
	return true;
}

/* The peek: one load, nothing checked (the page may be anybody's). */
static void
mix_peek_user(void *arg)
{
	struct mix_ctx *c = arg;

	(void)__atomic_load_n((uint64_t *)(uintptr_t)c->mc_probe,
	    __ATOMIC_RELAXED);
}

/*
 * op_peek: read a random address where the process maps its regions:
 * a page a sibling faults, pages out, unmaps, protects or wires
 * meanwhile.  Its content is not checked (it may be anybody's, or just
 * unmapped); the fault must either resolve or find no mapping (EFAULT).
 */
static bool
op_peek(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	struct host_user_fault uf;
	vaddr_t va = MIX_HINT + ptoa(host_rng_below(&w->w_rng,
	    atop(c->mc_span)));

	c->mc_probe = pmap_hostaddr(w->w_pmap, va);
	if (host_user_call(mix_peek_user, c, &uf) == 0)
		return true;
	if (uf.uf_error == EFAULT && uf.uf_va == va) {
		STRESS_INC(&w->w_segv);
		c->mc_peek_holes++;
		return true;
	}
	if (mix_lost(c, &uf))
		return true;
	(void)stress_refused(w, &uf, NULL);	/* ENOMEM: killed; EIO */
	return false;
}

/* op_madvise: advice (and inheritance) of an own region or a shared one. */
static bool
op_madvise(struct mix_ctx *c)
{
	static const int advice[] = { UVM_ADV_NORMAL, UVM_ADV_RANDOM,
	    UVM_ADV_SEQUENTIAL };
	struct stress_worker *w = c->mc_w;
	struct mix_proc *mp = c->mc_proc;
	const struct mix_region *mr;
	int reg, a = advice[host_rng_below(&w->w_rng, 3)], error;

	if (host_rng_below(&w->w_rng, 2) == 0 &&
	    __atomic_load_n(&mp->mp_ready, __ATOMIC_ACQUIRE))
		mr = &mp->mp_reg[host_rng_below(&w->w_rng, MIX_NSHARED)];
	else if ((reg = own_pick(c, false)) >= 0)
		mr = &c->mc_reg[reg];
	else
		return true;
	error = uvm_map_advice(w->w_map, mr->mr_va, mr->mr_va +
	    ptoa(mr->mr_npages), a);
	if (error != 0)
		return mix_vm_error(c, "uvm_map_advice", error);
	/*
	 * minherit too, one time in four (what fork will do with the range:
	 * for now it only clips and merges entries under the siblings)
	 */
	if (host_rng_below(&w->w_rng, 4) == 0) {
		error = uvm_map_inherit(w->w_map, mr->mr_va, mr->mr_va +
		    ptoa(mr->mr_npages), (vm_inherit_t)host_rng_below(
		    &w->w_rng, 3));
		if (error != 0)
			return mix_vm_error(c, "uvm_map_inherit", error);
	}
	return true;
}

/*
 * op_msync: msync(MS_ASYNC or MS_INVALIDATE) or madvise(DONTNEED) a range
 * of a shared or an own region (uvm_map_clean deactivates: the data
 * stays), or madvise(MADV_FREE) a range of an own region: its pages are
 * freed, and each then reads zero, or its old data where the VM skipped
 * it (a page only in swap, busy or wired): the next check accepts both.
 * (Not MADV_FREE of a shared region: the siblings' words are in it.)
 */
static bool
op_msync(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	struct mix_proc *mp = c->mc_proc;
	const struct mix_region *mr;
	int reg = -1, how, n, first, error, i;
	vaddr_t va;

	how = (int)host_rng_below(&w->w_rng, 4);
	if (host_rng_below(&w->w_rng, 2) == 0 &&
	    __atomic_load_n(&mp->mp_ready, __ATOMIC_ACQUIRE)) {
		mr = &mp->mp_reg[host_rng_below(&w->w_rng, MIX_NSHARED)];
		if (how == 3)
			how = 2;
	} else if ((reg = own_pick(c, false)) >= 0)
		mr = &c->mc_reg[reg];
	else
		return true;
	n = 1 + (int)host_rng_below(&w->w_rng, (uint64_t)MIN(mr->mr_npages,
	    64));
	first = (int)host_rng_below(&w->w_rng, (uint64_t)(mr->mr_npages - n +
	    1));
	va = mr->mr_va + ptoa(first);
	switch (how) {
	case 0:
		error = uvm_msync(w->w_map, va, ptoa(n), UVM_MS_ASYNC);
		break;
	case 1:
		error = uvm_msync(w->w_map, va, ptoa(n), UVM_MS_INVALIDATE);
		break;
	case 2:
		error = uvm_madvise(w->w_map, va, ptoa(n), UVM_MADV_DONTNEED);
		break;
	default:
		/* the pages may read zero from now on */
		for (i = first; i < first + n; i++)
			c->mc_maybe0[lg_index(c, reg, i)] = 1;
		error = uvm_madvise(w->w_map, va, ptoa(n), UVM_MADV_FREE);
		break;
	}
	if (error != 0)
		return mix_vm_error(c, how < 2 ? "uvm_msync" : "uvm_madvise",
		    error);
	return true;
}

/*
 * op_mlock: unwire my wired region, or wire an own region (recording
 * its frames: it must stay resident and unmoved until unwired), or wire
 * and unwire a range of a shared region (siblings may unwire it: no
 * residency check there).
 */
static bool
op_mlock(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	struct mix_proc *mp = c->mc_proc;
	struct mix_region *mr;
	int reg, i, error, n, first;

	if (c->mc_wiredreg >= 0) {
		mr = &c->mc_reg[c->mc_wiredreg];
		if (!wired_check(c))
			return false;
		error = uvm_munlock(w->w_map, mr->mr_va, ptoa(mr->mr_npages));
		if (error != 0)
			return mix_vm_error(c, "uvm_munlock", error);
		mr->mr_wired = false;
		c->mc_wiredreg = -1;
		return true;
	}
	if (host_rng_below(&w->w_rng, 2) == 0 &&
	    __atomic_load_n(&mp->mp_ready, __ATOMIC_ACQUIRE)) {
		mr = &mp->mp_reg[host_rng_below(&w->w_rng, MIX_NSHARED)];
		n = 1 + (int)host_rng_below(&w->w_rng,
		    (uint64_t)MIN(mr->mr_npages, 16));
		first = (int)host_rng_below(&w->w_rng,
		    (uint64_t)(mr->mr_npages - n + 1));
		error = uvm_mlock(w->w_map, mr->mr_va + ptoa(first), ptoa(n));
		if (error != 0) {
			c->mc_refused[OP_MLOCK]++;
			return mix_vm_error(c, "uvm_mlock (shared)", error);
		}
		error = uvm_munlock(w->w_map, mr->mr_va + ptoa(first),
		    ptoa(n));
		if (error != 0)
			return mix_vm_error(c, "uvm_munlock (shared)", error);
		return true;
	}
	if ((reg = own_pick(c, false)) < 0)
		return true;
	mr = &c->mc_reg[reg];
	error = uvm_mlock(w->w_map, mr->mr_va, ptoa(mr->mr_npages));
	if (error != 0) {
		/* the BSDs: mlock(2) fails with ENOMEM/EAGAIN, nobody dies */
		c->mc_refused[OP_MLOCK]++;
		return mix_vm_error(c, "uvm_mlock", error);
	}
	for (i = 0; i < mr->mr_npages; i++) {
		paddr_t pa;

		if (!pmap_extract(w->w_pmap, mr->mr_va + ptoa(i), &pa)) {
			if (stress_killed(w))
				return false;
			stress_fail(FK_VM, NULL, "asid %u va %#lx: wired by "
			    "uvm_mlock but not mapped", w->w_asid,
			    (unsigned long)(mr->mr_va + ptoa(i)));
			return false;
		}
		c->mc_wpa[i] = trunc_page(pa);
	}
	mr->mr_wired = true;
	c->mc_wiredreg = reg;
	return wired_slots_check(c);
}

/* wired_slots_check: no page of my wired region holds a swap slot. */
static bool
wired_slots_check(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	const struct mix_region *mr = &c->mc_reg[c->mc_wiredreg];
	struct audit_result ar = { 0, 0, "" };

	audit_wired_range(&ar, w->w_map, mr->mr_va, mr->mr_va +
	    ptoa(mr->mr_npages));
	if (ar.nviolations == 0 || stress_killed(w))
		return true;
	stress_fail(FK_INVARIANT, NULL, "asid %u (%s region wired by "
	    "uvm_mlock): %s", w->w_asid, mix_kindnames[mr->mr_kind], ar.first);
	return false;
}

/* wired_check: my wired region sits in the frames it was wired in. */
static bool
wired_check(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	const struct mix_region *mr = &c->mc_reg[c->mc_wiredreg];
	paddr_t pa;
	int i;

	for (i = 0; i < mr->mr_npages; i++) {
		vaddr_t va = mr->mr_va + ptoa(i);

		if (pmap_extract(w->w_pmap, va, &pa) &&
		    trunc_page(pa) == c->mc_wpa[i])
			continue;
		if (stress_killed(w))
			return false;	/* killed */
		stress_fail(FK_INVARIANT, NULL, "asid %u va %#lx: a page "
		    "wired by uvm_mlock (%s region) %s (it was wired at pa "
		    "%#llx)", w->w_asid, (unsigned long)va,
		    mix_kindnames[mr->mr_kind], pmap_extract(w->w_pmap, va,
		    &pa) ? "moved" : "is no longer mapped",
		    (unsigned long long)c->mc_wpa[i]);
		return false;
	}
	return true;
}

/* The words of kernel page i of mk: a signature as user pages carry. */
static uint32_t
kasid(const struct mix_ctx *c)
{
	return KASID_BIT | (uint32_t)c->mc_w->w_index;
}

/*
 * kmem_check: every page of mk still holds its signature.  Pageable
 * memory (valloc) may be in swap: the check faults it back.  A refused
 * fault there is a panic in a BSD kernel; here the trap delivers it to
 * the innermost host_user_call, so the check runs as one.
 */
struct kmem_probe {
	struct mix_ctx		*kp_c;
	struct mix_kmem		*kp_mk;
	int			kp_bad;		/* page, or -1 */
	bool			kp_write;
	int			kp_only;	/* that page only, or -1: all */
};

/*
 * kmem_page: where page i of mk is, and the address its signature names:
 * its kernel va, or for physical pages (KM_PGLIST, no va) the direct map
 * and the frame's address.
 */
static volatile uint64_t *
kmem_page(const struct mix_kmem *mk, int i, vaddr_t *sigva)
{
	struct vm_page *pg;

	if (mk->mk_how != KM_PGLIST) {
		*sigva = mk->mk_va + ptoa(i);
		return (volatile uint64_t *)*sigva;
	}
	pg = TAILQ_FIRST(&mk->mk_pl);
	while (i-- > 0)
		pg = TAILQ_NEXT(pg, pageq);
	*sigva = (vaddr_t)VM_PAGE_TO_PHYS(pg);
	return host_arena_direct(VM_PAGE_TO_PHYS(pg));
}

/* kmem_free: give mk back the way it was had. */
static void
kmem_free(struct mix_kmem *mk)
{
	switch (mk->mk_how) {
	case KM_KMEMALLOC:
	case KM_KMEMVA:
		uvm_km_free(kmem_map, mk->mk_va, ptoa(mk->mk_npages), 0);
		break;
	case KM_VALLOC_WAIT:
		uvm_km_free_wakeup(kernel_map, mk->mk_va, ptoa(mk->mk_npages));
		break;
	case KM_PGLIST:
		uvm_pglistfree(&mk->mk_pl);
		break;
	default:
		uvm_km_free(kernel_map, mk->mk_va, ptoa(mk->mk_npages), 0);
		break;
	}
	mk->mk_va = 0;
}

static void
kmem_user(void *arg)
{
	struct kmem_probe *kp = arg;
	struct mix_kmem *mk = kp->kp_mk;
	struct integ_bad bad;
	int i;

	for (i = 0; i < mk->mk_npages; i++) {
		volatile uint64_t *p;
		vaddr_t sigva;

		if (kp->kp_only >= 0 && i != kp->kp_only)
			continue;
		p = kmem_page(mk, i, &sigva);
		if (kp->kp_write) {
			integ_write(p, kasid(kp->kp_c), sigva, mk->mk_gen);
		} else if (!integ_check(p, kasid(kp->kp_c), sigva, mk->mk_gen,
		    &bad)) {
			kp->kp_bad = i;
			return;
		}
	}
}

static bool
kmem_touch(struct mix_ctx *c, struct mix_kmem *mk, bool write, int only)
{
	struct kmem_probe kp = { c, mk, -1, write, only };
	struct host_user_fault uf;

	if (host_user_call(kmem_user, &kp, &uf) != 0) {
		if (uf.uf_error == ENOMEM || (uf.uf_error == EIO &&
		    mk->mk_gen != 0 && c->mc_w->w_run->r_cfg->lose_io != 0)) {
			/*
			 * Out of swap and memory (a kernel would wait or
			 * panic), or its data lost on a bad sector: the
			 * allocation is given up, counted.  (Fresh memory,
			 * gen 0, has no data to lose: EIO there is a stale
			 * slot the VM left at that address.)
			 */
			c->mc_refused[OP_KMEM]++;
			if (uf.uf_error == EIO)
				c->mc_lost++;
			mk->mk_gen = KMEM_LOST;
			return true;
		}
		stress_fail(FK_VM, NULL, "kernel va %#lx (%s of %d pages, "
		    "LWP %d): a fault on kernel memory was refused with "
		    "error %d (%s)", (unsigned long)uf.uf_addr,
		    kmem_names[mk->mk_how], mk->mk_npages,
		    c->mc_w->w_index, uf.uf_error, strerror(uf.uf_error));
		return false;
	}
	if (kp.kp_bad >= 0 && mk->mk_gen != KMEM_LOST) {
		stress_fail(FK_INTEGRITY, NULL, "kernel va %#lx (page %d of a "
		    "%s of %d pages, LWP %d): it does not hold the signature "
		    "written there (gen %u)", (unsigned long)(mk->mk_va +
		    ptoa(kp.kp_bad)), kp.kp_bad, kmem_names[mk->mk_how],
		    mk->mk_npages, c->mc_w->w_index,
		    mk->mk_gen);
		return false;
	}
	return true;
}

static bool
kmem_check(struct mix_ctx *c, struct mix_kmem *mk)
{
	if (mk->mk_gen == KMEM_LOST)
		return true;	/* its content was never all written */
	return kmem_touch(c, mk, false, -1);
}

/*
 * op_kmem: check a page of one of my kernel allocations (one time in 16
 * all of it, and free it), or make one: pageable (uvm_km_valloc: demand
 * zero from the kernel object, which the pagedaemon pages out), wired
 * (uvm_km_alloc1 and uvm_km_alloc, zeroed), pageable waiting for va
 * (uvm_km_valloc_wait, freed by uvm_km_free_wakeup), wired NOWAIT from
 * kmem_map (uvm_km_kmemalloc: may fail, counted), or physical pages in
 * the low half of RAM (uvm_pglistalloc, WAITOK: a pma request).
 */
static bool
op_kmem(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	struct mix_kmem *mk = &c->mc_km[host_rng_below(&w->w_rng, MIX_KMEM)];
	vsize_t size;

	if (mk->mk_va != 0) {
		/*
		 * Long-lived and seldom touched, so the pagedaemon pages
		 * kernel memory out meanwhile: one page checked a visit,
		 * all of them before the free, one visit in 16.
		 */
		if (host_rng_below(&w->w_rng, 16) != 0)
			return mk->mk_gen == KMEM_LOST ? true : kmem_touch(c,
			    mk, false, (int)host_rng_below(&w->w_rng,
			    (uint64_t)mk->mk_npages));
		if (!kmem_check(c, mk))
			return false;
		kmem_free(mk);
		return true;
	}
	mk->mk_npages = 1 + (int)host_rng_below(&w->w_rng, (uint64_t)
	    c->mc_kmem_pages);
	mk->mk_how = (int)host_rng_below(&w->w_rng, KM_N);
	size = ptoa(mk->mk_npages);
	switch (mk->mk_how) {
	case KM_VALLOC:
		mk->mk_va = uvm_km_valloc(kernel_map, size);
		break;
	case KM_ALLOC1:
		mk->mk_va = uvm_km_alloc1(kernel_map, size, true);
		break;
	case KM_KMEMALLOC:
		mk->mk_va = uvm_km_kmemalloc(kmem_map, kmem_object, size,
		    UVM_KMF_NOWAIT);
		break;
	case KM_VALLOC_WAIT:
		mk->mk_va = uvm_km_valloc_wait(kernel_map, size);
		break;
	case KM_ALLOC:
		mk->mk_va = uvm_km_alloc(kernel_map, size, 0, UVM_KMF_WIRED |
		    UVM_KMF_ZERO);
		break;
	case KM_KMEMVA:
		/* kmem_map va alone: its faults get pages from uvm_km_get */
		mk->mk_va = uvm_km_kmemalloc(kmem_map, kmem_object, size,
		    UVM_KMF_VALLOC);
		break;
	default:
		/*
		 * Physical pages in the low half of RAM (a DMA-like
		 * constraint): the pagedaemon serves a pma request when
		 * the range is short.  No va: the marker is 1.
		 */
		mk->mk_npages = MIN(mk->mk_npages, 4);
		size = ptoa(mk->mk_npages);
		mk->mk_va = uvm_pglistalloc(size, 0, atop(ptoa((paddr_t)
		    uvmexp.npages) / 2), 0, 0, &mk->mk_pl, mk->mk_npages,
		    UVM_PLA_WAITOK | UVM_PLA_ZERO) == 0 ? 1 : 0;
		break;
	}
	if (mk->mk_va == 0) {
		c->mc_refused[OP_KMEM]++;	/* out of VA or memory */
		return true;
	}
	/* fresh memory reads zero (all but kmemalloc's) */
	mk->mk_gen = 0;
	if (mk->mk_how != KM_KMEMALLOC && !kmem_check(c, mk))
		return false;
	if (mk->mk_gen == KMEM_LOST)
		return true;
	mk->mk_gen = (uint32_t)host_rng_below(&w->w_rng, 1u << 30) + 1;
	return kmem_touch(c, mk, true, -1);
}

/* op_pool: put one of my items back (checked), or get one (NOWAIT). */
static bool
op_pool(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	int k = (int)host_rng_below(&w->w_rng, MIX_POOLITEMS);
	uint64_t *item = c->mc_item[k], tag = (uint64_t)w->w_index << 32 |
	    (uint64_t)k;
	size_t i;

	if (item != NULL) {
		for (i = 0; i < MIX_POOLSIZE / sizeof(uint64_t); i++)
			if (item[i] != (tag ^ i)) {
				stress_fail(FK_INTEGRITY, NULL, "pool item %p "
				    "(LWP %d, slot %d): word %zu is %#llx, "
				    "%#llx was written", (void *)item,
				    w->w_index, k, i,
				    (unsigned long long)item[i],
				    (unsigned long long)(tag ^ i));
				return false;
			}
		pool_put(&mix_pool, item);
		c->mc_item[k] = NULL;
		return true;
	}
	if ((item = pool_get(&mix_pool, PR_NOWAIT)) == NULL) {
		c->mc_refused[OP_POOL]++;
		return true;
	}
	for (i = 0; i < MIX_POOLSIZE / sizeof(uint64_t); i++)
		item[i] = tag ^ i;
	c->mc_item[k] = item;
	return true;
}

/* obj_fill_user: write the object's fill through its shared mapping. */
static void
obj_fill_user(void *arg)
{
	struct mix_ctx *c = arg;
	const struct mix_region *mr = &c->mc_proc->mp_reg[RK_AOBJ];
	int i, k;

	for (i = 0; i < mr->mr_npages; i++)
		for (k = 0; k < MIX_SLOT0; k++)
			reg_page(mr, i)[k] = obj_word(mr, i, k);
}

/*
 * shared_aobj_map: the process's private aobj region: a new aobj, filled
 * through a shared mapping that is then unmapped, mapped copy-on-write.
 * So every first write of a page of it promotes a page of the object
 * (which the pagedaemon may have paged out: the unlocked pgo_get that
 * sibling writes and reads race).  => 0 or an error (EFAULT: the fill
 * was refused and reported)
 */
static int
shared_aobj_map(struct mix_ctx *c, struct mix_region *mr, int npages)
{
	struct stress_worker *w = c->mc_w;
	struct uvm_object *uobj = uao_create(ptoa(npages), 0);
	vaddr_t va = MIX_HINT;
	int error;

	uao_reference(uobj);	/* for the second mapping */
	error = uvm_map(w->w_map, &va, ptoa(npages), uobj, 0, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    UVM_INH_SHARE, UVM_ADV_NORMAL, 0));
	if (error != 0) {
		uao_detach(uobj);
		uao_detach(uobj);
		return error;
	}
	mr->mr_va = va;
	mr->mr_host = pmap_hostaddr(w->w_pmap, va);
	mr->mr_npages = npages;
	mr->mr_kind = RK_AOBJ;
	if (!mix_user_call(c, obj_fill_user)) {
		uao_detach(uobj);
		return EFAULT;
	}
	uvm_unmap(w->w_map, va, va + ptoa(npages));
	va = MIX_HINT;
	error = uvm_map(w->w_map, &va, ptoa(npages), uobj, 0, 0,
	    UVM_MAPFLAG(VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL,
	    UVM_INH_COPY, UVM_ADV_NORMAL, UVM_FLAG_COPYONW));
	if (error != 0) {
		uao_detach(uobj);
		return error;
	}
	mr->mr_va = va;
	mr->mr_host = pmap_hostaddr(w->w_pmap, va);
	return 0;
}

/* mix_setup: the ledger; LWP 0 maps the shared regions; half my own. */
static bool
mix_setup(struct mix_ctx *c)
{
	struct stress_worker *w = c->mc_w;
	const struct stress_config *cfg = w->w_run->r_cfg;
	struct mix_proc *mp = c->mc_proc;
	int reg, error, nsh = shared_pages(cfg);

	if (integ_ledger_init(&c->mc_lg, w->w_asid, w->w_pmap,
	    MIX_REGIONS * c->mc_maxpages) != 0 ||
	    (c->mc_maybe0 = calloc((size_t)(MIX_REGIONS * c->mc_maxpages),
	    1)) == NULL ||
	    (c->mc_wpa = calloc((size_t)c->mc_maxpages, sizeof(paddr_t))) ==
	    NULL) {
		stress_fail(FK_VM, NULL, "asid %u: no memory for the ledger",
		    w->w_asid);
		return false;
	}
	for (reg = 0; reg < MIX_NSHARED; reg++)
		if ((c->mc_slot[reg] = calloc((size_t)nsh, sizeof(uint32_t))) ==
		    NULL) {
			stress_fail(FK_VM, NULL, "asid %u: no memory for the "
			    "ledger", w->w_asid);
			return false;
		}
	if (w->w_tid == 0) {
		for (reg = 0; reg < MIX_NSHARED; reg++)
			if ((mp->mp_lost[reg] = calloc((size_t)nsh, 1)) ==
			    NULL) {
				stress_fail(FK_VM, NULL, "asid %u: no memory "
				    "for the lost map", w->w_asid);
				return false;
			}
		for (reg = 0; reg < MIX_NSHARED; reg++) {
			error = reg == RK_AOBJ ? shared_aobj_map(c,
			    &mp->mp_reg[reg], nsh) : region_map(w,
			    &mp->mp_reg[reg], reg, nsh);
			if (error == EFAULT)
				return false;	/* (reported) */
			if (error != 0) {
				stress_fail(FK_VM, NULL, "asid %u: mapping the "
				    "%s shared region of %d pages: error %d "
				    "(%s)", w->w_asid, mix_kindnames[reg], nsh,
				    error, strerror(error));
				return false;
			}
		}
		mp->mp_nlwps = w->w_sp->sp_nlwps;
		__atomic_store_n(&mp->mp_ready, 1, __ATOMIC_RELEASE);
	}
	for (reg = 0; reg < MIX_REGIONS / 2; reg++)
		if (!own_map(c, reg))
			return false;
	return true;
}

/* mix_teardown: unwire, free kernel memory and pool items (checked). */
static void
mix_teardown(struct mix_ctx *c)
{
	int k;

	for (k = 0; k < MIX_KMEM; k++)
		if (c->mc_km[k].mk_va != 0) {
			/* (a killed process only exits: nothing faulted in) */
			if (stress_nfailures() == 0 && !stress_killed(c->mc_w) &&
			    stress_checks_continue(c->mc_w))
				(void)kmem_check(c, &c->mc_km[k]);
			kmem_free(&c->mc_km[k]);
		}
	for (k = 0; k < MIX_POOLITEMS; k++)
		if (c->mc_item[k] != NULL) {
			pool_put(&mix_pool, c->mc_item[k]);
			c->mc_item[k] = NULL;
		}
}

/* The operations done in kernel mode (touch is done in user mode). */
static bool (*const mix_opfn[OP_N])(struct mix_ctx *) = {
	[OP_PEEK] = op_peek, [OP_MAP] = op_map, [OP_MUNMAP] = op_munmap,
	[OP_MPROTECT] = op_mprotect, [OP_MADVISE] = op_madvise,
	[OP_MSYNC] = op_msync, [OP_MLOCK] = op_mlock, [OP_KMEM] = op_kmem,
	[OP_POOL] = op_pool,
};

/* The LWP worker. */
static void
mix_worker(struct stress_worker *w)
{
	struct mix_ctx *c = w->w_ctx;
	bool ok;

	c->mc_w = w;
	c->mc_proc = &mix_procs[w->w_sp->sp_index];
	c->mc_wiredreg = -1;
	c->mc_pending = -1;
	ok = mix_setup(c);
	if (ok)
		w->w_ledger = &c->mc_lg;
	if (!ok)
		stress_timed_end(w);
	stress_barrier(w);

	while (ok && stress_running(w)) {
		ok = mix_user_call(c, mix_user);
		if (ok && c->mc_pending >= 0) {
			ok = mix_opfn[c->mc_pending](c);
			c->mc_pending = -1;
			stress_op_done(w);
		}
		if (ok && c->mc_wiredreg >= 0 &&
		    host_rng_below(&w->w_rng, 16) == 0)
			ok = wired_check(c);
		if (c->mc_stop)
			break;
		lwp_userret();
	}
	stress_timed_end(w);

	/* The final sweep (cut at the run's time), then kernel memory. */
	for (c->mc_next = 0; ok && !stress_killed(w) &&
	    stress_checks_continue(w) && c->mc_next < sweep_end(c);) {
		ok = mix_user_call(c, mix_sweep);
		host_progress();
		lwp_userret();
	}
	if (ok && !stress_killed(w) && c->mc_wiredreg >= 0)
		(void)wired_check(c);
	/* (kernel memory is not the process's: a killed one's too) */
	mix_teardown(c);
	/*
	 * No munmap: the address space goes as a process's does at exit,
	 * when the harness frees it after the quiescent audit.
	 */
}

static uint64_t
mix_pages_per_lwp(const struct stress_config *cfg)
{
	/* the shared regions are counted against the process's LWPs */
	return (uint64_t)MIX_REGIONS * (uint64_t)own_pages(cfg) +
	    ((uint64_t)MIX_NSHARED * (uint64_t)shared_pages(cfg) *
	    (uint64_t)nprocs(cfg) + (uint64_t)cfg->lwps - 1) /
	    (uint64_t)cfg->lwps + MIX_KMEM * MIX_KMEM_PAGES;
}

static const char *
mix_check(const struct stress_config *cfg, char *buf, size_t len)
{
	unsigned int weight[OP_N];
	uint64_t ws = ws_bytes(cfg), per;

	if (mix_parse(options_sstr(cfg, MO_MIX), weight, buf, len) != 0)
		return buf;
	if (ws / PAGE_SIZE < (uint64_t)(2 * MIX_REGIONS) *
	    (uint64_t)cfg->lwps + 2 * MIX_NSHARED * (uint64_t)nprocs(cfg)) {
		snprintf(buf, len, "--ws %llu bytes: too small for %d LWPs "
		    "(each needs %d pages at least)", (unsigned long long)ws,
		    cfg->lwps, 2 * MIX_REGIONS + 2 * MIX_NSHARED);
		return buf;
	}
	per = ws / (uint64_t)nprocs(cfg);
	if (per > MIX_PROC_MAX) {
		snprintf(buf, len, "--ws %llu MiB over %d processes is %llu "
		    "MiB each, more than a process's %llu MiB of user space "
		    "can map: raise --lwps or lower --ws or --threads",
		    (unsigned long long)(ws >> 20), nprocs(cfg),
		    (unsigned long long)(per >> 20),
		    (unsigned long long)(MIX_PROC_MAX >> 20));
		return buf;
	}
	return NULL;
}

/* The scenario entry. */
static int
mix_run(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	struct mix_ctx *ctxs;
	uint64_t ops[OP_N] = { 0 }, refused[OP_N] = { 0 }, sh = 0, own = 0,
	    swept = 0, holes = 0, lost = 0;
	char buf[160];
	unsigned int weight[OP_N], wsum = 0;
	int i, k, error;

	if (mix_parse(options_sstr(cfg, MO_MIX), weight, buf,
	    sizeof(buf)) != 0) {
		fprintf(stderr, "uvmstress: %s\n", buf);
		return EXIT_USAGE;
	}
	for (k = 0; k < OP_N; k++)
		wsum += weight[k];
	ctxs = calloc((size_t)cfg->lwps, sizeof(*ctxs));
	mix_procs = calloc((size_t)nprocs(cfg), sizeof(*mix_procs));
	if (ctxs == NULL || mix_procs == NULL) {
		free(ctxs);
		free(mix_procs);
		return EXIT_NO_RESOURCE;
	}
	for (i = 0; i < cfg->lwps; i++) {
		memcpy(ctxs[i].mc_weight, weight, sizeof(weight));
		ctxs[i].mc_wsum = wsum;
		ctxs[i].mc_maxpages = own_pages(cfg);
		/* kernel memory: a 16th of RAM at most in all (a third wired) */
		ctxs[i].mc_kmem_pages = (int)MAX(1, MIN(MIX_KMEM_PAGES,
		    cfg->ram / PAGE_SIZE / 16 / (uint64_t)cfg->lwps / MIX_KMEM));
		/* where a process's regions go: its share of --ws and more */
		ctxs[i].mc_span = round_page(MIN(MIX_PROC_MAX, ws_bytes(cfg) /
		    (uint64_t)nprocs(cfg) * 5 / 4));
	}
	pool_init(&mix_pool, MIX_POOLSIZE, 0, 0, 0, "mixpl",
	    &uvm_km_pool_allocator, IPL_NONE);

	error = stress_run_workers(r, mix_worker, ctxs, sizeof(*ctxs));

	for (i = 0; i < cfg->lwps; i++) {
		for (k = 0; k < OP_N; k++) {
			ops[k] += ctxs[i].mc_ops[k];
			refused[k] += ctxs[i].mc_refused[k];
		}
		sh += ctxs[i].mc_shared_touches;
		own += ctxs[i].mc_own_touches;
		swept += ctxs[i].mc_swept;
		holes += ctxs[i].mc_peek_holes;
		lost += ctxs[i].mc_lost;
	}
	stress_metric_u64(r, "processes", (uint64_t)nprocs(cfg));
	stress_metric_u64(r, "threads", (uint64_t)cfg->threads);
	stress_metric_u64(r, "ws_pages", ws_bytes(cfg) / PAGE_SIZE);
	for (k = 0; k < OP_N; k++)
		stress_metric_u64(r, mix_metric_names[k], ops[k]);
	stress_metric_u64(r, "shared_touches", sh);
	stress_metric_u64(r, "own_touches", own);
	stress_metric_u64(r, "peek_holes", holes);
	stress_metric_u64(r, "pages_lost", lost);
	stress_metric_u64(r, "refused_map", refused[OP_MAP]);
	stress_metric_u64(r, "refused_mlock", refused[OP_MLOCK]);
	stress_metric_u64(r, "refused_kmem", refused[OP_KMEM]);
	stress_metric_u64(r, "refused_pool", refused[OP_POOL]);
	stress_metric_u64(r, "final_sweep_pages", swept);
	/* the workers are joined: nobody reads the ledgers any more */
	for (i = 0; i < cfg->lwps; i++) {
		integ_ledger_fini(&ctxs[i].mc_lg);
		free(ctxs[i].mc_maybe0);
		free(ctxs[i].mc_wpa);
		for (k = 0; k < MIX_NSHARED; k++)
			free(ctxs[i].mc_slot[k]);
	}
	for (i = 0; i < nprocs(cfg); i++)
		for (k = 0; k < MIX_NSHARED; k++)
			free(mix_procs[i].mp_lost[k]);
	pool_destroy(&mix_pool);
	free(ctxs);
	free(mix_procs);
	mix_procs = NULL;
	return error;
}

/* The descriptor. */
const struct scenario scenario_mix = {
	.sc_name = "mix",
	.sc_summary = "the whole VM: processes of several LWPs doing seeded "
	    "weighted operations beyond RAM, errors injected",
	.sc_help = mix_help,
	.sc_opts = mix_opts,
	.sc_nopts = (int)nitems(mix_opts),
	.sc_pages_per_lwp = mix_pages_per_lwp,
	.sc_reclaim = true,
	/* four LWPs a map: siblings' faults on one page meet often */
	.sc_lwps = 8,
	.sc_threads = 4,
	.sc_fail_io = 5,
	.sc_fail_alloc = 5,
	.sc_lose_io = 2,
	.sc_bufcache_div = 16,	/* a buffer cache the pagedaemon backs off */
	.sc_expects_loss = true,
	.sc_check = mix_check,
	.sc_skip = NULL,
	.sc_run = mix_run,
};
