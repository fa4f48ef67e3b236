/*
 * stress/integrity.h: the page-integrity oracle.
 *
 * Every user page a workload writes carries a signature of (address
 * space id, va, generation):
 *
 *	word 0	SIG_MAGIC << 32 | asid
 *	word 1	va
 *	word 2	generation (1, 2, ...)
 *	word 3	check = mix(word 0, word 1, word 2)
 *	last	~check (the page's last word: a torn or partial page shows)
 *
 * The worker keeps the expected generation of each of its pages in a
 * ledger (0: never written, so the page must read all zero) and checks
 * every read.  A mismatch names the page: asid, va, pa (pmap_extract),
 * expected and found, and what the found words are (zeroes, another
 * page's signature, an older generation of this one, garbage).
 *
 * The ledger is written by its worker only; the fault injector (harness
 * thread) reads ip_gen and ip_va with relaxed atomics.
 */
#ifndef STRESS_INTEGRITY_H
#define STRESS_INTEGRITY_H

#include "host/pmap.h"

struct stress_worker;
struct stress_run;
struct stress_injection;
struct host_rng;

#define SIG_MAGIC	0x55564d53u	/* "UVMS" */
#define SIG_WORDS	4

struct integ_page {
	uint32_t	ip_gen;		/* [a] expected generation */
	uint32_t	ip_nwrites;	/* [o] writes since mapped */
	vaddr_t		ip_va;		/* [a] where it is mapped, 0: not */
	uint64_t	ip_first_op;	/* [o] op of the first write */
	uint64_t	ip_last_op;	/* [o] op of the last write */
};

struct integ_ledger {
	uint32_t		il_asid;	/* [I] */
	pmap_t			il_pmap;	/* [I] */
	int			il_npages;	/* [I] */
	struct integ_page	*il_pages;	/* [I] the array */
};

/* What a failed check saw (filled in user mode, reported afterwards). */
struct integ_bad {
	int		ib_page;	/* ledger index */
	vaddr_t		ib_va;
	uint32_t	ib_want;	/* expected generation (0: zeroes) */
	uint64_t	ib_words[SIG_WORDS];
	uint64_t	ib_tail;
	size_t		ib_off;		/* first nonzero byte (zero check) */
	const char	*ib_when;	/* "read", "read-back", "final sweep" */
};

int integ_ledger_init(struct integ_ledger *lg, uint32_t asid, pmap_t pmap,
    int npages);
void integ_ledger_fini(struct integ_ledger *lg);

/*
 * integ_write: sign the page at host address p (va of asid) with gen.
 * integ_check: does the page hold exactly what the ledger expects (gen 0:
 * all zero)?  If not, *bad describes it.
 * => user mode (they touch the page; a refused fault unwinds them)
 */
void integ_write(volatile uint64_t *p, uint32_t asid, vaddr_t va,
    uint32_t gen);
bool integ_check(const volatile uint64_t *p, uint32_t asid, vaddr_t va,
    uint32_t gen, struct integ_bad *bad);

/*
 * integ_describe: what the words a failed check found are, in words
 * (for a page expected in address space asid).  integ_found_sig: they
 * are a whole, valid signature: of which space and generation.
 */
void integ_describe(const struct integ_bad *bad, uint32_t asid, char *buf,
    size_t len);
bool integ_found_sig(const struct integ_bad *bad, uint32_t *asid,
    uint32_t *gen);

/* Ledger updates by the owner. */
void integ_set_va(struct integ_ledger *lg, int i, vaddr_t va);
void integ_wrote(struct integ_ledger *lg, int i, uint32_t gen, uint64_t op);

/*
 * integ_report: record the failure for *bad, naming the page.
 * => kernel mode (pmap_extract), the owner's thread
 */
void integ_report(struct stress_worker *w, const struct integ_ledger *lg,
    const struct integ_bad *bad);

/*
 * integ_report_lost: a fault on va (access) of the worker's space was
 * refused with EIO: the page's data is lost (its swap slot could not be
 * read back).  Records the failure naming the page (lg may be NULL).
 * => kernel mode, the owner's thread
 */
void integ_report_lost(struct stress_worker *w, const struct integ_ledger *lg,
    vaddr_t va, int access);

/*
 * integ_inject: flip bits in a page some worker has written, through the
 * direct map, behind the VM's back.  => 0 and *inj, or ENOENT if no
 * written, resident page was found.  => harness thread; takes
 * r_kill_lock (a killed worker's address space is gone)
 */
int integ_inject(struct stress_run *r, struct host_rng *rng,
    struct stress_injection *inj);
/* integ_injection_lost: the flipped word was overwritten (not detected). */
bool integ_injection_lost(const struct stress_injection *inj);

#endif /* STRESS_INTEGRITY_H */
