/*
 * tests/smoke_machine.c: a multi-threaded smoke run of the machine alone.
 *
 * Boots the machine and runs simulated LWPs that exercise every kernel
 * service at once, with real faults and real concurrency:
 *  - each LWP owns a process and pmap and touches a private region; a
 *    small fault handler (standing in for uvm_fault) hands out frames;
 *    every page carries a signature (lid, va, generation) that is checked
 *    on every pass;
 *  - every pmap also maps one shared region (the same frames at the same
 *    va in every address space); LWPs increment counters there with
 *    atomic adds through their own aliases, and the sums are checked;
 *  - a pagedaemon-like kthread clears referenced/modified bits, write-
 *    protects shared frames (pmap_page_protect) and collects pmaps, so
 *    the pv-first trylock paths race the faults;
 *  - LWP pairs play condvar ping-pong; a krwlock guards a table whose
 *    invariant readers check; a pool_cache hands out constructed objects;
 *    LWPs tsleep on a channel the daemon wakes.
 * Under the tsan build it must finish with zero ThreadSanitizer reports.
 * It ends with "smoke: N passed, N failed" and exits 0 (pass), 1 (usage),
 * 2 (a check failed) or 3 (the host lacks a resource).
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/arena.h"
#include "host/clock.h"
#include "host/condvar.h"
#include "host/cpu.h"
#include "host/hook.h"
#include "host/lwp.h"
#include "host/machine.h"
#include "host/pmap.h"
#include "host/pool.h"
#include "host/rwlock.h"
#include "host/sleepq.h"
#include "host/trap.h"
#include "host/witness.h"

#define SHARED_VA	((vaddr_t)0x40000000)
#define SHARED_PAGES	8
#define PRIV_VA		((vaddr_t)0x10000000)
#define TABLE_N		32
#define OBJ_MAGIC	0x5a5a5a5a5a5a5a5aull

struct worker {
	int		w_id;
	struct proc	*w_proc;
	struct lwp	*w_lwp;
	pmap_t		w_pmap;
	int		w_npages;	/* private region */
	uint32_t	*w_gen;		/* expected generation per page */
	struct host_rng	w_rng;
	uint64_t	w_ops;
	uint64_t	w_shared_adds;
	uint64_t	w_bad;		/* integrity failures */
	uint64_t	w_segv;
	struct pair	*w_pair;
	int		w_side;
};

struct pair {
	kmutex_t	p_lock;
	kcondvar_t	p_cv;
	int		p_turn;		/* [p_lock] */
	uint64_t	p_count;	/* [p_lock] */
	bool		p_quit;		/* [p_lock] */
};

static struct {
	uint64_t	seconds;
	int		nlwps;
	atomic_bool	stop;
	atomic_uint	nextframe;
	unsigned	nframes;
	paddr_t		shared_pa[SHARED_PAGES];
	struct worker	*workers;
	krwlock_t	table_lock;
	uint64_t	table[TABLE_N];	/* [table_lock] all equal */
	atomic_ulong	table_bad;
	pool_cache_t	objs;
	atomic_ulong	obj_ctor;
	atomic_ulong	obj_bad;
	int		chan;		/* a wait channel */
	atomic_ulong	daemon_loops;
	atomic_ulong	faults;
	int		npassed, nfailed;
} sm;

static void
check(bool ok, const char *what, unsigned long long a, unsigned long long b)
{
	if (ok) {
		sm.npassed++;
		printf("  ok   %s\n", what);
	} else {
		sm.nfailed++;
		printf("  FAIL %s (%llu vs %llu)\n", what, a, b);
	}
}

static paddr_t
frame_alloc(void)
{
	unsigned n = atomic_fetch_add(&sm.nextframe, 1);

	if (n >= sm.nframes)
		panic("smoke: out of frames (%u)", sm.nframes);
	pmap_zero_page(ptoa(n));
	return ptoa(n);
}

/*
 * The fault handler: a write-protected or evicted page that is still
 * mapped is re-entered with its full protection; a new private page gets
 * a fresh frame.  Touches outside the regions are refused.
 */
static int
smoke_fault(pmap_t pm, vaddr_t va, vm_prot_t access, bool valid __unused)
{
	paddr_t pa;

	atomic_fetch_add_explicit(&sm.faults, 1, memory_order_relaxed);
	if (pmap_extract(pm, va, &pa))
		return pmap_enter(pm, va, trunc_page(pa), VM_PROT_READ |
		    VM_PROT_WRITE, access | PMAP_CANFAIL);
	if (va >= PRIV_VA && va < PRIV_VA + (16ull << 20))
		return pmap_enter(pm, va, frame_alloc(), VM_PROT_READ |
		    VM_PROT_WRITE, access | PMAP_CANFAIL);
	return EFAULT;
}

static int
obj_ctor(void *arg, void *obj, int flags)
{
	*(uint64_t *)obj = OBJ_MAGIC;
	atomic_fetch_add(&sm.obj_ctor, 1);
	return 0;
}

static uint64_t
signature(const struct worker *w, vaddr_t va, uint32_t gen)
{
	return ((uint64_t)w->w_id << 48) ^ ((uint64_t)va << 8) ^ gen;
}

/* One pass over the private region: verify and rewrite signatures. */
static void
touch_private(void *arg)
{
	struct worker *w = arg;
	int i, n = 1 + (int)host_rng_below(&w->w_rng, (uint64_t)w->w_npages);

	for (; n > 0; n--) {
		vaddr_t va;
		volatile uint64_t *p;

		i = (int)host_rng_below(&w->w_rng, (uint64_t)w->w_npages);
		va = PRIV_VA + ptoa(i);
		p = pmap_hostaddr(w->w_pmap, va);
		if (w->w_gen[i] != 0 && *p != signature(w, va, w->w_gen[i])) {
			w->w_bad++;
			printf("  integrity: lwp %d va %#lx gen %u: found %#llx\n",
			    w->w_id, (unsigned long)va, w->w_gen[i],
			    (unsigned long long)*p);
		}
		w->w_gen[i]++;
		*p = signature(w, va, w->w_gen[i]);
	}
}

static void
touch_shared(void *arg)
{
	struct worker *w = arg;
	int i = (int)host_rng_below(&w->w_rng, SHARED_PAGES);
	uint64_t *p = pmap_hostaddr(w->w_pmap, SHARED_VA + ptoa(i));

	/* the word of this worker in that page, through our own alias */
	__atomic_fetch_add(&p[w->w_id % 512], 1, __ATOMIC_RELAXED);
	w->w_shared_adds++;
}

static void
touch_hole(void *arg)
{
	struct worker *w = arg;

	*(volatile uint64_t *)pmap_hostaddr(w->w_pmap, 0x7000000) = 1;
}

static void
pingpong(struct worker *w)
{
	struct pair *p = w->w_pair;

	if (p == NULL)
		return;
	mutex_enter(&p->p_lock);
	while (p->p_turn != w->w_side && !p->p_quit)
		(void)cv_timedwait(&p->p_cv, &p->p_lock, hz / 10 + 1);
	if (!p->p_quit) {
		p->p_count++;
		p->p_turn = !w->w_side;
		cv_broadcast(&p->p_cv);
	}
	mutex_exit(&p->p_lock);
}

static void
table_op(struct worker *w)
{
	int i;

	if (host_rng_below(&w->w_rng, 8) == 0) {
		rw_enter(&sm.table_lock, RW_WRITER);
		for (i = 0; i < TABLE_N; i++)
			sm.table[i]++;
		if (host_rng_below(&w->w_rng, 2) == 0) {
			rw_downgrade(&sm.table_lock);
			goto verify;
		}
		rw_exit(&sm.table_lock);
		return;
	}
	rw_enter(&sm.table_lock, RW_READER);
verify:
	for (i = 1; i < TABLE_N; i++)
		if (sm.table[i] != sm.table[0])
			atomic_fetch_add(&sm.table_bad, 1);
	rw_exit(&sm.table_lock);
}

static void
obj_op(void)
{
	uint64_t *o = pool_cache_get(sm.objs, PR_WAITOK);

	if (o[0] != OBJ_MAGIC)
		atomic_fetch_add(&sm.obj_bad, 1);
	o[1] = (uint64_t)(uintptr_t)curlwp;
	pool_cache_put(sm.objs, o);
}

static void
worker_main(void *arg)
{
	struct worker *w = arg;
	struct host_user_fault uf;

	while (!atomic_load_explicit(&sm.stop, memory_order_relaxed)) {
		(void)host_user_call(touch_private, w, NULL);
		(void)host_user_call(touch_shared, w, NULL);
		if (host_rng_below(&w->w_rng, 64) == 0) {
			if (host_user_call(touch_hole, w, &uf) == EFAULT &&
			    uf.uf_va == 0x7000000 && uf.uf_access == VM_PROT_WRITE)
				w->w_segv++;
			else
				w->w_bad++;
		}
		pingpong(w);
		table_op(w);
		obj_op();
		if (host_rng_below(&w->w_rng, 16) == 0)
			(void)tsleep(&sm.chan, PVM, "smoke", 1);
		w->w_ops++;
		host_progress();
		preempt();
	}
	if (w->w_pair != NULL) {
		mutex_enter(&w->w_pair->p_lock);
		w->w_pair->p_quit = true;
		cv_broadcast(&w->w_pair->p_cv);
		mutex_exit(&w->w_pair->p_lock);
	}
}

/* The daemon: reference and modify bits, write protection, collection. */
static void
daemon_main(void *arg)
{
	struct host_rng rng;
	unsigned n;

	host_rng_init(&rng, host_rng_seed(), 0xdae);
	while (!atomic_load_explicit(&sm.stop, memory_order_relaxed)) {
		n = atomic_load(&sm.nextframe);
		if (n > 0) {
			struct vm_page *pg = PHYS_TO_VM_PAGE(ptoa(
			    host_rng_below(&rng, n)));

			(void)pmap_clear_reference(pg);
			if (host_rng_below(&rng, 4) == 0)
				(void)pmap_clear_modify(pg);
		}
		pmap_page_protect(PHYS_TO_VM_PAGE(sm.shared_pa[
		    host_rng_below(&rng, SHARED_PAGES)]), VM_PROT_READ);
		if (host_rng_below(&rng, 256) == 0)
			pmap_collect(sm.workers[host_rng_below(&rng,
			    (uint64_t)sm.nlwps)].w_pmap);
		wakeup(&sm.chan);
		atomic_fetch_add(&sm.daemon_loops, 1);
		(void)tsleep(&rng, PVM, "daemon", 1);
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: smoke_machine [options]\n"
"  --ram SIZE       RAM of the machine (default 64M)\n"
"  --ncpu N         simulated CPUs (default 2)\n"
"  --lwps N         worker LWPs (default 8)\n"
"  -t, --timeout D  run time: 10, 10s, 2m (default 3s)\n"
"  --seed N         run seed (default: drawn, always printed)\n"
"  --chaos PERMILLE seeded yields at hook points (default 0)\n"
"  --watchdog S     hang watchdog seconds (default 20, 0 off)\n"
"  -h, --help       this text\n");
}

static int
bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "smoke_machine: %s: '%s' (try --help)\n", msg, arg);
	return EXIT_USAGE;
}

static int
parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max)
		return EINVAL;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ram", required_argument, NULL, 'r' },
		{ "ncpu", required_argument, NULL, 'c' },
		{ "lwps", required_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "chaos", required_argument, NULL, 'x' },
		{ "watchdog", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct machine_config mc;
	struct pair *pairs;
	struct lwp *daemon;
	uint64_t sum, want, ops = 0, segv = 0, bad = 0, pairsum = 0;
	struct host_mmu_stats ms;
	struct host_trap_stats ts;
	long v;
	int c, i, j, status, perlwp;

	machine_config_default(&mc);
	mc.mc_watchdog_s = 20;
	sm.seconds = 3;
	sm.nlwps = 8;
	opterr = 0;	/* one line of our own for bad options */
	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (parse_size(optarg, &mc.mc_ram) != 0)
				return bad_usage("--ram needs a size like 64M", optarg);
			break;
		case 'c':
			if (parse_int(optarg, 1, MAXCPUS, &v) != 0)
				return bad_usage("--ncpu needs 1..64", optarg);
			mc.mc_ncpu = (int)v;
			break;
		case 'l':
			if (parse_int(optarg, 1, 256, &v) != 0)
				return bad_usage("--lwps needs 1..256", optarg);
			sm.nlwps = (int)v;
			break;
		case 't':
			if (parse_duration(optarg, &sm.seconds) != 0 ||
			    sm.seconds == 0 || sm.seconds > 86400)
				return bad_usage("--timeout needs 1s..24h", optarg);
			break;
		case 's':
			if (parse_size(optarg, &mc.mc_seed) != 0)
				return bad_usage("--seed needs a number", optarg);
			break;
		case 'x':
			if (parse_int(optarg, 0, 1000, &v) != 0)
				return bad_usage("--chaos needs 0..1000", optarg);
			mc.mc_chaos_permille = (unsigned)v;
			mc.mc_chaos_delay_us = 50;
			break;
		case 'w':
			if (parse_int(optarg, 0, 3600, &v) != 0)
				return bad_usage("--watchdog needs 0..3600", optarg);
			mc.mc_watchdog_s = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return bad_usage("unknown option or missing value",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument", argv[optind]);

	if ((status = host_boot(&mc)) != 0) {
		fprintf(stderr, "smoke_machine: %s\n", host_boot_error());
		return status;
	}
	printf("smoke_machine: seed %llu, ram %llu MiB, %d CPUs, %d LWPs, %llu s\n",
	    (unsigned long long)host_config()->mc_seed,
	    (unsigned long long)(mc.mc_ram >> 20), mc.mc_ncpu, sm.nlwps,
	    (unsigned long long)sm.seconds);
	fflush(stdout);

	sm.nframes = (unsigned)vm_npages;
	perlwp = (int)MIN(256, (vm_npages - SHARED_PAGES) / (unsigned)(sm.nlwps + 1));
	if (perlwp < 4) {
		fprintf(stderr, "smoke_machine: --ram %llu MiB is too small for "
		    "%d LWPs\n", (unsigned long long)(mc.mc_ram >> 20), sm.nlwps);
		host_shutdown();
		return EXIT_USAGE;
	}
	host_set_fault_hook(smoke_fault);
	rw_init_class(&sm.table_lock, "smoke_table");
	sm.objs = pool_cache_init(128, 0, 0, 0, "smokeobj", NULL, IPL_NONE,
	    obj_ctor, NULL, NULL);
	for (i = 0; i < SHARED_PAGES; i++)
		sm.shared_pa[i] = frame_alloc();
	sm.workers = calloc((size_t)sm.nlwps, sizeof(*sm.workers));
	pairs = calloc((size_t)sm.nlwps / 2 + 1, sizeof(*pairs));
	if (sm.workers == NULL || pairs == NULL)
		return EXIT_NO_RESOURCE;
	for (i = 0; i < sm.nlwps / 2; i++) {
		mutex_init_class(&pairs[i].p_lock, MUTEX_DEFAULT, IPL_NONE,
		    "smoke_pair");
		cv_init(&pairs[i].p_cv, "pingpong");
	}
	for (i = 0; i < sm.nlwps; i++) {
		struct worker *w = &sm.workers[i];

		w->w_id = i;
		w->w_npages = perlwp;
		w->w_gen = calloc((size_t)perlwp, sizeof(uint32_t));
		host_rng_init(&w->w_rng, host_rng_seed(), (uint64_t)i);
		if (i / 2 < sm.nlwps / 2) {
			w->w_pair = &pairs[i / 2];
			w->w_side = i % 2;
		}
		if (proc_create("smoke", &w->w_proc) != 0)
			return EXIT_NO_RESOURCE;
		w->w_pmap = pmap_create();
		for (j = 0; j < SHARED_PAGES; j++)
			(void)pmap_enter(w->w_pmap, SHARED_VA + ptoa(j),
			    sm.shared_pa[j], VM_PROT_READ | VM_PROT_WRITE, 0);
	}
	if (kthread_create(daemon_main, NULL, &daemon, "smokedaemon") != 0)
		return EXIT_NO_RESOURCE;
	for (i = 0; i < sm.nlwps; i++)
		if (lwp_create(sm.workers[i].w_proc, "smokeworker", 0,
		    worker_main, &sm.workers[i], &sm.workers[i].w_lwp) != 0)
			return EXIT_NO_RESOURCE;

	{
		uint64_t end = host_real_ns() + sm.seconds * 1000000000ull;
		struct timespec tick = { 0, 100 * 1000 * 1000 };

		while (host_real_ns() < end)
			nanosleep(&tick, NULL);
	}
	atomic_store(&sm.stop, true);
	for (i = 0; i < sm.nlwps; i++)
		lwp_join(sm.workers[i].w_lwp);
	lwp_join(daemon);

	/* Results. */
	for (i = 0; i < sm.nlwps; i++) {
		ops += sm.workers[i].w_ops;
		segv += sm.workers[i].w_segv;
		bad += sm.workers[i].w_bad;
	}
	for (i = 0; i < sm.nlwps / 2; i++)
		pairsum += pairs[i].p_count;
	check(bad == 0, "private pages keep their signatures", bad, 0);
	for (j = 0, sum = 0, want = 0; j < SHARED_PAGES; j++) {
		uint64_t *p = host_arena_direct(sm.shared_pa[j]);

		for (i = 0; i < sm.nlwps; i++)
			sum += p[i % 512];
	}
	for (i = 0; i < sm.nlwps; i++)
		want += sm.workers[i].w_shared_adds;
	check(sum == want, "shared pages: every atomic add through every alias "
	    "is counted", sum, want);
	check(ops > 0 && segv > 0, "workers ran and refused faults became "
	    "simulated SIGSEGVs", ops, segv);
	check(atomic_load(&sm.table_bad) == 0, "rwlock table invariant held",
	    atomic_load(&sm.table_bad), 0);
	check(atomic_load(&sm.obj_bad) == 0, "pool_cache objects constructed",
	    atomic_load(&sm.obj_bad), 0);
	check(sm.nlwps < 2 || pairsum > 0, "condvar ping-pong progressed",
	    pairsum, 0);
	check(atomic_load(&sm.daemon_loops) > 0, "the daemon ran",
	    atomic_load(&sm.daemon_loops), 0);
	check(witness_inversions() == 0, "no lock-order inversions",
	    witness_inversions(), 0);
	host_mmu_get_stats(&ms);
	host_trap_get_stats(&ts);
	check(ms.peak <= ms.budget + 1, "host mappings stayed within budget",
	    (unsigned long long)ms.peak, (unsigned long long)ms.budget);
	printf("smoke_machine: %llu ops, %llu traps (%llu pmap fixups, %llu VM "
	    "faults, %llu SIGSEGV), peak %ld host mappings of %ld, %llu "
	    "frames, witness %s\n", (unsigned long long)ops,
	    (unsigned long long)ts.ntraps, (unsigned long long)ts.nfixups,
	    (unsigned long long)ts.nfaults, (unsigned long long)ts.nsegv,
	    ms.peak, ms.budget, (unsigned long long)atomic_load(&sm.nextframe),
	    witness_enabled() ? "on" : "off");

	for (i = 0; i < sm.nlwps; i++) {
		pmap_destroy(sm.workers[i].w_pmap);
		proc_free(sm.workers[i].w_proc);
		free(sm.workers[i].w_gen);
	}
	pool_cache_destroy(sm.objs);
	host_shutdown();
	printf("smoke: %d passed, %d failed\n", sm.npassed, sm.nfailed);
	if (sm.nfailed != 0)
		printf("smoke_machine: replay with: smoke_machine --seed %llu "
		    "--ram %lluM --ncpu %d --lwps %d -t %llu\n",
		    (unsigned long long)mc.mc_seed ? (unsigned long long)mc.mc_seed
		    : (unsigned long long)host_rng_seed(),
		    (unsigned long long)(mc.mc_ram >> 20), mc.mc_ncpu, sm.nlwps,
		    (unsigned long long)sm.seconds);
	return sm.nfailed == 0 ? EXIT_PASS : EXIT_FAILURE_FOUND;
}
