/*
 * vm/uvm_pager.h: the pager interface of objects.
 */
#ifndef VM_UVM_PAGER_H
#define VM_UVM_PAGER_H

#include "host/buf.h"
#include "uvm_object.h"

struct uvm_pagerops {
	void	(*pgo_init)(void);
	void	(*pgo_reference)(struct uvm_object *);
	void	(*pgo_detach)(struct uvm_object *);
	/*
	 * pgo_get: get pages [offset, offset + *npagesp) with pps[centeridx]
	 * the one that must come; flags PGO_LOCKED (object locked, do not
	 * unlock or sleep: return the resident, unbusy pages, busied) or not
	 * (object locked on entry, unlocked on return, may sleep, I/O).
	 */
	int	(*pgo_get)(struct uvm_object *, voff_t offset,
		    struct vm_page **pps, int *npagesp, int centeridx,
		    vm_prot_t access_type, int advice, int flags);
	/* pgo_put: write a cluster of busy pages out (PGO_* flags). */
	int	(*pgo_put)(struct uvm_object *, struct vm_page **pps,
		    int npages, int flags);
	/*
	 * pgo_flush: deactivate or free the pages of [start, stop) (PGO_*
	 * flags: PGO_DEACTIVATE, PGO_FREE, PGO_CLEANIT, PGO_ALLPAGES), for
	 * uvm_map_clean.  => object write-locked (may be dropped and taken
	 * again while waiting for a busy page); false: the range was bad
	 */
	bool	(*pgo_flush)(struct uvm_object *, voff_t start, voff_t stop,
		    int flags);
	/* pgo_flush-style cluster builder (reclaim issue) */
	struct vm_page **(*pgo_mk_pcluster)(struct uvm_object *,
		    struct vm_page **, int *, struct vm_page *, int, voff_t,
		    voff_t);
};

/* pager return codes */
#define VM_PAGER_OK		0
#define VM_PAGER_BAD		1
#define VM_PAGER_FAIL		2
#define VM_PAGER_PEND		3
#define VM_PAGER_ERROR		4
#define VM_PAGER_AGAIN		5
#define VM_PAGER_UNLOCK		6
#define VM_PAGER_REFAULT	7

/* pager flags */
#define PGO_CLEANIT	0x001	/* write dirty pages */
#define PGO_SYNCIO	0x002
#define PGO_DEACTIVATE	0x004
#define PGO_FREE	0x008	/* free pages */
#define PGO_ALLPAGES	0x010	/* every page in the range */
#define PGO_DOACTCLUST	0x020
#define PGO_LOCKED	0x040	/* object locked, do not sleep */
#define PGO_PDFREECLUST	0x080	/* pagedaemon: free the cluster after I/O */
#define PGO_REALLOCSWAP	0x100
#define PGO_NOWAIT	0x200

#define PGO_DONTCARE	((struct vm_page *)-1L)	/* pps[] slot not wanted */

#define UVM_UNKNOWN_OFFSET	((voff_t)-1)

#define SWCLUSTPAGES	16	/* pages in a swap cluster (64 KiB) */

/*
 * An asynchronous pageout: the buf (first, so a struct buf * is one of
 * these) and the pages it writes.
 */
struct uvm_aiobuf {
	struct buf	ab_buf;
	struct vm_page	*ab_pages[BUF_MAXPAGES];	/* busy until done */
	int		ab_swslot;			/* first slot */
};
/* => never sleeps; NULL when no memory (the caller says VM_PAGER_AGAIN) */
struct uvm_aiobuf *uvm_aiobuf_get(void);
void uvm_aiobuf_put(struct uvm_aiobuf *ab);

/*
 * uvm_pager_put: page out a cluster (seed: uvmpd_scan_inactive's
 * contract).  uobj NULL: a swap-backed cluster the pagedaemon built,
 * written at swap slot `start`; otherwise the object's pager builds and
 * writes its own cluster around pg.
 * => IN: page queues locked, pages PG_BUSY; OUT: page queues unlocked
 * => returns VM_PAGER_OK, PEND (async: the aiodone daemon finishes),
 *    AGAIN (transient: pg alone was retried), ERROR, BAD
 * => with PGO_PDFREECLUST, the cluster pages other than pg are unbusied
 *    (and made clean on success) here or at I/O completion
 */
int uvm_pager_put(struct uvm_object *uobj, struct vm_page *pg,
    struct vm_page ***ppsp_ptr, int *npages, int flags, voff_t start,
    voff_t stop);
/*
 * uvm_pager_dropcluster: unbusy the cluster's pages other than pg (and
 * free those released meanwhile, with their aobj swap slots).
 * PGO_PDFREECLUST: after a successful pageout (clean them);
 * PGO_REALLOCSWAP: after a failed one (keep them dirty, where they are on
 * the queues; a swap cluster's pages lose their slots, which the caller
 * frees or marks bad).
 * => page queues unlocked
 * => uobj NULL (a swap cluster): takes each page's owner lock; else the
 *    pages are uobj's and uobj is write-locked by the caller (the
 *    pagedaemon holds it through an object pageout)
 */
void uvm_pager_dropcluster(struct uvm_object *uobj, struct vm_page *pg,
    struct vm_page **ppsp, int *npages, int flags);
/* uvm_aio_biodone: a pageout's I/O is done: queue it for the aiodone
 * daemon.  => "interrupt" context (disk thread) */
void uvm_aio_biodone(struct buf *bp);
/* uvm_aio_aiodone: finish a pageout: unbusy, clean or reactivate pages,
 * free PG_RELEASED ones, wake PG_WANTED waiters.  => aiodone daemon */
void uvm_aio_aiodone(struct buf *bp);
/* uvm_pager_init: the buf pool.  => boot */
void uvm_pager_init(void);

#endif /* VM_UVM_PAGER_H */
