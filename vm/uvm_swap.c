/*
 * vm/uvm_swap.c: one swap device: slot map and swap I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/disk.h"
#include "uvm.h"
#include "uvm_pager.h"
#include "uvm_swap.h"

struct swapdev {
	struct host_disk	*sd_disk;	/* [I] */
	int			sd_npages;	/* [I] slots */
	uint64_t		*sd_bitmap;	/* [s] 1 = in use */
	uint64_t		*sd_badmap;	/* [s] 1 = marked bad (the
						   auditor's: a bad slot
						   also stays in use) */
	int			sd_npginuse;	/* [s] */
	int			sd_npgbad;	/* [s] */
	int			sd_cursor;	/* [s] next-fit start */
};

#define SWAP_READ_TRIES	16	/* reads of a slot before its data is lost */

static kmutex_t uvm_swap_data_lock;	/* spin, IPL_VM: "swap data lock" */
static struct swapdev *swapdev;		/* [I] while attached */
static char swap_err[1100];

#define MAP_ISSET(m, i)		(((m)[(i) / 64] >> ((i) % 64)) & 1)
#define BIT_ISSET(sd, i)	MAP_ISSET((sd)->sd_bitmap, i)
#define BIT_SET(sd, i)		((sd)->sd_bitmap[(i) / 64] |= 1ull << ((i) % 64))
#define BIT_CLR(sd, i)		((sd)->sd_bitmap[(i) / 64] &= ~(1ull << ((i) % 64)))
#define BAD_SET(sd, i)		((sd)->sd_badmap[(i) / 64] |= 1ull << ((i) % 64))

const char *
uvm_swap_error(void)
{
	return swap_err;
}

int
uvm_swap_attach(const char *path, uint64_t npages, int diskflags)
{
	struct swapdev *sd;
	int error;

	KASSERT(swapdev == NULL);
	swap_err[0] = '\0';
	if (npages < SWCLUSTPAGES || npages > INT32_MAX / 2) {
		snprintf(swap_err, sizeof(swap_err), "swap of %llu pages: it "
		    "must hold at least one cluster (%d pages, %lu KiB)",
		    (unsigned long long)npages, SWCLUSTPAGES,
		    SWCLUSTPAGES * PAGE_SIZE / 1024);
		return EINVAL;
	}
	sd = calloc(1, sizeof(*sd));
	if (sd == NULL)
		return ENOMEM;
	sd->sd_bitmap = calloc(howmany(npages, 64), sizeof(uint64_t));
	sd->sd_badmap = calloc(howmany(npages, 64), sizeof(uint64_t));
	if (sd->sd_bitmap == NULL || sd->sd_badmap == NULL) {
		free(sd->sd_bitmap);
		free(sd->sd_badmap);
		free(sd);
		return ENOMEM;
	}
	error = host_disk_open(path, npages, diskflags, 1, &sd->sd_disk);
	if (error != 0) {
		snprintf(swap_err, sizeof(swap_err), "%s", host_disk_error());
		free(sd->sd_bitmap);
		free(sd->sd_badmap);
		free(sd);
		return error;
	}
	sd->sd_npages = (int)npages;
	mutex_init_class(&uvm_swap_data_lock, MUTEX_DEFAULT, IPL_VM,
	    "swap_data");
	uvmexp.nswapdev = 1;
	uvmexp.swpages = (int)npages;
	__atomic_store_n(&uvmexp.swpginuse, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&uvmexp.swpgonly, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&swapdev, sd, __ATOMIC_RELEASE);
	return 0;
}

void
uvm_swap_detach(void)
{
	struct swapdev *sd = swapdev;

	if (sd == NULL)
		return;
	host_disk_close(sd->sd_disk);
	__atomic_store_n(&swapdev, NULL, __ATOMIC_RELEASE);
	uvmexp.nswapdev = 0;
	uvmexp.swpages = 0;
	free(sd->sd_bitmap);
	free(sd->sd_badmap);
	free(sd);
}

struct host_disk *
uvm_swap_disk(void)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);

	return sd != NULL ? sd->sd_disk : NULL;
}

/* n free slots in a row from i?  => swap data lock held */
static bool
swap_run_free(struct swapdev *sd, int i, int n)
{
	int j;

	if (i + n > sd->sd_npages)
		return false;
	for (j = i; j < i + n; j++)
		if (BIT_ISSET(sd, j))
			return false;
	return true;
}

/* First fit of n slots from the cursor, wrapping once. => locked */
static int
swap_find(struct swapdev *sd, int n)
{
	int i, start = sd->sd_cursor, tries;

	for (tries = 0, i = start; tries < sd->sd_npages; tries++, i++) {
		if (i + n > sd->sd_npages) {
			tries += sd->sd_npages - i - 1;
			i = -1;
			continue;
		}
		if (swap_run_free(sd, i, n))
			return i;
	}
	return -1;
}

int
uvm_swap_alloc(int *nslots, bool lessok)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);
	int n = *nslots, i, j;

	KASSERT(n > 0);
	if (sd == NULL)
		return 0;
	mtx_enter(&uvm_swap_data_lock);
	for (;;) {
		if (sd->sd_npages - sd->sd_npginuse >= n &&
		    (i = swap_find(sd, n)) >= 0)
			break;
		if (!lessok || n == 1) {
			mtx_leave(&uvm_swap_data_lock);
			return 0;
		}
		n /= 2;
	}
	for (j = i; j < i + n; j++)
		BIT_SET(sd, j);
	sd->sd_npginuse += n;
	sd->sd_cursor = (i + n) % sd->sd_npages;
	uvmexp_add(swpginuse, n);
	mtx_leave(&uvm_swap_data_lock);
	*nslots = n;
	return i + 1;
}

void
uvm_swap_free(int startslot, int nslots)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);
	int i;

	if (nslots == 0)
		return;
	KASSERTMSG(sd != NULL, "uvm_swap_free: no swap device");
	KASSERTMSG(startslot >= 1 && nslots > 0 &&
	    startslot - 1 + nslots <= sd->sd_npages,
	    "uvm_swap_free: bad slots %d+%d", startslot, nslots);
	mtx_enter(&uvm_swap_data_lock);
	for (i = startslot - 1; i < startslot - 1 + nslots; i++) {
		KASSERTMSG(BIT_ISSET(sd, i), "uvm_swap_free: slot %d is free",
		    i + 1);
		BIT_CLR(sd, i);
	}
	sd->sd_npginuse -= nslots;
	uvmexp_add(swpginuse, -nslots);
	mtx_leave(&uvm_swap_data_lock);
}

void
uvm_swap_markbad(int startslot, int nslots)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);
	int i;

	KASSERT(sd != NULL && startslot >= 1 && nslots > 0 &&
	    startslot - 1 + nslots <= sd->sd_npages);
	mtx_enter(&uvm_swap_data_lock);
	/* they stay allocated: nobody gets them again */
	sd->sd_npgbad += nslots;
	/* which ones, for the auditor (uvm_swap_slot_bad) */
	for (i = startslot - 1; i < startslot - 1 + nslots; i++)
		BAD_SET(sd, i);
	mtx_leave(&uvm_swap_data_lock);
}

/*
 * uvm_swapisfull: [deviation: NetBSD's rule (uvm_swapisfull_factor 99):
 * full once 99% of the usable slots hold pages that live only in swap,
 * not OpenBSD's exact swpgonly == swpages.  With every slot in use and a
 * few of them held by resident pages, the pagedaemon can page nothing out
 * and a fault waiting for memory waits for good: mix with --ram 16M --ws
 * 64M --swap 32M hung in 6 runs of 6 (swpgonly 8181 of 8192, the
 * pagedaemon scanning without end), where a fault must fail with ENOMEM.]
 */
bool
uvm_swapisfull(void)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);
	bool full;

	if (sd == NULL)
		return true;
	mtx_enter(&uvm_swap_data_lock);
	KASSERT(uvmexp_read(swpgonly) <= uvmexp.swpages);
	full = (uint64_t)uvmexp_read(swpgonly) * 100 / 99 >=
	    (uint64_t)(uvmexp.swpages - sd->sd_npgbad);
	mtx_leave(&uvm_swap_data_lock);
	return full;
}

int
uvm_swap_inuse(void)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);
	int n;

	if (sd == NULL)
		return 0;
	mtx_enter(&uvm_swap_data_lock);
	n = sd->sd_npginuse;
	mtx_leave(&uvm_swap_data_lock);
	return n;
}

int
uvm_swap_nbad(void)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);
	int n;

	if (sd == NULL)
		return 0;
	mtx_enter(&uvm_swap_data_lock);
	n = sd->sd_npgbad;
	mtx_leave(&uvm_swap_data_lock);
	return n;
}

/*
 * swap_slot_state: auditor accessor: is slot in use, is it bad.
 * => slot 1..swpages, a device attached (else neither); takes the swap
 *    data lock; never sleeps
 */
static void
swap_slot_state(int slot, bool *inuse, bool *bad)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);

	*inuse = *bad = false;
	if (sd == NULL || slot < 1 || slot > sd->sd_npages)
		return;
	mtx_enter(&uvm_swap_data_lock);
	*inuse = MAP_ISSET(sd->sd_bitmap, slot - 1);
	*bad = MAP_ISSET(sd->sd_badmap, slot - 1);
	mtx_leave(&uvm_swap_data_lock);
}

/* uvm_swap_slot_allocated: auditor accessor, see uvm_swap.h. */
bool
uvm_swap_slot_allocated(int slot)
{
	bool inuse, bad;

	swap_slot_state(slot, &inuse, &bad);
	return inuse;
}

/* uvm_swap_slot_bad: auditor accessor, see uvm_swap.h. */
bool
uvm_swap_slot_bad(int slot)
{
	bool inuse, bad;

	swap_slot_state(slot, &inuse, &bad);
	return bad;
}

static void
swap_fill_buf(struct buf *bp, int flags, int swslot, struct vm_page **pgs,
    int npages)
{
	int i;

	bp->b_flags = flags;
	bp->b_blkno = (uint64_t)(swslot - 1);
	bp->b_npages = npages;
	for (i = 0; i < npages; i++) {
		bp->b_iov[i].iov_base = pgs[i] == NULL ? NULL :
		    host_arena_direct(VM_PAGE_TO_PHYS(pgs[i]));	/* a hole */
		bp->b_iov[i].iov_len = PAGE_SIZE;
	}
}

int
uvm_swap_put(int swslot, struct vm_page **ppsp, int npages, int flags)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);
	struct uvm_aiobuf *ab;
	int bflags, error;

	KASSERT(sd != NULL && swslot >= 1 && npages > 0 &&
	    npages <= BUF_MAXPAGES);
	ab = uvm_aiobuf_get();
	if (ab == NULL)
		return VM_PAGER_AGAIN;
	memcpy(ab->ab_pages, ppsp, sizeof(ppsp[0]) * (size_t)npages);
	ab->ab_swslot = swslot;
	bflags = B_WRITE;
	if (curproc != NULL && curproc ==
	    __atomic_load_n(&uvm.pagedaemon_proc, __ATOMIC_ACQUIRE))
		bflags |= B_PDAEMON;
	if ((flags & PGO_SYNCIO) == 0)
		bflags |= B_ASYNC | B_CALL;
	swap_fill_buf(&ab->ab_buf, bflags, swslot, ppsp, npages);
	if (bflags & B_ASYNC) {
		ab->ab_buf.b_iodone = uvm_aio_biodone;
		host_disk_strategy(sd->sd_disk, &ab->ab_buf);
		return VM_PAGER_PEND;
	}
	error = host_disk_io(sd->sd_disk, &ab->ab_buf);
	uvm_aiobuf_put(ab);
	return error == 0 ? VM_PAGER_OK : VM_PAGER_ERROR;
}

int
uvm_swap_get(struct vm_page *pg, int swslot, int flags)
{
	return uvm_swap_getpages(&pg, 1, swslot, flags);
}

int
uvm_swap_getpages(struct vm_page **pgs, int npages, int swslot, int flags)
{
	struct swapdev *sd = __atomic_load_n(&swapdev, __ATOMIC_ACQUIRE);
	struct uvm_aiobuf *ab;
	int error = 0, i, tries, n = 0;

	KASSERT(sd != NULL && npages >= 1 && npages <= BUF_MAXPAGES &&
	    swslot >= 1 && swslot + npages - 1 <= sd->sd_npages);
	(void)flags;	/* always synchronous */
	for (i = 0; i < npages; i++) {
		if (pgs[i] == NULL)
			continue;
		KASSERT(pg_flags_load(pgs[i]) & PG_BUSY);
		n++;
	}
	KASSERT(n > 0 && pgs[0] != NULL && pgs[npages - 1] != NULL);
	ab = uvm_aiobuf_get();
	if (ab == NULL)
		return VM_PAGER_AGAIN;
	uvmexp_inc(nswget);
	/* these pages are (about to be) no longer only in swap */
	KASSERT(uvmexp_read(swpgonly) >= n);
	uvmexp_add(swpgonly, -n);
	/*
	 * A read that fails may succeed again (a transient error); one whose
	 * data fails its checksum will not: that slot is not what was
	 * written there.  A cluster is read once: the caller retries the
	 * page it needs on its own, and only that one can be declared lost.
	 */
	for (tries = 0; tries < (npages == 1 ? SWAP_READ_TRIES : 1); tries++) {
		swap_fill_buf(&ab->ab_buf, B_READ, swslot, pgs, npages);
		error = host_disk_io(sd->sd_disk, &ab->ab_buf);
		if (error == 0 || (ab->ab_buf.b_flags & B_CORRUPT))
			break;
	}
	uvm_aiobuf_put(ab);
	if (error != 0) {
		/* still only in swap */
		uvmexp_add(swpgonly, n);
		return VM_PAGER_ERROR;
	}
	uvmexp_add(pgswapin, n);
	uvmexp_inc(pageins);
	return VM_PAGER_OK;
}
