/*
 * host/topology.h: the host's CPU topology (hwloc) and the binding of
 * simulated CPUs to host PUs.
 *
 * This module owns the process's one hwloc topology.  host_topo_init()
 * discovers it once (packages, cores, PUs, NUMA nodes and the PUs' OS
 * indexes); everything else reads it.  It also keeps the binding record:
 * for each simulated CPU, the host PU it was put on and whether the
 * binding held, so that every result can report it (host_topo_json).
 *
 * A missing or failing hwloc is not fatal for the machine: host_topo_init
 * returns an errno value, host_topo_error() says why, the caller prints a
 * notice and runs unbound; host_topo_json still writes a valid object
 * ("available": false and the reason).
 *
 * The version reported is hwloc's API version (HWLOC_API_VERSION,
 * 0xMMmmrr), which moves only when the API does: hwloc 2.9.0 says 2.8.0.
 *
 * PUs are named by their hwloc *logical* index (0..npus-1, the order
 * hwloc enumerates them) unless a name says "os_index": that is the
 * number Linux uses (sched_getcpu, /proc/cpuinfo).
 *
 * Who may call what:
 *  - host_topo_init: any thread, any number of times; the first call does
 *    the work (under topo_lock), later calls return its result.
 *  - queries, host_topo_pu_for_cpu, host_topo_bind_self_to_pu: any thread,
 *    concurrently, once init has returned 0 (hwloc allows concurrent
 *    readers of a loaded topology; binding only reads it).
 *  - host_topo_record_binding, host_topo_json: any thread; the record is
 *    under topo_reclock (a leaf lock, held only to copy a few ints).
 *  - host_topo_fini: once, when no other thread uses this module.  A later
 *    host_topo_init starts over.
 * None of these may be called on the trap path (they may allocate).
 */
#ifndef HOST_TOPOLOGY_H
#define HOST_TOPOLOGY_H

#include "param.h"
#include "cpu.h"		/* MAXCPUS */

/*
 * What the host looks like.  Counts are at least 1 once init succeeded:
 * hwloc may find no package or core objects on some virtual machines,
 * and then the machine counts as one package and each PU as a core.
 */
struct host_topo_summary {
	unsigned	ts_api_compiled;	/* HWLOC_API_VERSION (headers) */
	unsigned	ts_api_runtime;		/* hwloc_get_api_version() */
	int		ts_npackages;		/* packages (sockets) */
	int		ts_ncores;		/* cores */
	int		ts_npus;		/* PUs (hardware threads) */
	int		ts_nnuma;		/* NUMA nodes */
	char		ts_desc[96];		/* "1 package, 2 cores, ..." */
};

/*
 * host_topo_init: discover the host topology (once).
 * => returns 0, or an errno value (the same one on every later call until
 *    host_topo_fini); host_topo_error() then describes the failure.
 * => may sleep (reads sysfs), allocates.
 */
int host_topo_init(void);

/* host_topo_fini: drop the topology and the binding record. */
void host_topo_fini(void);

/* host_topo_available: true once host_topo_init has succeeded. */
bool host_topo_available(void);

/*
 * host_topo_error: why init failed ("" if it did not, or was not tried).
 * => the string stays valid until host_topo_fini.
 */
const char *host_topo_error(void);

/*
 * host_topo_get_summary: copy the summary out.
 * => 0, or ENODEV if the topology is not available.
 */
int host_topo_get_summary(struct host_topo_summary *ts);

/* host_topo_npus: number of host PUs, or 0 if not available. */
int host_topo_npus(void);

/*
 * host_topo_pu_os_index: the OS index (Linux CPU number) of the PU with
 * logical index pu, or -1 if pu is out of range or topology unavailable.
 */
int host_topo_pu_os_index(int pu);

/*
 * host_topo_api_string: format an hwloc API version (0xMMmmrr) as
 * "M.m.r" into buf.  => returns buf.
 */
char *host_topo_api_string(unsigned version, char *buf, size_t len);

/*
 * host_topo_pu_for_cpu: the host PU (logical index) that simulated CPU
 * `cpu` should run on: round robin, cpu % npus.
 * => -1 if cpu < 0 or the topology is not available.
 */
int host_topo_pu_for_cpu(int cpu);

/*
 * host_topo_bind_self_to_pu: bind the calling thread to the PU with
 * logical index pu (its cpuset, singlified), then read the thread's
 * binding back.
 * => 0 if the binding holds; ENODEV (no topology), EINVAL (pu out of
 *    range), the errno of hwloc_set_cpubind/hwloc_get_cpubind (ENOSYS,
 *    EXDEV, EPERM, ...), or EXDEV if the binding read back differs.
 * => safe from several threads at once.
 */
int host_topo_bind_self_to_pu(int pu);

/*
 * host_topo_record_binding: record that simulated CPU `cpu` was put on
 * PU `pu` (logical index, -1 for none) and whether the binding held.
 * A later record for the same cpu replaces the earlier one.
 * => 0, or EINVAL if cpu is not in [0, HOST_TOPO_MAXCPUS).
 * => takes topo_reclock.
 */
#define HOST_TOPO_MAXCPUS	MAXCPUS
int host_topo_record_binding(int cpu, int pu, bool held);

/*
 * host_topo_bind_cpu: the usual sequence for the thread that serves
 * simulated CPU `cpu`: pick its PU (host_topo_pu_for_cpu), bind the
 * calling thread to it and record the outcome.
 * => returns what host_topo_bind_self_to_pu returned (ENODEV, with
 *    nothing recorded, if the topology is not available); *pup (if not
 *    NULL) receives the PU or -1.
 */
int host_topo_bind_cpu(int cpu, int *pup);

/*
 * host_topo_json: write the topology and binding record as one JSON
 * object, NUL-terminated:
 *   {"available":true,"hwloc_api":"2.8.0","hwloc_api_hex":"0x00020800",
 *    "hwloc_api_runtime":"2.8.0",
 *    "packages":1,"cores":2,"pus":2,"numa_nodes":1,
 *    "summary":"1 package, 2 cores, 2 PUs, 1 NUMA node",
 *    "pu_os_index":[0,1],
 *    "binding":[{"cpu":0,"pu":0,"os_index":0,"bound":true}, ...]}
 * or {"available":false,"error":"..."} without a topology.  Strings are
 * escaped; "binding" lists recorded CPUs in CPU order.
 * => 0, or ENOSPC if the object did not fit in len bytes (buf then holds
 *    a NUL-terminated prefix when len > 0; buf may be NULL if len is 0).
 * => *needed (if not NULL) receives the full length, without the NUL.
 */
int host_topo_json(char *buf, size_t len, size_t *needed);

#endif /* HOST_TOPOLOGY_H */
