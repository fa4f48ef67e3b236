/*
 * stress/integrity.c: page signatures, their checks, the failure report
 * that names the page, and the corruption injector (see integrity.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/arena.h"
#include "integrity.h"
#include "runner.h"

#define PAGE_WORDS	(PAGE_SIZE / sizeof(uint64_t))
#define INJECT_MASK	0x00000000ff00ff00ull	/* bits flipped in word 2 */

/* local prototypes */
static uint64_t sig_mix(uint64_t a, uint64_t b, uint64_t c);
static bool sig_valid(const uint64_t w[SIG_WORDS], uint64_t tail);

static uint64_t
sig_mix(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);

	h ^= c * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 31;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 29;
	return h;
}

static bool
sig_valid(const uint64_t w[SIG_WORDS], uint64_t tail)
{
	return (w[0] >> 32) == SIG_MAGIC && w[3] == sig_mix(w[0], w[1], w[2]) &&
	    tail == ~w[3];
}

int
integ_ledger_init(struct integ_ledger *lg, uint32_t asid, pmap_t pmap,
    int npages)
{
	lg->il_asid = asid;
	lg->il_pmap = pmap;
	lg->il_npages = npages;
	lg->il_pages = calloc((size_t)npages, sizeof(*lg->il_pages));
	return lg->il_pages == NULL ? ENOMEM : 0;
}

void
integ_ledger_fini(struct integ_ledger *lg)
{
	free(lg->il_pages);
	lg->il_pages = NULL;
	lg->il_npages = 0;
}

void
integ_set_va(struct integ_ledger *lg, int i, vaddr_t va)
{
	struct integ_page *ip = &lg->il_pages[i];

	STRESS_ST(&ip->ip_va, va);
	STRESS_ST(&ip->ip_gen, 0);
	ip->ip_nwrites = 0;
	ip->ip_first_op = ip->ip_last_op = 0;
}

void
integ_wrote(struct integ_ledger *lg, int i, uint32_t gen, uint64_t op)
{
	struct integ_page *ip = &lg->il_pages[i];

	if (ip->ip_nwrites++ == 0)
		ip->ip_first_op = op;
	ip->ip_last_op = op;
	STRESS_ST(&ip->ip_gen, gen);
}

void
integ_write(volatile uint64_t *p, uint32_t asid, vaddr_t va, uint32_t gen)
{
	uint64_t w0 = (uint64_t)SIG_MAGIC << 32 | asid, chk;

	chk = sig_mix(w0, va, gen);
	/*
	 * Relaxed atomic stores: other LWPs of the process may read the page
	 * meanwhile (mix's peek), which is no data race of ours to report.
	 */
	__atomic_store_n((uint64_t *)(uintptr_t)&p[0], w0, __ATOMIC_RELAXED);
	__atomic_store_n((uint64_t *)(uintptr_t)&p[1], va, __ATOMIC_RELAXED);
	__atomic_store_n((uint64_t *)(uintptr_t)&p[2], gen, __ATOMIC_RELAXED);
	__atomic_store_n((uint64_t *)(uintptr_t)&p[3], chk, __ATOMIC_RELAXED);
	__atomic_store_n((uint64_t *)(uintptr_t)&p[PAGE_WORDS - 1], ~chk,
	    __ATOMIC_RELAXED);
}

bool
integ_check(const volatile uint64_t *p, uint32_t asid, vaddr_t va,
    uint32_t gen, struct integ_bad *bad)
{
	uint64_t w[SIG_WORDS], tail, w0 = (uint64_t)SIG_MAGIC << 32 | asid;
	size_t i;

	if (gen == 0) {
		for (i = 0; i < PAGE_WORDS; i++)
			if (p[i] != 0)
				break;
		if (i == PAGE_WORDS)
			return true;
		bad->ib_off = i * sizeof(uint64_t);
	} else {
		for (i = 0; i < SIG_WORDS; i++)
			w[i] = p[i];
		tail = p[PAGE_WORDS - 1];
		if (w[0] == w0 && w[1] == va && w[2] == gen &&
		    w[3] == sig_mix(w0, va, gen) && tail == ~w[3])
			return true;
		bad->ib_off = 0;
	}
	for (i = 0; i < SIG_WORDS; i++)
		bad->ib_words[i] = p[i];
	bad->ib_tail = p[PAGE_WORDS - 1];
	bad->ib_va = va;
	bad->ib_want = gen;
	return false;
}

/* integ_found_sig: see integrity.h. */
bool
integ_found_sig(const struct integ_bad *bad, uint32_t *asid, uint32_t *gen)
{
	if (!sig_valid(bad->ib_words, bad->ib_tail))
		return false;
	*asid = (uint32_t)bad->ib_words[0];
	*gen = (uint32_t)bad->ib_words[2];
	return true;
}

/* integ_describe: see integrity.h. */
void
integ_describe(const struct integ_bad *bad, uint32_t asid, char *buf,
    size_t len)
{
	const uint64_t *w = bad->ib_words;
	uint32_t fasid = (uint32_t)w[0];

	if (sig_valid(w, bad->ib_tail)) {
		if (fasid == asid && w[1] == bad->ib_va) {
			if (bad->ib_want == 0)
				snprintf(buf, len, "gen %" PRIu64 " of this "
				    "page where zeroes were due (not zeroed, "
				    "or an old page came back)", w[2]);
			else if (w[2] < bad->ib_want)
				snprintf(buf, len, "gen %" PRIu64 ", an older "
				    "generation of this page (stale: a write "
				    "was lost)", w[2]);
			else
				snprintf(buf, len, "gen %" PRIu64 ", newer "
				    "than ever written", w[2]);
		} else
			snprintf(buf, len, "the signature of asid %u va %#lx "
			    "gen %" PRIu64 " (%s)", fasid, (unsigned long)w[1],
			    w[2], fasid == asid ? "another page of this space"
			    : "a page of another space");
		return;
	}
	if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 &&
	    bad->ib_tail == 0) {
		if (bad->ib_want != 0)
			snprintf(buf, len, "zeroes (the page lost its "
			    "contents)");
		else
			snprintf(buf, len, "nonzero byte at offset %zu",
			    bad->ib_off);
		return;
	}
	if ((w[0] >> 32) == SIG_MAGIC && w[3] == sig_mix(w[0], w[1], w[2]))
		snprintf(buf, len, "a torn page: header of asid %u va %#lx gen "
		    "%" PRIu64 " but last word %#" PRIx64, fasid,
		    (unsigned long)w[1], w[2], bad->ib_tail);
	else if ((w[0] >> 32) == SIG_MAGIC)
		snprintf(buf, len, "a corrupt signature (asid %u va %#lx gen "
		    "%#" PRIx64 ", check word mismatch: flipped bits)", fasid,
		    (unsigned long)w[1], w[2]);
	else if (bad->ib_want == 0)
		snprintf(buf, len, "nonzero byte at offset %zu", bad->ib_off);
	else
		snprintf(buf, len, "garbage (no signature)");
}

void
integ_report(struct stress_worker *w, const struct integ_ledger *lg,
    const struct integ_bad *bad)
{
	const struct integ_page *ip = &lg->il_pages[bad->ib_page];
	char found[256], pastr[32], detail[1024];
	paddr_t pa;

	if (pmap_extract(lg->il_pmap, bad->ib_va, &pa))
		snprintf(pastr, sizeof(pastr), "%#llx",
		    (unsigned long long)trunc_page(pa));
	else
		snprintf(pastr, sizeof(pastr), "(not mapped)");
	integ_describe(bad, lg->il_asid, found, sizeof(found));
	if (ip->ip_nwrites == 0)
		snprintf(detail, sizeof(detail),
		    "  history: never written since mapped (zero-fill expected); "
		    "lwp %d at op %" PRIu64 ", %.3f s into the run\n",
		    w->w_index, STRESS_LD(&w->w_ops),
		    stress_elapsed_s(w->w_run));
	else
		snprintf(detail, sizeof(detail),
		    "  history: %u writes since mapped (gen 1..%u), first at "
		    "op %" PRIu64 ", last at op %" PRIu64 "; lwp %d now at op "
		    "%" PRIu64 ", %.3f s into the run\n",
		    ip->ip_nwrites, bad->ib_want, ip->ip_first_op,
		    ip->ip_last_op, w->w_index, STRESS_LD(&w->w_ops),
		    stress_elapsed_s(w->w_run));
	snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
	    "  words: %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64
	    " ... last %016" PRIx64 "\n", bad->ib_words[0], bad->ib_words[1],
	    bad->ib_words[2], bad->ib_words[3], bad->ib_tail);
	stress_fail(FK_INTEGRITY, detail, "asid %u va %#lx pa %s page %d (%s): "
	    "expected %s%u, found %s", lg->il_asid, (unsigned long)bad->ib_va,
	    pastr, bad->ib_page, bad->ib_when, bad->ib_want ? "gen " :
	    "zeroes, gen ", bad->ib_want, found);
}

void
integ_report_lost(struct stress_worker *w, const struct integ_ledger *lg,
    vaddr_t va, int access)
{
	const struct integ_page *ip = NULL;
	char detail[512];
	int i, idx = -1;

	va = trunc_page(va);
	for (i = 0; lg != NULL && i < lg->il_npages; i++)
		if (lg->il_pages[i].ip_va == va) {
			idx = i;
			ip = &lg->il_pages[i];
			break;
		}
	if (ip != NULL)
		snprintf(detail, sizeof(detail), "  history: %u writes since "
		    "mapped (last gen %u), first at op %" PRIu64 ", last at op "
		    "%" PRIu64 "; lwp %d now at op %" PRIu64 ", %.3f s into the "
		    "run\n", ip->ip_nwrites, ip->ip_gen, ip->ip_first_op,
		    ip->ip_last_op, w->w_index, STRESS_LD(&w->w_ops),
		    stress_elapsed_s(w->w_run));
	else
		detail[0] = '\0';
	stress_fail(FK_INTEGRITY, detail, "asid %u va %#lx page %d: lost: the "
	    "VM refused a %s fault with EIO (its swap slot could not be read "
	    "back); expected gen %u", w->w_asid, (unsigned long)va, idx,
	    access == VM_PROT_WRITE ? "write" : "read",
	    ip != NULL ? ip->ip_gen : 0);
}

int
integ_inject(struct stress_run *r, struct host_rng *rng,
    struct stress_injection *inj)
{
	int tries, error = ENOENT;

	mutex_enter(&r->r_kill_lock);
	for (tries = 0; tries < 1024; tries++) {
		struct stress_worker *w = &r->r_workers[host_rng_below(rng,
		    (uint64_t)r->r_nworkers)];
		struct integ_ledger *lg = w->w_ledger;
		struct integ_page *ip;
		uint64_t *p;
		vaddr_t va;
		paddr_t pa;

		if (lg == NULL || lg->il_npages == 0 || stress_killed(w))
			continue;
		ip = &lg->il_pages[host_rng_below(rng, (uint64_t)lg->il_npages)];
		va = STRESS_LD(&ip->ip_va);
		if (va == 0 || STRESS_LD(&ip->ip_gen) == 0)
			continue;
		if (!pmap_extract(lg->il_pmap, va, &pa))
			continue;
		pa = trunc_page(pa);
		p = host_arena_direct(pa);
		inj->inj_asid = lg->il_asid;
		inj->inj_va = va;
		inj->inj_pa = pa;
		inj->inj_old = __atomic_fetch_xor(&p[2], INJECT_MASK,
		    __ATOMIC_RELAXED);
		inj->inj_new = inj->inj_old ^ INJECT_MASK;
		inj->inj_at_s = stress_elapsed_s(r);
		error = 0;
		break;
	}
	mutex_exit(&r->r_kill_lock);
	return error;
}

bool
integ_injection_lost(const struct stress_injection *inj)
{
	uint64_t *p = host_arena_direct(inj->inj_pa);

	return __atomic_load_n(&p[2], __ATOMIC_RELAXED) != inj->inj_new;
}
