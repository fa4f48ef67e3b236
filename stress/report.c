/*
 * stress/report.c: what a run says at the end: a summary like vmstat -s
 * (the uvmexp counters with their BSD names and meanings), fault rates by
 * kind, fault latency percentiles, MMU and trap counters; the versioned
 * JSON report; the failures with the replay line.
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
#include "host/machine.h"
#include "host/pmap.h"
#include "host/topology.h"
#include "host/trap.h"
#include "host/watchdog.h"
#include "host/witness.h"
#include "runner.h"
#include "vm/uvm.h"
#include "vm/uvm_fault.h"

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
	UX(pgswapout, 'a', "pages swapped out"),
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

/* local prototypes */
static int *ux_ptr(struct uvmexp *ux, const struct ux_field *f);
static int ux_get(const struct uvmexp *ux, const char *name);
static void snapshot(struct vmstat_snap *vs, bool locked);
static double run_wall_s(const struct stress_run *r);
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

static double
run_wall_s(const struct stress_run *r)
{
	if (!r->r_ran || r->r_t1_ns <= r->r_t0_ns)
		return 0.0;
	return (double)(r->r_t1_ns - r->r_t0_ns) / 1e9;
}

/* A counter's growth over the run (t0 to t1). */
static uint64_t
delta(const struct stress_run *r, const char *name)
{
	int a = ux_get(&r->r_vs0.vs_uvmexp, name);
	int b = ux_get(&r->r_vs1.vs_uvmexp, name);

	return b >= a ? (uint64_t)(b - a) : 0;
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
	if (status == EXIT_PASS)
		return r->r_skip != NULL ? "skip" : "pass";
	return status == EXIT_FAILURE_FOUND ? "fail" : "error";
}

void
report_summary(FILE *f, const struct stress_run *r)
{
	const struct uvmexp *ux = &r->r_vs1.vs_uvmexp;
	double wall = run_wall_s(r);
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
	for (i = 0; i < nitems(ux_fields); i++) {
		const struct ux_field *uf = &ux_fields[i];

		fprintf(f, "%12d %-18s %s\n", *ux_ptr((struct uvmexp *)ux, uf),
		    uf->ux_name, uf->ux_meaning);
	}
	fprintf(f, "rates over the run:\n");
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
	    "evictions, %llu pmap fixups, %.3f s in host mmap/mprotect\n",
	    ms.live, ms.peak, ms.budget, ms.max_map_count,
	    (unsigned long long)ms.nmap, (unsigned long long)ms.nprotect,
	    (unsigned long long)ms.nunmap, (unsigned long long)ms.nevict,
	    (unsigned long long)ms.nfixup, (double)ms.mmap_ns / 1e9);
	fprintf(f, "traps: %llu (%llu fixed up by the pmap, %llu VM faults, "
	    "%llu simulated SIGSEGV)\n", (unsigned long long)ts.ntraps,
	    (unsigned long long)ts.nfixups, (unsigned long long)ts.nfaults,
	    (unsigned long long)ts.nsegv);
	fprintf(f, "oracles: audit %llu runs, %llu checks, %u violations; "
	    "witness %s, %u inversions\n",
	    (unsigned long long)r->r_audit_runs,
	    (unsigned long long)r->r_audit_checks, r->r_audit_violations,
	    witness_enabled() ? "on" : "off", witness_inversions());
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

	if (n == 0)
		return;
	fprintf(f, "uvmstress: FAIL: %d failure%s in %s (seed %llu):\n", n,
	    n == 1 ? "" : "s", r->r_sc->sc_name,
	    (unsigned long long)r->r_cfg->seed);
	for (i = 0; i < MIN(n, STRESS_MAXFAIL); i++) {
		const struct stress_failure *fl = stress_failure(i);

		if (fl != NULL)
			fprintf(f, "  %s: %s\n", fl->f_kind, fl->f_message);
	}
	fprintf(f, "uvmstress: replay with: %s\n", r->r_replay);
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
		if (fl->f_detail[0] != '\0')
			json_string(&j, "detail", fl->f_detail);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_u64(&j, "failures_total", (uint64_t)stress_nfailures());

	json_object_begin(&j, "uvmexp");
	for (i = 0; i < nitems(ux_fields); i++)
		json_i64(&j, ux_fields[i].ux_name,
		    *ux_ptr((struct uvmexp *)&r->r_vs1.vs_uvmexp, &ux_fields[i]));
	json_object_end(&j);

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
	json_object_end(&j);
	json_object_begin(&j, "trap");
	json_u64(&j, "traps", ts.ntraps);
	json_u64(&j, "fixups", ts.nfixups);
	json_u64(&j, "vm_faults", ts.nfaults);
	json_u64(&j, "sigsegv", ts.nsegv);
	json_object_end(&j);

	json_object_begin(&j, "audit");
	json_u64(&j, "runs", r->r_audit_runs);
	json_u64(&j, "checks", r->r_audit_checks);
	json_u64(&j, "violations", r->r_audit_violations);
	json_object_end(&j);
	json_object_begin(&j, "witness");
	json_bool(&j, "enabled", witness_enabled());
	json_u64(&j, "inversions", witness_inversions());
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
