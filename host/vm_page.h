/*
 * host/vm_page.h: struct vm_page, the descriptor of a physical page frame.
 *
 * The machine builds the vm_page array with its RAM (host/arena.c), as a
 * port's bootstrap does with uvm_page_physload(), and the pmap keeps its
 * per-page state (pv list, referenced/modified attributes) in mdpage.
 * The machine-independent fields belong to vm/ (uvm_page.h gives their
 * flags and functions); host/ touches only phys_addr and mdpage.
 *
 * Lock legend (see docs/locking.md):
 *	[I] immutable	[o] owner's lock (object or amap/anon)
 *	[q] uvm.pageqlock	[f] uvm.fpageqlock
 *	[v] the page's pv lock (host/pmap.c)	[a] atomic
 */
#ifndef HOST_VM_PAGE_H
#define HOST_VM_PAGE_H

#include <sys/queue.h>

#include "param.h"

struct pv_entry;
struct uvm_object;
struct vm_anon;

/* The pmap's part of a page (NetBSD: struct vm_page_md). */
struct vm_page_md {
	struct pv_entry		*pvh_list;	/* [v] mappings of this page */
	uint32_t		pvh_attrs;	/* [a] PGA_* */
	uint64_t		pvh_sum;	/* [v] checksum at PGA_BASELINE */
};
#define PGA_REFERENCED	0x1
#define PGA_MODIFIED	0x2
#define PGA_BASELINE	0x4	/* writable unmodified; pvh_sum tells */
#define PGA_GOING	0x8	/* its mappings go soon (pmap_page_going) */

/* A red-black tree link, for vm/'s per-object page tree. */
struct vm_page_rb {
	struct vm_page		*rbe_left, *rbe_right, *rbe_parent;
	int			rbe_color;
};

struct vm_page {
	TAILQ_ENTRY(vm_page)	pageq;		/* [q] active/inactive, [f] free */
	struct vm_page_rb	objt;		/* [o] owner's page tree */
	struct uvm_object	*uobject;	/* [o] owning object */
	struct vm_anon		*uanon;		/* [o] owning anon */
	voff_t			offset;		/* [o] offset in the object */
	uint32_t		pg_flags;	/* [o] PG_*, [q] PQ_* (atomic ops) */
	uint32_t		pg_version;	/* [o] bumped at each reuse */
	unsigned int		wire_count;	/* [q] */
	unsigned int		loan_count;	/* [o] */
	int			free_list;	/* [f] which free list */
	int			owner;		/* [o] pid of PG_BUSY owner (debug) */
	const char		*owner_tag;	/* [o] who busied it (debug) */
	paddr_t			phys_addr;	/* [I] */
	struct vm_page_md	mdpage;		/* pmap */
};

#endif /* HOST_VM_PAGE_H */
