/*
 * stress/report.c: what a run says at the end: a summary like vmstat -s
 * (the uvmexp counters with their BSD names and meanings, twice: at the
 * end of the timed phase, r_vst, and after the workers ended, r_vs1),
 * fault rates by kind, fault latency percentiles, MMU and trap counters,
 * where the time goes (the states of timing.h, which partition each timed
 * thread's time); the versioned JSON report; the failures with the replay
 * line.
 *
 * Counters are read each under its own protector (uvmexp.h's legend):
 * [q] fields under uvm.pageqlock, [f] under uvm.fpageqlock, [a] with
 * relaxed atomic loads, [I] plainly.  [s] (swap) fields are read with
 * relaxed loads until the swap layer exists to name its lock.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "host/clock.h"
#include "host/cpu.h"
#include "host/failpoint.h"
#include "host/machine.h"
#include "host/pmap.h"
#include "host/topology.h"
#include "host/trap.h"
#include "host/watchdog.h"
#include "host/witness.h"
#include "runner.h"
#include "vm/kern_proc.h"
#include "sanitizer.h"
#include "sched.h"
#include "timing.h"
#include "vm/uvm.h"
#include "vm/uvm_bufcache.h"
#include "vm/uvm_fault.h"
#include "vm/uvm_swap.h"

struct ux_field {
	const char	*ux_name;	/* the BSD name */
	size_t		ux_off;
	char		ux_lock;	/* 'I', 'a', 'q', 'f', 's' */
	const char	*ux_meaning;	/* vmstat -s's words */
};

#define UX(f, l, m)	{ #f, offsetof(struct uvmexp, f), l, m }
static const struct ux_field ux_fields[] = {
	UX(pagesize, 'I', "bytes per page"),
	UX(npages, 'I', "pages managed"),
	UX(free, 'f', "pages free"),
	UX(active, 'q', "pages active"),
	UX(inactive, 'q', "pages inactive"),
	UX(paging, 'a', "pages being paged out"),
	UX(wired, 'q', "pages wired down"),
	UX(kernel, 'a', "pages held by the kernel"),
	UX(zeropages, 'f', "zeroed pages"),
	UX(reserve_pagedaemon, 'I', "pages reserved for pagedaemon"),
	UX(reserve_kernel, 'I', "pages reserved for kernel"),
	UX(anonpages, 'a', "anonymous pages"),
	UX(vnodepages, 'I', "vnode pages"),
	UX(vtextpages, 'I', "vtext pages"),
	UX(freemin, 'q', "minimum free pages"),
	UX(freetarg, 'q', "target free pages"),
	UX(inactarg, 'q', "target inactive pages"),
	UX(wiredmax, 'q', "maximum wired pages"),
	UX(nswapdev, 's', "swap devices"),
	UX(swpages, 's', "swap pages"),
	UX(swpginuse, 's', "swap pages in use"),
	UX(swpgonly, 'a', "swap pages in use but not in memory"),
	UX(nswget, 'a', "swap pages get"),
	UX(faults, 'a', "page faults"),
	UX(traps, 'a', "traps"),
	UX(intrs, 'a', "interrupts"),
	UX(swtch, 'a', "cpu context switches"),
	UX(softs, 'a', "software interrupts"),
	UX(syscalls, 'a', "syscalls"),
	UX(pageins, 'a', "pagein operations"),
	UX(pgswapin, 'a', "pages swapped in"),
	UX(pgswapout, 'a', "dirty pages taken for pageout (not all written)"),
	UX(forks, 'a', "forks total"),
	UX(forks_ppwait, 'a', "forks blocked parent"),
	UX(forks_sharevm, 'a', "forks shared address space with parent"),
	UX(pga_zerohit, 'a', "pagealloc where zero wanted and zero was available"),
	UX(pga_zeromiss, 'a', "pagealloc where zero wanted and zero not available"),
	UX(zeroaborts, 'a', "aborts of idle page zeroing"),
	UX(fltnoram, 'a', "faults with no memory"),
	UX(fltnoanon, 'a', "faults with no anons"),
	UX(fltnoamap, 'a', "faults with no amaps"),
	UX(fltpgwait, 'a', "times fault had to wait on a page"),
	UX(fltpgrele, 'a', "times fault found a released page"),
	UX(fltrelck, 'a', "times fault relock called"),
	UX(fltrelckok, 'a', "times fault relock is a success"),
	UX(fltanget, 'a', "times fault performs anon get"),
	UX(fltanretry, 'a', "times fault retries anon get"),
	UX(fltamcopy, 'a', "times fault performs amap copy"),
	UX(fltnamap, 'a', "times fault maps a neighbor anon page"),
	UX(fltnomap, 'a', "times fault maps a neighbor obj page"),
	UX(fltwalk, 'a', "times fault looks ahead along a walk"),
	UX(fltlget, 'a', "times fault does a locked pgo_get"),
	UX(fltget, 'a', "times fault does an unlocked get"),
	UX(flt_anon, 'a', "anon faults"),
	UX(flt_acow, 'a', "anon copy on write faults"),
	UX(flt_obj, 'a', "object faults"),
	UX(flt_prcopy, 'a', "object faults with promote copy"),
	UX(flt_przero, 'a', "object faults with promote zero fill"),
	UX(fltup, 'a', "object lock upgrades"),
	UX(fltnoup, 'a', "object lock upgrades that failed"),
	UX(pdwoke, 'a', "times daemon woke up"),
	UX(pdrevs, 'a', "revolutions of the clock hand"),
	UX(pdswout, 'a', "times daemon attempted swapout"),
	UX(pdfreed, 'a', "pages freed by daemon"),
	UX(pdscans, 'a', "pages scanned by daemon"),
	UX(pdanscan, 'a', "anonymous pages scanned by daemon"),
	UX(pdobscan, 'a', "object pages scanned by daemon"),
	UX(pdreact, 'a', "pages reactivated by daemon"),
	UX(pdbusy, 'a', "busy pages found by daemon"),
	UX(pdpageouts, 'a', "total pending pageouts"),
	UX(pdpending, 'a', "pending pageouts"),
	UX(pddeact, 'a', "pages deactivated by daemon"),
	UX(swapins, 'a', "LWPs swapped in"),
	UX(swapouts, 'a', "LWPs swapped out"),
};
#undef UX

/* The fault kinds whose rates the report gives. */
static const char *const rate_fields[] = {
	"flt_anon", "flt_acow", "flt_obj", "flt_przero", "flt_prcopy",
	"fltamcopy", "fltanget", "fltnoram", "fltpgwait", "fltrelck",
};

/* The pagedaemon's counters (and the swap and target ones it reads). */
static const char *const pd_fields[] = {
	"pdwoke", "pdrevs", "pdswout", "pdfreed", "pdscans", "pdanscan",
	"pdobscan", "pdreact", "pdbusy", "pdpageouts", "pdpending", "pddeact",
	"paging", "pgswapout", "pgswapin", "nswget", "swpginuse", "swpgonly",
	"swpages", "freemin", "freetarg", "inactarg",
};

/*
 * A thread role's time over the timing window: threads x window, split by
 * state (the states do not overlap); other_s is what no state accounts
 * for (a worker that ended or was killed, a daemon first seen later).
 */
struct tclass {
	int	threads;
	double	total_s;
	double	s[TS_NSTATES];
	double	accounted_s;	/* the sum of s[] */
	double	other_s;	/* total_s - accounted_s, at least 0 */
	double	fault_s;	/* the TS_FAULT_* states */
	double	busy_s;		/* accounted, not asleep (TS_SLEEP) */
};

/* Where the time went in the timed phase (from the timing snapshots). */
struct breakdown {
	double	window_s, lwp_s;	/* the timing window; x LWPs */
	struct tclass cls[TR_NROLES];
	double	all_total_s, all_accounted_s;	/* every role */
	double	fault_s, mem_s, page_s, io_s, wlock_s, fault_cpu_s;
	double	read_s;		/* polled swap reads (inside fault_s) */
	double	fault_preempt_s;	/* preempted in faults */
	double	preempt_s, user_s;	/* outside faults */
	double	sleep_s, olock_s;	/* asleep, lock waits outside faults */
	double	other_s;	/* LWPs not running (ended, killed) */
	uint64_t faults, memwaits, pagewaits, iowaits, nread;
	double	lock_s;
	uint64_t locks;
	double	disk_s;
	uint64_t pages_in, pages_out, reads, writes;
	double	mmap_s;		/* host mmap/mprotect/munmap, all threads */
	uint64_t nmap, nprotect, nunmap, fixups, vmfaults, touches;
	double	pd_busy_s, aio_busy_s, pd_lock_s;
	double	worker_mmu_s, pd_mmu_s;	/* host MMU calls, by thread role */
	uint64_t pdscans, pdfreed, pdrevs;
	const char *largest;	/* the largest share of the LWPs' time */
	double	largest_share;
};

/* local prototypes */
static void breakdown(const struct stress_run *r, struct breakdown *b);
static int class_delta(const struct stress_run *r, struct timing_class *out,
    int max);
static void fault_hist_estimate(double *s);
static int *ux_ptr(struct uvmexp *ux, const struct ux_field *f);
static int ux_get(const struct uvmexp *ux, const char *name);
static void snapshot(struct vmstat_snap *vs, bool locked);
static double run_wall_s(const struct stress_run *r);
struct phases;
static void run_phases(const struct stress_run *r, struct phases *ph);
static double rate(uint64_t n, double s);
static uint64_t delta(const struct stress_run *r, const char *name);
static void latency(uint64_t pct[4], uint64_t *countp,
    uint64_t hist[UVM_FAULT_HIST]);
static uint64_t sum_workers(const struct stress_run *r, size_t off);
static uint64_t access_hash(const struct stress_run *r);
static const char *status_word(const struct stress_run *r, int status);

static int *
ux_ptr(struct uvmexp *ux, const struct ux_field *f)
{
	return (int *)((char *)ux + f->ux_off);
}

static int
ux_get(const struct uvmexp *ux, const char *name)
{
	size_t i;

	for (i = 0; i < nitems(ux_fields); i++)
		if (strcmp(ux_fields[i].ux_name, name) == 0)
			return *ux_ptr((struct uvmexp *)ux, &ux_fields[i]);
	return 0;
}

static void
snapshot(struct vmstat_snap *vs, bool locked)
{
	size_t i;

	memset(vs, 0, sizeof(*vs));
	vs->vs_ns = host_real_ns();
	if (locked)
		mtx_enter(&uvm.pageqlock);
	for (i = 0; i < nitems(ux_fields); i++)
		if (ux_fields[i].ux_lock == 'q')
			*ux_ptr(&vs->vs_uvmexp, &ux_fields[i]) = __atomic_load_n(
			    ux_ptr(&uvmexp, &ux_fields[i]), __ATOMIC_RELAXED);
	if (locked) {
		mtx_leave(&uvm.pageqlock);
		mtx_enter(&uvm.fpageqlock);
	}
	for (i = 0; i < nitems(ux_fields); i++)
		if (ux_fields[i].ux_lock == 'f')
			*ux_ptr(&vs->vs_uvmexp, &ux_fields[i]) = __atomic_load_n(
			    ux_ptr(&uvmexp, &ux_fields[i]), __ATOMIC_RELAXED);
	if (locked)
		mtx_leave(&uvm.fpageqlock);
	for (i = 0; i < nitems(ux_fields); i++)
		if (strchr("Ias", ux_fields[i].ux_lock) != NULL)
			*ux_ptr(&vs->vs_uvmexp, &ux_fields[i]) = __atomic_load_n(
			    ux_ptr(&uvmexp, &ux_fields[i]), __ATOMIC_RELAXED);
}

void
vmstat_snapshot(struct vmstat_snap *vs)
{
	snapshot(vs, true);
}

void
vmstat_snapshot_nolock(struct vmstat_snap *vs)
{
	snapshot(vs, false);
}

/* The timed phase: from the barrier to every worker out of its loop. */
static double
run_wall_s(const struct stress_run *r)
{
	uint64_t t1 = r->r_timed ? r->r_tend_ns : r->r_t1_ns;

	if (!r->r_ran || t1 <= r->r_t0_ns)
		return 0.0;
	return (double)(t1 - r->r_t0_ns) / 1e9;
}

/*
 * The run's phases, in seconds: set-up (boot, the scenario's fill) from
 * the start to the barrier; the timed phase; the final checks and
 * teardown from the end of the timed phase to the report.  (A run cut
 * before its barrier is all set-up.)
 */
struct phases {
	double	setup_s, timed_s, final_s, total_s;
};

static void
run_phases(const struct stress_run *r, struct phases *ph)
{
	uint64_t end = r->r_end_ns != 0 ? r->r_end_ns : r->r_t1_ns;
	uint64_t t0 = r->r_ran ? r->r_t0_ns : end;
	uint64_t tend = r->r_timed ? r->r_tend_ns : r->r_t1_ns;

	if (tend < t0)
		tend = t0;
	if (end < tend)
		end = tend;
	ph->setup_s = (double)(t0 - r->r_start_ns) / 1e9;
	ph->timed_s = (double)(tend - t0) / 1e9;
	ph->final_s = (double)(end - tend) / 1e9;
	ph->total_s = (double)(end - r->r_start_ns) / 1e9;
}

/* A counter's growth over the timed phase. */
static uint64_t
delta(const struct stress_run *r, const char *name)
{
	int a = ux_get(&r->r_vs0.vs_uvmexp, name);
	int b = ux_get(r->r_timed ? &r->r_vst.vs_uvmexp :
	    &r->r_vs1.vs_uvmexp, name);

	return b >= a ? (uint64_t)(b - a) : 0;
}

static void report_reclaim(FILE *f, const struct stress_run *r);
static void json_reclaim(struct json *j, const struct stress_run *r);
static void json_breakdown(struct json *j, const struct stress_run *r);
static void json_partition(struct json *j, const struct breakdown *b);
static void json_uvmexp(struct json *j, const char *key,
    const struct uvmexp *ux);
static double share(double part, double whole);
static double ns_s(uint64_t a, uint64_t b);

static double
ns_s(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e9 : 0.0;
}

/*
 * breakdown: the timed phase's time.  The window is the timing
 * snapshots' (r_tb0 at the start barrier, r_tbt once every worker left
 * its loop: the timed phase, within the few ms the harness takes to see
 * it end); every share is of threads x that window.
 */
static void
breakdown(const struct stress_run *r, struct breakdown *b)
{
	const struct timing_snap *t0 = &r->r_tb0, *t1 = &r->r_tbt;
	const struct host_disk_stats *d0 = &r->r_disk0, *d1 = &r->r_diskt;
	const struct tclass *w;
	struct { const char *name; double s; } parts[TS_NSTATES + 1];
	size_t i;
	int k, role;

	memset(b, 0, sizeof(*b));
	if (!r->r_ran || !r->r_timed)
		return;
	b->window_s = ns_s(t0->ts_ns, t1->ts_ns);
	for (role = 0; role < TR_NROLES; role++) {
		struct tclass *c = &b->cls[role];

		c->threads = role == TR_WORKER ? r->r_nworkers :
		    t1->ts_threads[role];
		c->total_s = b->window_s * c->threads;
		for (k = 0; k < TS_NSTATES; k++) {
			c->s[k] = ns_s(t0->ts_state_ns[role][k],
			    t1->ts_state_ns[role][k]);
			c->accounted_s += c->s[k];
			if (k >= TS_FAULT_CPU)
				c->fault_s += c->s[k];
		}
		c->other_s = MAX(0.0, c->total_s - c->accounted_s);
		c->busy_s = c->accounted_s - c->s[TS_SLEEP];
		b->all_total_s += c->total_s;
		b->all_accounted_s += c->accounted_s;
	}
	w = &b->cls[TR_WORKER];
	b->lwp_s = w->total_s;
	b->fault_s = w->fault_s;
	b->faults = t1->ts_traps - t0->ts_traps;
	b->mem_s = w->s[TS_FAULT_MEMWAIT];
	b->memwaits = t1->ts_memwaits - t0->ts_memwaits;
	b->page_s = w->s[TS_FAULT_PAGEWAIT];
	b->pagewaits = t1->ts_pagewaits - t0->ts_pagewaits;
	b->io_s = w->s[TS_FAULT_SLEEP];
	b->iowaits = t1->ts_iowaits - t0->ts_iowaits;
	b->wlock_s = w->s[TS_FAULT_LOCK];
	b->read_s = w->s[TS_FAULT_READ];
	b->nread = t1->ts_reads - t0->ts_reads;
	b->fault_cpu_s = w->s[TS_FAULT_CPU];
	b->fault_preempt_s = w->s[TS_FAULT_PREEMPTED];
	b->preempt_s = w->s[TS_PREEMPTED];
	b->user_s = w->s[TS_RUN];
	b->sleep_s = w->s[TS_SLEEP];
	b->olock_s = w->s[TS_LOCK];
	b->other_s = w->other_s;
	b->lock_s = ns_s(t0->ts_lock_ns, t1->ts_lock_ns);
	b->locks = t1->ts_locks - t0->ts_locks;
	b->disk_s = ns_s(d0->busy_ns, d1->busy_ns);
	b->pages_in = d1->pages_read - d0->pages_read;
	b->pages_out = d1->pages_written - d0->pages_written;
	b->reads = d1->reads - d0->reads;
	b->writes = d1->writes - d0->writes;
	b->mmap_s = ns_s(r->r_mmu0.mmap_ns, r->r_mmut.mmap_ns);
	b->nmap = r->r_mmut.nmap - r->r_mmu0.nmap;
	b->nprotect = r->r_mmut.nprotect - r->r_mmu0.nprotect;
	b->nunmap = r->r_mmut.nunmap - r->r_mmu0.nunmap;
	b->fixups = r->r_trapt.nfixups - r->r_trap0.nfixups;
	b->vmfaults = r->r_trapt.nfaults - r->r_trap0.nfaults;
	b->touches = sum_workers(r, offsetof(struct stress_worker, w_touches));
	if (r->r_daemons) {
		b->pd_busy_s = b->cls[TR_PAGEDAEMON].busy_s;
		b->aio_busy_s = b->cls[TR_AIODONED].busy_s;
		b->pd_lock_s = b->cls[TR_PAGEDAEMON].s[TS_LOCK] +
		    b->cls[TR_PAGEDAEMON].s[TS_FAULT_LOCK];
	}
	b->worker_mmu_s = ns_s(t0->ts_mmu_worker_ns, t1->ts_mmu_worker_ns);
	b->pd_mmu_s = ns_s(t0->ts_mmu_pd_ns, t1->ts_mmu_pd_ns);
	b->pdscans = delta(r, "pdscans");
	b->pdfreed = delta(r, "pdfreed");
	b->pdrevs = delta(r, "pdrevs");

	/* the largest of the workers' states (they do not overlap) */
	for (k = 0; k < TS_NSTATES; k++) {
		parts[k].name = k == TS_RUN ? "the workload on a CPU outside "
		    "faults (user mode and system calls)" :
		    timing_state_words(k);
		parts[k].s = w->s[k];
	}
	parts[k].name = "not running (LWPs ended or killed)";
	parts[k].s = w->other_s;
	for (i = 0; i < nitems(parts); i++)
		if (b->largest == NULL || parts[i].s > b->largest_share) {
			b->largest = parts[i].name;
			b->largest_share = parts[i].s;
		}
	b->largest_share = b->lwp_s > 0 ? b->largest_share / b->lwp_s : 0;
}

/* Lock waits per class over the timed phase, most time first. */
static int
class_delta(const struct stress_run *r, struct timing_class *out, int max)
{
	struct timing_class all[TIMING_MAXCLASS], t;
	int n = r->r_timed ? r->r_nclst : 0, i, j, k = 0;

	for (i = 0; i < n; i++) {
		t = r->r_clst[i];
		for (j = 0; j < r->r_ncls0; j++)
			if (strcmp(r->r_cls0[j].tc_name, t.tc_name) == 0) {
				t.tc_waits -= r->r_cls0[j].tc_waits;
				t.tc_ns -= r->r_cls0[j].tc_ns;
			}
		if (t.tc_waits != 0)
			all[k++] = t;
	}
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && all[j].tc_ns > all[j - 1].tc_ns; j--) {
			t = all[j];
			all[j] = all[j - 1];
			all[j - 1] = t;
		}
	k = MIN(k, max);
	memcpy(out, all, (size_t)k * sizeof(*out));
	return k;
}

/* Total fault time estimated from the histogram (1.5 x bucket floor). */
static void
fault_hist_estimate(double *s)
{
	uint64_t hist[UVM_FAULT_HIST];
	double sum = 0;
	int i;

	uvm_fault_latency(hist);
	for (i = 0; i < UVM_FAULT_HIST; i++)
		sum += (double)hist[i] * 1.5 * (double)(1ull << i);
	*s = sum / 1e9;
}

static double
share(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}

/* report_processes: processes forked, u-areas, kernel stacks. */
static void
report_processes(FILE *f, const struct stress_run *r)
{
	struct kern_proc_stats st;

	kern_proc_stats(&st);
	fprintf(f, "processes: %d root (%s glue), %llu forked, %llu reaped, "
	    "%d alive at most; ", r->r_nprocs, kern_glue_name(kern_glue()),
	    (unsigned long long)st.kp_forked, (unsigned long long)st.kp_reaped,
	    st.kp_peak);
	/* what the glue's LWPs carry */
	if (kern_glue() == UVM_GLUE_NETBSD)
		fprintf(f, "u-areas %llu handed out (%llu made, %llu cached), "
		    "%d low-memory events\n", (unsigned long long)st.kp_uareas,
		    (unsigned long long)st.kp_uareas_made,
		    (unsigned long long)st.kp_uareas_cached,
		    st.kp_lowmem_events);
	else
		fprintf(f, "kernel stacks %llu handed out (%llu made, %llu "
		    "cached, %llu purged on %d low-memory events), deepest %d "
		    "bytes seen by the clock\n",
		    (unsigned long long)st.kp_kstacks,
		    (unsigned long long)st.kp_kstacks_made,
		    (unsigned long long)st.kp_kstacks_cached,
		    (unsigned long long)st.kp_kstacks_purged,
		    st.kp_lowmem_events, st.kp_max_kstack_used);
}

/* json_processes: the JSON's "processes" section. */
static void
json_processes(struct json *j, const struct stress_run *r)
{
	struct kern_proc_stats st;

	kern_proc_stats(&st);
	json_object_begin(j, "processes");
	json_string(j, "glue", kern_glue_name(kern_glue()));
	json_i64(j, "roots", r->r_nprocs);
	json_u64(j, "forked", st.kp_forked);
	json_u64(j, "reaped", st.kp_reaped);
	json_i64(j, "alive", st.kp_live);
	json_i64(j, "alive_peak", st.kp_peak);
	json_u64(j, "uareas_allocated", st.kp_uareas);
	json_u64(j, "uareas_constructed", st.kp_uareas_made);
	json_u64(j, "uareas_cached", st.kp_uareas_cached);
	json_u64(j, "kstacks_allocated", st.kp_kstacks);
	json_u64(j, "kstacks_made", st.kp_kstacks_made);
	json_u64(j, "kstacks_cached", st.kp_kstacks_cached);
	json_u64(j, "kstacks_purged", st.kp_kstacks_purged);
	json_i64(j, "lowmem_events", st.kp_lowmem_events);
	json_i64(j, "max_kstack_used", st.kp_max_kstack_used);
	json_object_end(j);
}

/* report_swapper: the swapper's line (when one ran). */
static void
report_swapper(FILE *f)
{
	struct kern_swap_stats st;
	struct lwp_latency in, run;

	if (kern_swapper() == KERN_SWAPPER_OFF)
		return;
	kern_swap_stats(&st);
	lwp_swapin_latency(&in, &run);
	fprintf(f, "swapper: %s, %llu LWPs swapped out and %llu in",
	    kern_swapper_name(kern_swapper()),
	    (unsigned long long)st.ks_swapouts,
	    (unsigned long long)st.ks_swapins);
	if (kern_swapper() == KERN_SWAPPER_FREEBSD)
		fprintf(f, " (%llu processes out, %llu in, %llu refused busy, "
		    "%llu faultins waited)",
		    (unsigned long long)st.ks_proc_swapouts,
		    (unsigned long long)st.ks_proc_swapins,
		    (unsigned long long)st.ks_busy,
		    (unsigned long long)st.ks_faultin_waits);
	fprintf(f, ", %llu pagedaemon calls; %d out at most; %llu %s pages "
	    "read back from swap; %llu woken out of memory: back in memory "
	    "after p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms, "
	    "running after p50 %.3f ms, p90 %.3f ms, p99 %.3f ms\n",
	    (unsigned long long)st.ks_pdswout, st.ks_out_peak,
	    (unsigned long long)st.ks_pages_in,
	    kern_swapper() == KERN_SWAPPER_NETBSD ? "u-area" : "kernel-stack",
	    (unsigned long long)in.sl_count, (double)in.sl_p50_ns / 1e6,
	    (double)in.sl_p90_ns / 1e6, (double)in.sl_p99_ns / 1e6,
	    (double)in.sl_max_ns / 1e6, (double)run.sl_p50_ns / 1e6,
	    (double)run.sl_p90_ns / 1e6, (double)run.sl_p99_ns / 1e6);
}

/* json_latency: a latency's count and percentiles, keys prefix_*. */
static void
json_latency(struct json *j, const char *prefix, const struct lwp_latency *l)
{
	char key[64];

	snprintf(key, sizeof(key), "%s_count", prefix);
	json_u64(j, key, l->sl_count);
	snprintf(key, sizeof(key), "%s_p50_ns", prefix);
	json_u64(j, key, l->sl_p50_ns);
	snprintf(key, sizeof(key), "%s_p90_ns", prefix);
	json_u64(j, key, l->sl_p90_ns);
	snprintf(key, sizeof(key), "%s_p99_ns", prefix);
	json_u64(j, key, l->sl_p99_ns);
	snprintf(key, sizeof(key), "%s_max_ns", prefix);
	json_u64(j, key, l->sl_max_ns);
}

/* json_swapper: the JSON's "swapper" section. */
static void
json_swapper(struct json *j)
{
	struct kern_swap_stats st;
	struct lwp_latency in, run;

	kern_swap_stats(&st);
	lwp_swapin_latency(&in, &run);
	json_object_begin(j, "swapper");
	json_string(j, "policy", kern_swapper_name(kern_swapper()));
	json_u64(j, "swapouts", st.ks_swapouts);
	json_u64(j, "swapins", st.ks_swapins);
	json_u64(j, "pdswout", st.ks_pdswout);
	json_u64(j, "proc_swapouts", st.ks_proc_swapouts);
	json_u64(j, "proc_swapins", st.ks_proc_swapins);
	json_u64(j, "swapout_busy", st.ks_busy);
	json_u64(j, "faultin_waits", st.ks_faultin_waits);
	json_u64(j, "stack_pages_in", st.ks_pages_in);
	json_i64(j, "out_now", st.ks_out_now);
	json_i64(j, "out_peak", st.ks_out_peak);
	json_latency(j, "swapin_latency", &in);
	json_latency(j, "swapin_to_run", &run);
	json_object_end(j);
}

/* report_reclaim: the summary's pagedaemon, swap and time lines. */
static void
report_reclaim(FILE *f, const struct stress_run *r)
{
	const struct uvmexp *ux = &r->r_vs1.vs_uvmexp;
	struct timing_class cls[8];
	struct host_disk_stats ds;
	struct breakdown b;
	int i, n;

	if (r->r_daemons)
		fprintf(f, "pagedaemon: woke %d, %d revolutions, scanned %d "
		    "(%d anon, %d object), freed %d, deactivated %d, "
		    "reactivated %d, %d busy, %d pageouts (%d pending), %d "
		    "swapout attempts; targets freemin %d freetarg %d inactarg "
		    "%d\n", ux->pdwoke, ux->pdrevs, ux->pdscans, ux->pdanscan,
		    ux->pdobscan, ux->pdfreed, ux->pddeact, ux->pdreact,
		    ux->pdbusy, ux->pdpageouts, ux->pdpending, ux->pdswout,
		    ux->freemin, ux->freetarg, ux->inactarg);
	if (uvm_swap_disk() != NULL) {
		host_disk_get_stats(uvm_swap_disk(), &ds);
		/*
		 * pgswapout counts the dirty pages the pagedaemon took to
		 * clean (busied, before it had a swap slot for them: some
		 * are given up); the disk counts the pages it wrote.
		 */
		fprintf(f, "swap: %s (%s), %d pages; %d pages taken for "
		    "pageout (pgswapout), %d pages swapped in (pgswapin); "
		    "disk: %llu writes (%llu pages written), %llu reads (%llu "
		    "pages read), "
		    "%llu errors (%llu injected, %llu corrupt, %llu reads of "
		    "%llu bad sectors), busy %.3f s, "
		    "deepest queue %llu, %llu held in a plug\n", r->r_swap_path,
		    ds.direct ? "O_DIRECT" : "buffered", ux->swpages,
		    ux->pgswapout, ux->pgswapin, (unsigned long long)ds.writes,
		    (unsigned long long)ds.pages_written,
		    (unsigned long long)ds.reads,
		    (unsigned long long)ds.pages_read,
		    (unsigned long long)ds.errors,
		    (unsigned long long)ds.injected,
		    (unsigned long long)ds.corrupt,
		    (unsigned long long)ds.rotten_reads,
		    (unsigned long long)ds.rotten, (double)ds.busy_ns / 1e9,
		    (unsigned long long)ds.queue_max,
		    (unsigned long long)ds.plugged);
	}
	if (STRESS_LD(&r->r_kills) != 0)
		fprintf(f, "out of swap: %llu processes killed\n",
		    (unsigned long long)STRESS_LD(&r->r_kills));
	if (r->r_cfg->fail_alloc != 0)
		fprintf(f, "allocation failures injected (--fail-alloc %u.%u%%): "
		    "%llu (%llu PR_NOWAIT pool gets, %llu NOWAIT kernel-memory "
		    "pages); faults that waited for an anon %d, for an amap "
		    "%d\n", r->r_cfg->fail_alloc / 10, r->r_cfg->fail_alloc % 10,
		    (unsigned long long)host_fail_alloc_count(),
		    (unsigned long long)host_fail_alloc_count_at(HOST_FAIL_POOL),
		    (unsigned long long)host_fail_alloc_count_at(HOST_FAIL_KM),
		    r->r_vs1.vs_uvmexp.fltnoanon, r->r_vs1.vs_uvmexp.fltnoamap);
	breakdown(r, &b);
	if (b.lwp_s <= 0)
		return;
	/*
	 * Every LWP is in one state at a time (timing.h): the shares are of
	 * LWPs x window and add up to 100% (each rounded).
	 */
	fprintf(f, "where the time goes (timed phase, %.2f s x %d LWPs; each "
	    "LWP is in one state at a time: shares of the LWPs' time, adding "
	    "up to 100%%): faults %.0f%% (swap-in reads %.0f%%, sleeps "
	    "%.0f%%, free-memory waits %.0f%%, busy pages %.0f%%, locks "
	    "%.0f%%, preempted %.0f%%, on CPU %.0f%%), preempted %.0f%%, user "
	    "and system calls %.0f%%, asleep %.0f%%, locks %.0f%%, not "
	    "running %.0f%%\n", b.window_s, r->r_nworkers,
	    share(b.fault_s, b.lwp_s), share(b.read_s, b.lwp_s),
	    share(b.io_s, b.lwp_s), share(b.mem_s, b.lwp_s),
	    share(b.page_s, b.lwp_s), share(b.wlock_s, b.lwp_s),
	    share(b.fault_preempt_s, b.lwp_s), share(b.fault_cpu_s, b.lwp_s),
	    share(b.preempt_s, b.lwp_s), share(b.user_s, b.lwp_s),
	    share(b.sleep_s, b.lwp_s), share(b.olock_s, b.lwp_s),
	    share(b.other_s, b.lwp_s));
	fprintf(f, "  swap disk busy %.0f%% of the window (%llu reads, %llu "
	    "pages read; %llu writes, %llu pages written); "
	    "pagedaemon busy %.0f%% (host MMU calls %.0f%%, lock waits "
	    "%.0f%%), aiodoned busy %.0f%%; %llu lock waits (%.3f s) in all; "
	    "%.2f traps per touch (%llu VM faults, %llu pmap fixups), %.3f s "
	    "in host mmap/mprotect/munmap (%llu/%llu/%llu; %.3f s of it the "
	    "workers')\n",
	    share(b.disk_s, b.window_s), (unsigned long long)b.reads,
	    (unsigned long long)b.pages_in, (unsigned long long)b.writes,
	    (unsigned long long)b.pages_out,
	    share(b.pd_busy_s, b.cls[TR_PAGEDAEMON].total_s),
	    share(b.pd_mmu_s, b.cls[TR_PAGEDAEMON].total_s),
	    share(b.pd_lock_s, b.cls[TR_PAGEDAEMON].total_s),
	    share(b.aio_busy_s, b.cls[TR_AIODONED].total_s),
	    (unsigned long long)b.locks,
	    b.lock_s, b.touches != 0 ? (double)b.faults / (double)b.touches :
	    0.0, (unsigned long long)b.vmfaults, (unsigned long long)b.fixups,
	    b.mmap_s, (unsigned long long)b.nmap,
	    (unsigned long long)b.nprotect, (unsigned long long)b.nunmap,
	    b.worker_mmu_s);
	n = class_delta(r, cls, (int)nitems(cls));
	if (n > 0) {
		fprintf(f, "lock waits by class:");
		for (i = 0; i < n; i++)
			fprintf(f, " %s %llu (%.3f s)%s", cls[i].tc_name,
			    (unsigned long long)cls[i].tc_waits,
			    (double)cls[i].tc_ns / 1e9, i + 1 < n ? "," : "");
		fputc('\n', f);
	}
	fprintf(f, "largest share: %s, %.0f%% of the LWPs' time\n", b.largest,
	    100.0 * b.largest_share);
}

/* The JSON's "pagedaemon" and "swap" sections. */
static void
json_reclaim(struct json *j, const struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	struct host_disk_stats ds;
	struct bcachestats bc;
	size_t i;

	json_object_begin(j, "pagedaemon");
	json_bool(j, "running", r->r_daemons);
	for (i = 0; i < nitems(pd_fields); i++)
		json_i64(j, pd_fields[i], r->r_ran ?
		    ux_get(&r->r_vs1.vs_uvmexp, pd_fields[i]) : 0);
	json_object_end(j);

	json_object_begin(j, "swap");
	json_bool(j, "attached", uvm_swap_disk() != NULL);
	json_string(j, "file", r->r_swap_path[0] != '\0' ? r->r_swap_path :
	    NULL);
	json_bool(j, "kept", cfg->keep_swap);
	json_u64(j, "pages", cfg->swap / PAGE_SIZE);
	json_u64(j, "fail_io_permille", cfg->fail_io);
	json_i64(j, "inuse_end", r->r_swap_inuse_end);
	json_i64(j, "bad_end", r->r_swap_bad_end);
	memset(&ds, 0, sizeof(ds));
	if (uvm_swap_disk() != NULL)
		host_disk_get_stats(uvm_swap_disk(), &ds);
	json_object_begin(j, "disk");
	json_bool(j, "direct", ds.direct);
	json_u64(j, "reads", ds.reads);
	json_u64(j, "writes", ds.writes);
	json_u64(j, "pages_read", ds.pages_read);
	json_u64(j, "pages_written", ds.pages_written);
	json_u64(j, "errors", ds.errors);
	json_u64(j, "injected", ds.injected);
	json_u64(j, "corrupt", ds.corrupt);
	json_u64(j, "rotten", ds.rotten);
	json_u64(j, "rotten_reads", ds.rotten_reads);
	json_double(j, "busy_s", (double)ds.busy_ns / 1e9);
	json_u64(j, "polled_reads", ds.polled);
	json_double(j, "polled_s", (double)ds.polled_ns / 1e9);
	json_u64(j, "queue_max", ds.queue_max);
	json_u64(j, "plugged", ds.plugged);
	json_object_end(j);
	json_object_end(j);

	json_object_begin(j, "bufcache");
	memset(&bc, 0, sizeof(bc));
	if (r->r_ran)
		uvm_bufcache_stats(&bc);
	json_u64(j, "size_pages", cfg->bufcache / PAGE_SIZE);
	json_i64(j, "filled_at_boot", r->r_bc_filled);
	json_i64(j, "numbufpages", bc.numbufpages);
	json_i64(j, "numcleanpages", bc.numcleanpages);
	json_i64(j, "numdirtypages", bc.numdirtypages);
	json_i64(j, "backoffs", bc.backoffs);
	json_i64(j, "backoff_fails", bc.backoff_fails);
	json_i64(j, "pagesfreed", bc.pagesfreed);
	json_i64(j, "bufpages", r->r_ran ? bc_load(bufpages) : 0);
	json_i64(j, "buflowpages", r->r_ran ? bc_load(buflowpages) : 0);
	json_object_end(j);
}

/* An "uvmexp" object: every counter by its BSD name. */
static void
json_uvmexp(struct json *j, const char *key, const struct uvmexp *ux)
{
	size_t i;

	json_object_begin(j, key);
	for (i = 0; i < nitems(ux_fields); i++)
		json_i64(j, ux_fields[i].ux_name,
		    *ux_ptr((struct uvmexp *)ux, &ux_fields[i]));
	json_object_end(j);
}

/*
 * metrics.time_breakdown.partition: per role (and all together) each
 * state's time, what no state accounts for, and the accounted share of
 * threads x window (at most 1: the states never overlap).
 */
static void
json_partition(struct json *j, const struct breakdown *b)
{
	static const char *const names[TR_NROLES] = {
		[TR_WORKER] = "workers", [TR_PAGEDAEMON] = "pagedaemon",
		[TR_AIODONED] = "aiodoned",
	};
	char key[64];
	int role, k;

	json_object_begin(j, "partition");
	for (role = 0; role < TR_NROLES; role++) {
		const struct tclass *c = &b->cls[role];

		json_object_begin(j, names[role]);
		json_i64(j, "threads", c->threads);
		json_double(j, "total_s", c->total_s);
		for (k = 0; k < TS_NSTATES; k++) {
			snprintf(key, sizeof(key), "%s_s", timing_state_key(k));
			json_double(j, key, c->s[k]);
		}
		json_double(j, "fault_s", c->fault_s);
		json_double(j, "other_s", c->other_s);
		json_double(j, "accounted_s", c->accounted_s);
		json_double(j, "accounted_share", c->total_s > 0 ?
		    c->accounted_s / c->total_s : 0.0);
		json_object_end(j);
	}
	json_object_begin(j, "all");
	json_double(j, "total_s", b->all_total_s);
	json_double(j, "accounted_s", b->all_accounted_s);
	json_double(j, "accounted_share", b->all_total_s > 0 ?
	    b->all_accounted_s / b->all_total_s : 0.0);
	json_object_end(j);
	json_object_end(j);
}

/* metrics.time_breakdown */
static void
json_breakdown(struct json *j, const struct stress_run *r)
{
	struct timing_class cls[8];
	struct breakdown b;
	double est = 0;
	int i, n;

	breakdown(r, &b);
	if (r->r_ran)
		fault_hist_estimate(&est);
	json_object_begin(j, "time_breakdown");
	json_string(j, "method", "a scheduler hook keeps each worker's and "
	    "daemon's state (in a trap: polled swap-in read, sleeps by kind, "
	    "lock wait, preempted, on CPU; outside: asleep, lock wait, "
	    "preempted, on CPU); one state at a time, so the states partition "
	    "each thread's time; shares are of threads x window (the timing "
	    "snapshots at the start barrier and once every worker left its "
	    "loop); every thread's lock waits by class; the disk counts its "
	    "busy time");
	json_double(j, "window_s", b.window_s);
	json_i64(j, "lwps", r->r_nworkers);
	json_double(j, "lwp_s", b.lwp_s);
	json_double(j, "fault_s", b.fault_s);
	json_u64(j, "faults", b.faults);
	json_double(j, "fault_swapin_read_s", b.read_s);
	json_u64(j, "fault_swapin_reads", b.nread);
	json_double(j, "fault_sleep_s", b.io_s);
	json_u64(j, "fault_sleeps", b.iowaits);
	json_double(j, "fault_memory_wait_s", b.mem_s);
	json_u64(j, "fault_memory_waits", b.memwaits);
	json_double(j, "fault_page_wait_s", b.page_s);
	json_u64(j, "fault_page_waits", b.pagewaits);
	json_double(j, "fault_lock_wait_s", b.wlock_s);
	json_double(j, "fault_preempted_s", b.fault_preempt_s);
	json_double(j, "fault_cpu_s", b.fault_cpu_s);
	json_double(j, "preempted_s", b.preempt_s);
	json_double(j, "user_s", b.user_s);
	json_double(j, "outside_sleep_s", b.sleep_s);
	json_double(j, "outside_lock_wait_s", b.olock_s);
	json_double(j, "not_running_s", b.other_s);
	json_partition(j, &b);
	json_double(j, "fault_hist_estimate_run_s", est);
	json_u64(j, "vm_faults", b.vmfaults);
	json_u64(j, "pmap_fixups", b.fixups);
	json_double(j, "traps_per_touch", b.touches != 0 ?
	    (double)b.faults / (double)b.touches : 0.0);
	json_double(j, "host_mmap_s", b.mmap_s);
	json_double(j, "fault_host_mmu_s", b.worker_mmu_s);
	json_u64(j, "host_mmap", b.nmap);
	json_u64(j, "host_mprotect", b.nprotect);
	json_u64(j, "host_munmap", b.nunmap);
	json_double(j, "swap_disk_busy_s", b.disk_s);
	json_double(j, "swap_disk_busy_share", b.window_s > 0 ?
	    b.disk_s / b.window_s : 0.0);
	json_u64(j, "swap_reads", b.reads);
	json_u64(j, "swap_writes", b.writes);
	json_u64(j, "swap_pages_in", b.pages_in);
	json_u64(j, "swap_pages_out", b.pages_out);
	json_double(j, "pagedaemon_busy_s", b.pd_busy_s);
	json_double(j, "pagedaemon_host_mmu_s", b.pd_mmu_s);
	json_double(j, "pagedaemon_lock_wait_s", b.pd_lock_s);
	json_double(j, "aiodoned_busy_s", b.aio_busy_s);
	json_u64(j, "pdscans", b.pdscans);
	json_double(j, "pdscans_per_s", rate(b.pdscans, b.window_s));
	json_u64(j, "pdfreed", b.pdfreed);
	json_u64(j, "pdrevs", b.pdrevs);
	json_u64(j, "lock_waits", b.locks);
	json_double(j, "lock_wait_s", b.lock_s);
	json_array_begin(j, "lock_wait_by_class");
	n = r->r_ran ? class_delta(r, cls, (int)nitems(cls)) : 0;
	for (i = 0; i < n; i++) {
		json_object_begin(j, NULL);
		json_string(j, "class", cls[i].tc_name);
		json_u64(j, "waits", cls[i].tc_waits);
		json_double(j, "s", (double)cls[i].tc_ns / 1e9);
		json_object_end(j);
	}
	json_array_end(j);
	json_string(j, "largest", b.largest);
	json_double(j, "largest_share", b.largest_share);
	json_object_end(j);
}

static double
rate(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0.0;
}

/*
 * latency: p50, p90, p99 and max from the log2 histogram (bucket b holds
 * latencies in [2^b, 2^(b+1)) ns); each is the upper bound of its bucket.
 */
static void
latency(uint64_t pct[4], uint64_t *countp, uint64_t hist[UVM_FAULT_HIST])
{
	static const double ps[3] = { 0.50, 0.90, 0.99 };
	uint64_t count = 0, cum, want;
	int b, k;

	uvm_fault_latency(hist);
	for (b = 0; b < UVM_FAULT_HIST; b++)
		count += hist[b];
	*countp = count;
	memset(pct, 0, 4 * sizeof(pct[0]));
	if (count == 0)
		return;
	for (k = 0; k < 3; k++) {
		want = (uint64_t)(ps[k] * (double)count + 0.999999);
		if (want == 0)
			want = 1;
		for (b = 0, cum = 0; b < UVM_FAULT_HIST; b++) {
			cum += hist[b];
			if (cum >= want)
				break;
		}
		pct[k] = 1ull << (MIN(b, UVM_FAULT_HIST - 1) + 1);
	}
	for (b = UVM_FAULT_HIST - 1; b > 0 && hist[b] == 0; b--)
		continue;
	pct[3] = 1ull << (b + 1);
}

static uint64_t
sum_workers(const struct stress_run *r, size_t off)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; r->r_workers != NULL && i < r->r_nworkers; i++)
		sum += __atomic_load_n((const uint64_t *)((const char *)
		    &r->r_workers[i] + off), __ATOMIC_RELAXED);
	return sum;
}

/* The access sequence hash: the workers' hashes folded in index order. */
static uint64_t
access_hash(const struct stress_run *r)
{
	uint64_t h = 0xcbf29ce484222325ull;
	int i;

	for (i = 0; r->r_workers != NULL && i < r->r_nworkers; i++) {
		h ^= STRESS_LD(&r->r_workers[i].w_hash) + (uint64_t)i;
		h *= 0x100000001b3ull;
		h ^= h >> 33;
	}
	return h;
}

static const char *
status_word(const struct stress_run *r, int status)
{
	if (r->r_verdict != NULL)	/* finish's, or hang_exit's */
		return r->r_verdict;
	if (status == EXIT_PASS)
		return r->r_skip != NULL ? "skip" : "pass";
	return status == EXIT_FAILURE_FOUND ? "fail" : "error";
}

void
report_summary(FILE *f, const struct stress_run *r)
{
	const struct uvmexp *ux = &r->r_vs1.vs_uvmexp;
	double wall = run_wall_s(r);
	struct phases ph;
	uint64_t hist[UVM_FAULT_HIST], pct[4], nlat, ops, touches, faults;
	struct host_mmu_stats ms;
	struct host_trap_stats ts;
	size_t i;
	int k;

	ops = sum_workers(r, offsetof(struct stress_worker, w_ops));
	touches = sum_workers(r, offsetof(struct stress_worker, w_touches));
	faults = delta(r, "faults");
	fprintf(f, "uvmstress: %s: %.2f s, %d LWPs on %d CPUs, seed %llu\n",
	    r->r_sc->sc_name, wall, r->r_nworkers, r->r_cfg->ncpu,
	    (unsigned long long)r->r_cfg->seed);
	run_phases(r, &ph);
	fprintf(f, "phases: set-up (boot, fill) %.2f s, timed %.2f s, final "
	    "checks and teardown %.2f s: %.2f s", ph.setup_s, ph.timed_s,
	    ph.final_s, ph.total_s);
	if (r->r_cfg->timeout_s != 0)
		fprintf(f, " of -t %llu s (set-up %.0f%% of it)",
		    (unsigned long long)r->r_cfg->timeout_s,
		    100.0 * ph.setup_s / (double)r->r_cfg->timeout_s);
	fprintf(f, "; final checks cut short in %d LWPs\n",
	    __atomic_load_n(&r->r_checks_cut, __ATOMIC_RELAXED));
	/*
	 * Two columns: at the end of the timed phase (r_vst: every worker
	 * out of its loop, its pages still mapped) and after the workers
	 * ended (r_vs1: their own teardown done, e.g. touch's regions
	 * unmapped).
	 */
	fprintf(f, "vmstat: \"timed\" at the end of the timed phase, \"end\" "
	    "after the workers ended (their teardown done)\n");
	fprintf(f, "%12s %12s %-18s %s\n", "timed", "end", "counter",
	    "meaning");
	for (i = 0; i < nitems(ux_fields); i++) {
		const struct ux_field *uf = &ux_fields[i];

		if (r->r_timed)
			fprintf(f, "%12d ", *ux_ptr(
			    (struct uvmexp *)&r->r_vst.vs_uvmexp, uf));
		else
			fprintf(f, "%12s ", "-");
		fprintf(f, "%12d %-18s %s\n", *ux_ptr((struct uvmexp *)ux, uf),
		    uf->ux_name, uf->ux_meaning);
	}
	fprintf(f, "rates over the timed phase:\n");
	fprintf(f, "%12.1f %-18s %s\n", rate(ops, wall), "ops/s",
	    "scenario ops per second");
	fprintf(f, "%12.1f %-18s %s\n", rate(touches, wall), "touches/s",
	    "pages touched per second");
	fprintf(f, "%12.1f %-18s %s\n", rate(faults, wall), "faults/s",
	    "page faults per second");
	for (i = 0; i < nitems(rate_fields); i++) {
		const char *name = rate_fields[i];
		size_t j;

		for (j = 0; j < nitems(ux_fields); j++)
			if (strcmp(ux_fields[j].ux_name, name) == 0)
				break;
		fprintf(f, "%12.1f %-18s %s per second\n",
		    rate(delta(r, name), wall), name,
		    j < nitems(ux_fields) ? ux_fields[j].ux_meaning : name);
	}
	latency(pct, &nlat, hist);
	fprintf(f, "fault latency (%llu faults; log2 buckets, upper bounds): "
	    "p50 %llu ns, p90 %llu ns, p99 %llu ns, max %llu ns\n",
	    (unsigned long long)nlat, (unsigned long long)pct[0],
	    (unsigned long long)pct[1], (unsigned long long)pct[2],
	    (unsigned long long)pct[3]);
	host_mmu_get_stats(&ms);
	host_trap_get_stats(&ts);
	fprintf(f, "MMU: %ld host mappings live, peak %ld of budget %ld "
	    "(max_map_count %ld); %llu mmap, %llu mprotect, %llu unmap, %llu "
	    "evictions, %llu pmap fixups, %.3f s in host mmap/mprotect; "
	    "closes make holes in %llu windows, re-reserve in %llu\n",
	    ms.live, ms.peak, ms.budget, ms.max_map_count,
	    (unsigned long long)ms.nmap, (unsigned long long)ms.nprotect,
	    (unsigned long long)ms.nunmap, (unsigned long long)ms.nevict,
	    (unsigned long long)ms.nfixup, (double)ms.mmap_ns / 1e9,
	    (unsigned long long)ms.nwinholes,
	    (unsigned long long)ms.nwinreserved);
	fprintf(f, "modified bits: by %s; %llu baselines, %llu content "
	    "checks, %llu found modified; %llu mappings opened ahead of a "
	    "walk\n", ms.mod_emulation == HOST_MOD_TRAP ? "trap" : "content",
	    (unsigned long long)ms.nbaseline, (unsigned long long)ms.nsumcheck,
	    (unsigned long long)ms.nsumdirty, (unsigned long long)ms.nwalk);
	fprintf(f, "traps: %llu (%llu fixed up by the pmap, %llu VM faults, "
	    "%llu simulated SIGSEGV)\n", (unsigned long long)ts.ntraps,
	    (unsigned long long)ts.nfixups, (unsigned long long)ts.nfaults,
	    (unsigned long long)ts.nsegv);
	fprintf(f, "oracles: audit %llu runs, %llu checks, %u violations; "
	    "witness %s, %u inversions; ThreadSanitizer %s",
	    (unsigned long long)r->r_audit_runs,
	    (unsigned long long)r->r_audit_checks, r->r_audit_violations,
	    witness_enabled() ? "on" : "off", witness_inversions(),
	    sanitizer_tsan() ? "on" : "off (make tsan)");
	if (sanitizer_tsan())
		fprintf(f, ", %d reports", sanitizer_reports());
	fputc('\n', f);
	report_reclaim(f, r);
	report_processes(f, r);
	report_swapper(f);
	stress_sched_report(f, r);
	fprintf(f, "%12d %-18s %s\n", r->r_free_min, "free_min",
	    "fewest free pages during the run");
	fprintf(f, "ops %llu, touches %llu, access hash %016llx\n",
	    (unsigned long long)ops, (unsigned long long)touches,
	    (unsigned long long)access_hash(r));
	for (k = 0; k < r->r_nmetrics; k++) {
		const struct stress_metric *m = &r->r_metrics[k];

		if (m->m_type == SM_U64)
			fprintf(f, "%12llu %s\n", (unsigned long long)m->m_u64,
			    m->m_name);
		else if (m->m_type == SM_DOUBLE)
			fprintf(f, "%12.3f %s\n", m->m_double, m->m_name);
		else
			fprintf(f, "%12s %s\n", m->m_str, m->m_name);
	}
	if (r->r_cfg->verbose > 0)
		for (k = 0; k < r->r_nworkers; k++)
			fprintf(f, "  lwp %d: %llu ops, %llu touches, %llu "
			    "SIGSEGV, hash %016llx\n", k,
			    (unsigned long long)STRESS_LD(&r->r_workers[k].w_ops),
			    (unsigned long long)STRESS_LD(
			    &r->r_workers[k].w_touches),
			    (unsigned long long)STRESS_LD(&r->r_workers[k].w_segv),
			    (unsigned long long)STRESS_LD(&r->r_workers[k].w_hash));
}

void
report_failures(FILE *f, const struct stress_run *r)
{
	int i, n = stress_nfailures();
	char *search;

	if (n == 0)
		return;
	fprintf(f, "uvmstress: FAIL: %d failure%s in %s (seed %llu):\n", n,
	    n == 1 ? "" : "s", r->r_sc->sc_name,
	    (unsigned long long)r->r_cfg->seed);
	for (i = 0; i < MIN(n, STRESS_MAXFAIL); i++) {
		const struct stress_failure *fl = stress_failure(i);

		if (fl == NULL)
			continue;
		if (r->r_det)
			fprintf(f, "  %s at step %llu: %s\n", fl->f_kind,
			    (unsigned long long)fl->f_step, fl->f_message);
		else
			fprintf(f, "  %s: %s\n", fl->f_kind, fl->f_message);
	}
	fprintf(f, "uvmstress: replay with: %s\n", r->r_replay);
	if (r->r_det && r->r_cfg->schedule_out != NULL)
		fprintf(f, "uvmstress: or follow its schedule: %s --replay %s\n",
		    r->r_replay, r->r_cfg->schedule_out);
	else if (!r->r_det && (search = options_search_line(r->r_cfg)) !=
	    NULL) {
		fprintf(f, "uvmstress: a free run does not replay its "
		    "interleaving; search for it deterministically with: %s "
		    "(see docs/sched.md)\n", search);
		free(search);
	}
	fflush(f);
}

int
report_json(const struct stress_run *r, FILE *f, int status,
    const char *error)
{
	const struct stress_config *cfg = r->r_cfg;
	double wall = run_wall_s(r);
	uint64_t hist[UVM_FAULT_HIST], pct[4], nlat, ops, touches, faults;
	struct host_mmu_stats ms;
	struct host_trap_stats ts;
	struct json j;
	struct phases ph;
	size_t i, need = 0;
	char *host, buf[64];
	int k, n;

	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_i64(&j, "json_version", 1);
	json_string(&j, "tool", "uvmstress");
	json_string(&j, "version", STRESS_VERSION);
	json_u64(&j, "seed", cfg->seed);
	json_string(&j, "scenario", cfg->sc->sc_name);
	json_string(&j, "replay", r->r_replay);
	options_json(&j, "config", cfg);

	(void)host_topo_json(NULL, 0, &need);
	if ((host = malloc(need + 1)) != NULL &&
	    host_topo_json(host, need + 1, NULL) == 0)
		json_raw(&j, "host", host);
	else
		json_raw(&j, "host", "{\"available\": false, \"error\": "
		    "\"out of memory\"}");
	free(host);

	json_object_begin(&j, "machine");
	json_u64(&j, "ram", cfg->ram);
	json_u64(&j, "pages", r->r_ran ? (uint64_t)r->r_vs1.vs_uvmexp.npages : 0);
	json_i64(&j, "ncpu", cfg->ncpu);
	json_i64(&j, "hz", r->r_ran ? hz : 0);
#ifdef DIAGNOSTIC
	json_bool(&j, "diagnostic", true);
#else
	json_bool(&j, "diagnostic", false);
#endif
#if defined(__SANITIZE_THREAD__)
	json_bool(&j, "tsan", true);
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	json_bool(&j, "tsan", true);
#else
	json_bool(&j, "tsan", false);
#endif
#else
	json_bool(&j, "tsan", false);
#endif
	json_object_end(&j);

	json_string(&j, "status", status_word(r, status));
	json_i64(&j, "exit_status", status);
	run_phases(r, &ph);
	json_object_begin(&j, "phases");
	json_double(&j, "setup_s", ph.setup_s);
	json_double(&j, "timed_s", ph.timed_s);
	json_double(&j, "final_s", ph.final_s);
	json_double(&j, "total_s", ph.total_s);
	json_u64(&j, "limit_s", r->r_cfg->timeout_s);
	json_u64(&j, "grace_s", r->r_cfg->timeout_s != 0 ? RUN_GRACE_S : 0);
	json_i64(&j, "final_checks_cut",
	    __atomic_load_n(&r->r_checks_cut, __ATOMIC_RELAXED));
	json_object_end(&j);
	if (error != NULL)
		json_string(&j, "error", error);
	if (r->r_skip != NULL)
		json_string(&j, "skip_reason", r->r_skip);
	json_array_begin(&j, "failures");
	n = MIN(stress_nfailures(), STRESS_MAXFAIL);
	for (k = 0; k < n; k++) {
		const struct stress_failure *fl = stress_failure(k);

		if (fl == NULL)
			continue;
		json_object_begin(&j, NULL);
		json_string(&j, "kind", fl->f_kind);
		json_string(&j, "message", fl->f_message);
		json_string(&j, "replay", r->r_replay);
		if (r->r_det)
			json_u64(&j, "step", fl->f_step);
		if (fl->f_detail[0] != '\0')
			json_string(&j, "detail", fl->f_detail);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_u64(&j, "failures_total", (uint64_t)stress_nfailures());

	/* after the workers ended, and at the end of the timed phase */
	json_uvmexp(&j, "uvmexp", &r->r_vs1.vs_uvmexp);
	if (r->r_ran && r->r_timed)
		json_uvmexp(&j, "uvmexp_timed", &r->r_vst.vs_uvmexp);
	else
		json_null(&j, "uvmexp_timed");
	json_reclaim(&j, r);
	json_processes(&j, r);
	json_swapper(&j);
	stress_sched_json(&j, r);

	ops = sum_workers(r, offsetof(struct stress_worker, w_ops));
	touches = sum_workers(r, offsetof(struct stress_worker, w_touches));
	faults = delta(r, "faults");
	json_object_begin(&j, "metrics");
	json_double(&j, "wall_s", wall);
	json_u64(&j, "ops", ops);
	json_double(&j, "ops_per_s", rate(ops, wall));
	json_u64(&j, "touches", touches);
	json_double(&j, "touches_per_s", rate(touches, wall));
	json_u64(&j, "faults", faults);
	json_double(&j, "faults_per_s", rate(faults, wall));
	json_object_begin(&j, "faults_by_kind_per_s");
	for (i = 0; i < nitems(rate_fields); i++)
		json_double(&j, rate_fields[i], rate(delta(r, rate_fields[i]),
		    wall));
	json_object_end(&j);
	json_i64(&j, "free_min", r->r_ran ? r->r_free_min : 0);
	json_i64(&j, "free_start", r->r_ran ? r->r_vs0.vs_uvmexp.free : 0);
	json_i64(&j, "free_end", r->r_ran ? r->r_free_end : 0);
	json_u64(&j, "segv_delivered",
	    sum_workers(r, offsetof(struct stress_worker, w_segv)));
	json_u64(&j, "oom_kills", STRESS_LD(&r->r_kills));
	json_object_begin(&j, "fail_alloc");
	json_u64(&j, "injected", host_fail_alloc_count());
	json_u64(&j, "pool", host_fail_alloc_count_at(HOST_FAIL_POOL));
	json_u64(&j, "km", host_fail_alloc_count_at(HOST_FAIL_KM));
	json_object_end(&j);
	snprintf(buf, sizeof(buf), "%016llx",
	    (unsigned long long)access_hash(r));
	json_string(&j, "access_hash", buf);

	if (r->r_ran)
		latency(pct, &nlat, hist);
	else {
		memset(pct, 0, sizeof(pct));
		memset(hist, 0, sizeof(hist));
		nlat = 0;
	}
	json_object_begin(&j, "fault_latency_ns");
	json_u64(&j, "p50", pct[0]);
	json_u64(&j, "p90", pct[1]);
	json_u64(&j, "p99", pct[2]);
	json_u64(&j, "max", pct[3]);
	json_u64(&j, "count", nlat);
	json_string(&j, "method", "upper bounds of log2 buckets");
	json_array_begin(&j, "log2_histogram");
	for (k = 0; k < UVM_FAULT_HIST; k++)
		json_u64(&j, NULL, hist[k]);
	json_array_end(&j);
	json_object_end(&j);

	memset(&ms, 0, sizeof(ms));
	memset(&ts, 0, sizeof(ts));
	if (r->r_ran) {
		host_mmu_get_stats(&ms);
		host_trap_get_stats(&ts);
	}
	json_object_begin(&j, "mmu");
	json_i64(&j, "live", ms.live);
	json_i64(&j, "peak", ms.peak);
	json_i64(&j, "budget", ms.budget);
	json_i64(&j, "max_map_count", ms.max_map_count);
	json_u64(&j, "mmap", ms.nmap);
	json_u64(&j, "mprotect", ms.nprotect);
	json_u64(&j, "unmap", ms.nunmap);
	json_u64(&j, "evictions", ms.nevict);
	json_u64(&j, "pmap_fixups", ms.nfixup);
	json_double(&j, "host_mmap_s", (double)ms.mmap_ns / 1e9);
	json_string(&j, "mod_emulation", ms.mod_emulation == HOST_MOD_TRAP ?
	    "trap" : "content");
	json_u64(&j, "baselines", ms.nbaseline);
	json_u64(&j, "content_checks", ms.nsumcheck);
	json_u64(&j, "content_modified", ms.nsumdirty);
	json_u64(&j, "opened_ahead", ms.nwalk);
	json_u64(&j, "opened_in_runs", ms.nmaprun);
	json_u64(&j, "closed_with_a_neighbour", ms.ngoing);
	json_u64(&j, "windows_with_holes", ms.nwinholes);
	json_u64(&j, "windows_reserved", ms.nwinreserved);
	json_object_end(&j);
	json_object_begin(&j, "trap");
	json_u64(&j, "traps", ts.ntraps);
	json_u64(&j, "fixups", ts.nfixups);
	json_u64(&j, "vm_faults", ts.nfaults);
	json_u64(&j, "sigsegv", ts.nsegv);
	json_object_end(&j);

	json_breakdown(&j, r);
	json_object_begin(&j, "audit");
	json_u64(&j, "runs", r->r_audit_runs);
	json_u64(&j, "checks", r->r_audit_checks);
	json_u64(&j, "violations", r->r_audit_violations);
	json_object_end(&j);
	json_object_begin(&j, "witness");
	json_bool(&j, "enabled", witness_enabled());
	json_u64(&j, "inversions", witness_inversions());
	json_object_end(&j);
	json_object_begin(&j, "tsan");
	json_bool(&j, "enabled", sanitizer_tsan());
	json_u64(&j, "reports", (uint64_t)sanitizer_reports());
	json_object_end(&j);
	json_object_begin(&j, "watchdog");
	json_u64(&j, "seconds", cfg->watchdog_s);
	json_u64(&j, "checks", host_watchdog_nchecks());
	json_u64(&j, "hangs", host_watchdog_nhangs());
	json_object_end(&j);

	json_array_begin(&j, "injected");
	for (k = 0; k < r->r_ninj; k++) {
		const struct stress_injection *inj = &r->r_inj[k];

		json_object_begin(&j, NULL);
		json_u64(&j, "asid", inj->inj_asid);
		json_stringf(&j, "va", "%#lx", (unsigned long)inj->inj_va);
		json_stringf(&j, "pa", "%#llx", (unsigned long long)inj->inj_pa);
		json_stringf(&j, "old", "%#llx", (unsigned long long)inj->inj_old);
		json_stringf(&j, "new", "%#llx", (unsigned long long)inj->inj_new);
		json_double(&j, "at_s", inj->inj_at_s);
		json_object_end(&j);
	}
	json_array_end(&j);

	json_array_begin(&j, "per_lwp");
	for (k = 0; r->r_workers != NULL && k < r->r_nworkers; k++) {
		const struct stress_worker *w = &r->r_workers[k];

		json_object_begin(&j, NULL);
		json_i64(&j, "lwp", k);
		json_u64(&j, "ops", __atomic_load_n(&w->w_ops, __ATOMIC_RELAXED));
		json_u64(&j, "touches",
		    __atomic_load_n(&w->w_touches, __ATOMIC_RELAXED));
		json_u64(&j, "segv", __atomic_load_n(&w->w_segv, __ATOMIC_RELAXED));
		json_bool(&j, "killed", stress_killed(w));
		snprintf(buf, sizeof(buf), "%016llx",
		    (unsigned long long)STRESS_LD(&w->w_hash));
		json_string(&j, "access_hash", buf);
		json_object_end(&j);
	}
	json_array_end(&j);

	json_object_begin(&j, "scenario");
	for (k = 0; k < r->r_nmetrics; k++) {
		const struct stress_metric *m = &r->r_metrics[k];

		if (m->m_type == SM_U64)
			json_u64(&j, m->m_name, m->m_u64);
		else if (m->m_type == SM_DOUBLE)
			json_double(&j, m->m_name, m->m_double);
		else
			json_string(&j, m->m_name, m->m_str);
	}
	json_object_end(&j);
	json_object_end(&j);		/* metrics */
	json_object_end(&j);
	return json_finish(&j);
}
