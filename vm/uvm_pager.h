/*
 * vm/uvm_pager.h: the pager interface of objects.
 */
#ifndef VM_UVM_PAGER_H
#define VM_UVM_PAGER_H

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
	/* pgo_put: write pages out (reclaim issue). */
	int	(*pgo_put)(struct uvm_object *, voff_t start, voff_t end,
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

#endif /* VM_UVM_PAGER_H */
