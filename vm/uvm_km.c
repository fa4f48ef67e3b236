/*
 * vm/uvm_km.c: kernel memory (the seed: NetBSD uvm_km.c 1.13, 1998).
 *
 * The kernel's virtual address space is kernel_map, [VM_MIN_KERNEL_ADDRESS,
 * VM_MAX_KERNEL_ADDRESS) on pmap_kernel(), where a kernel va is its own
 * host address (kernel code dereferences it).  Submaps take over ranges
 * of it at boot (kmem_map, for uvm_km_kmemalloc users); a submap's range
 * is locked by the submap's lock, not kernel_map's.
 *
 * Kernel memory lives in kernel objects, objects that never die
 * (uo_refs == UVM_OBJ_KERN) and span all of kernel VA: uvm.kernel_object
 * (an aobj: pageable kernel memory) and the seed's kmem_object and
 * mb_object (the km pager: wired memory).  The offset of a page in a
 * kernel object is always its kernel va minus vm_map_min(kernel_map).
 * When kernel memory is unmapped its pages are freed at once
 * (uvm_km_pgremove, called by uvm_unmap_remove): there is no backing
 * store to keep them for.
 *
 * Translation of the seed to our machine:
 *  - simple_lock(&uobj->vmobjlock) is rw_enter(uobj->vmobjlock, RW_WRITE);
 *    UVM_UNLOCK_AND_WAIT is uvm_pagewait (which drops the lock);
 *    pg->flags is pg->pg_flags, changed with atomic bit operations.
 *  - Wired kernel pages are entered with pmap_enter(..., PMAP_WIRED) (the
 *    seed's non-PMAP_NEW branch), so they are managed mappings, and are
 *    wired in the VM (uvm_pagewire: on no paging queue, counted in
 *    uvmexp.wired) so that the page accounting adds up.
 *  - Pool pages use the PMAP_MAP_POOLPAGE branch: a RAM page with no
 *    owner, seen through the direct map, no kernel_map entry at all
 *    (which is what lets the map entry pool serve kernel_map itself);
 *    they are counted in uvmexp.kernel.
 *  - uvm_km_free has NetBSD 2008's four arguments (flags unused).
 */
#include <string.h>

#include "host/clock.h"
#include "host/failpoint.h"
#include "host/pool.h"
#include "host/sleepq.h"
#include "uvm.h"
#include "uvm_aobj.h"
#include "uvm_km.h"
#include "uvm_map.h"
#include "uvm_pager.h"

/*
 * global data structures
 */
struct vm_map *kernel_map = NULL;
struct vm_map *kmem_map = NULL;
struct uvm_object *kmem_object = NULL;
struct uvm_object *mb_object = NULL;

/*
 * local data structures
 */
static struct vm_map kernel_map_store;
static struct vm_map kmem_map_store;
static struct uvm_object kmem_object_store;
static struct uvm_object mb_object_store;

const struct uvm_pagerops km_pager = {
	.pgo_get = uvm_km_get,
};

/* local prototypes */
static void uvm_km_pgremove_page(struct uvm_object *, struct vm_page *,
    bool);
static vaddr_t uvm_km_fill(struct vm_map *, struct uvm_object *, vaddr_t,
    vsize_t, int);
static void *uvm_km_pool_page_alloc(struct pool *, int);
static void uvm_km_pool_page_free(struct pool *, void *);

struct pool_allocator uvm_km_pool_allocator = {
	.pa_alloc = uvm_km_pool_page_alloc,
	.pa_free = uvm_km_pool_page_free,
	.pa_pagesz = PAGE_SIZE,
};

/*
 * uvm_km_get: pager get function for kernel objects.
 *
 * => no pageout to swap: zero fill is the only "I/O"
 * => see uvm_km.h for the locking contract
 */
int
uvm_km_get(struct uvm_object *uobj, voff_t offset, struct vm_page **pps,
    int *npagesp, int centeridx, vm_prot_t access_type, int advice,
    int flags)
{
	voff_t current_offset;
	struct vm_page *ptmp;
	int lcv, gotpages, maxpages;
	bool done;

	KASSERT(rw_write_held(uobj->vmobjlock));
	maxpages = *npagesp;

	/*
	 * step 1: the fault's data structures are locked: take what is
	 * resident (allocating zeroed pages where there is none), never
	 * sleeping.
	 */
	if (flags & PGO_LOCKED) {
		done = true;		/* be optimistic */
		gotpages = 0;
		for (lcv = 0, current_offset = offset; lcv < maxpages;
		    lcv++, current_offset += PAGE_SIZE) {
			if (pps[lcv] == PGO_DONTCARE)
				continue;
			ptmp = uvm_pagelookup(uobj, current_offset);
			if (ptmp == NULL) {
				ptmp = uvm_pagealloc(uobj, current_offset,
				    NULL, 0);
				if (ptmp != NULL) {
					/* new page */
					atomic_clearbits_int(&ptmp->pg_flags,
					    PG_BUSY | PG_FAKE);
					UVM_PAGE_OWN(ptmp, NULL);
					uvm_pagezero(ptmp);
				}
			}
			/* to be useful it must be neither busy nor released */
			if (ptmp == NULL || (pg_flags_load(ptmp) &
			    (PG_BUSY | PG_RELEASED)) != 0) {
				if (lcv == centeridx ||
				    (flags & PGO_ALLPAGES) != 0)
					done = false;	/* wait or I/O */
				continue;
			}
			/* the caller must unbusy it */
			atomic_setbits_int(&ptmp->pg_flags, PG_BUSY);
			UVM_PAGE_OWN(ptmp, "uvm_km_get1");
			pps[lcv] = ptmp;
			gotpages++;
		}
		*npagesp = gotpages;
		return done ? VM_PAGER_OK : VM_PAGER_UNLOCK;
	}

	/*
	 * step 2: get the non-resident or busy pages we must have.  The
	 * object is locked, the fault's data structures are not.
	 */
	for (lcv = 0, current_offset = offset; lcv < maxpages;
	    lcv++, current_offset += PAGE_SIZE) {
		if (pps[lcv] != NULL ||
		    (lcv != centeridx && (flags & PGO_ALLPAGES) == 0))
			continue;

		/*
		 * Find the page: wait while it is busy or released; busy it
		 * if it is there (pps[lcv] set); else allocate a new
		 * busy/fake page to "read" (pps[lcv] still NULL).
		 */
		while (pps[lcv] == NULL) {
			ptmp = uvm_pagelookup(uobj, current_offset);
			if (ptmp == NULL) {
				ptmp = uvm_pagealloc(uobj, current_offset,
				    NULL, 0);
				if (ptmp == NULL) {
					/* out of RAM */
					rw_exit(uobj->vmobjlock);
					uvm_wait("kmgetwait1");
					rw_enter(uobj->vmobjlock, RW_WRITE);
					continue;
				}
				break;		/* a new page to fill */
			}
			if ((pg_flags_load(ptmp) & (PG_BUSY | PG_RELEASED))
			    != 0) {
				atomic_setbits_int(&ptmp->pg_flags, PG_WANTED);
				uvm_pagewait(ptmp, uobj->vmobjlock, "uvn_get");
				rw_enter(uobj->vmobjlock, RW_WRITE);
				continue;
			}
			/* resident and unbusy since step 1: take it */
			atomic_setbits_int(&ptmp->pg_flags, PG_BUSY);
			UVM_PAGE_OWN(ptmp, "uvm_km_get2");
			pps[lcv] = ptmp;
		}
		if (pps[lcv] != NULL)
			continue;

		/* the "I/O" of a kernel object: zero fill */
		uvm_pagezero(ptmp);
		atomic_clearbits_int(&ptmp->pg_flags, PG_FAKE);
		pps[lcv] = ptmp;
	}

	rw_exit(uobj->vmobjlock);
	return VM_PAGER_OK;
}

/*
 * uvm_km_init: the kernel objects, kernel_map (with [VM_MIN_KERNEL_ADDRESS,
 * start) reserved as already in use), and kmem_map.
 * => at boot, after uvm_page_init, uvm_map_init and uao_init
 */
void
uvm_km_init(vaddr_t start, vaddr_t end)
{
	vaddr_t base = VM_MIN_KERNEL_ADDRESS;
	vaddr_t kmin, kmax;
	vsize_t ksize;

	/* kernel_object: pageable anonymous kernel memory */
	uvm.kernel_object = uao_create(VM_MAX_KERNEL_ADDRESS -
	    VM_MIN_KERNEL_ADDRESS, UAO_FLAG_KERNOBJ);

	/* kmem_object: wired memory of kmem_map; we never die */
	uvm_obj_init(&kmem_object_store, &km_pager, UVM_OBJ_KERN);
	kmem_object = &kmem_object_store;
	uvmexp.kmem_object = kmem_object;

	/* mb_object: the seed's mbuf memory, always wired */
	uvm_obj_init(&mb_object_store, &km_pager, UVM_OBJ_KERN);
	mb_object = &mb_object_store;
	uvmexp.mb_object = mb_object;

	/* the map, with the space already in use reserved */
	uvm_map_setup(&kernel_map_store, base, end, VM_MAP_PAGEABLE);
	kernel_map_store.pmap = pmap_kernel();
	pmap_set_owner(pmap_kernel(), &kernel_map_store);
	if (start > base && uvm_map(&kernel_map_store, &base, start - base,
	    NULL, UVM_UNKNOWN_OFFSET, 0, UVM_MAPFLAG(UVM_PROT_ALL,
	    UVM_PROT_ALL, UVM_INH_NONE, UVM_ADV_RANDOM, UVM_FLAG_FIXED)) != 0)
		panic("uvm_km_init: could not reserve space for kernel");

	/* install! */
	kernel_map = &kernel_map_store;

	/* kmem_map: 64 MiB or a quarter of kernel VA */
	ksize = MIN(UVM_KM_KMEM_SIZE,
	    round_page((VM_MAX_KERNEL_ADDRESS - VM_MIN_KERNEL_ADDRESS) / 4));
	kmin = vm_map_min(kernel_map);
	kmem_map = uvm_km_suballoc(kernel_map, &kmin, &kmax, ksize, false,
	    false, &kmem_map_store);
}

/*
 * uvm_km_suballoc: a submap of size bytes in map.  From now on all of
 * that VA goes through the submap.
 * => fixed: *min is where it must start; else *min is a hint
 * => submap non-NULL: set that map up; else make a new one
 * => panics on failure (boot-time use)
 */
struct vm_map *
uvm_km_suballoc(struct vm_map *map, vaddr_t *min, vaddr_t *max, vsize_t size,
    bool pageable, bool fixed, struct vm_map *submap)
{
	int mapflags = UVM_FLAG_NOMERGE | (fixed ? UVM_FLAG_FIXED : 0);

	size = round_page(size);

	/* first a blank spot in the parent map */
	if (uvm_map(map, min, size, NULL, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(UVM_PROT_ALL, UVM_PROT_ALL, UVM_INH_NONE,
	    UVM_ADV_RANDOM, mapflags)) != 0)
		panic("uvm_km_suballoc: unable to allocate space in parent "
		    "map");

	*max = *min + size;

	/* the submap shares the parent's pmap: it takes a reference */
	pmap_reference(vm_map_pmap(map));
	if (submap == NULL) {
		submap = uvm_map_create(vm_map_pmap(map), *min, *max,
		    pageable ? VM_MAP_PAGEABLE : 0);
		if (submap == NULL)
			panic("uvm_km_suballoc: unable to create submap");
	} else {
		uvm_map_setup(submap, *min, *max,
		    pageable ? VM_MAP_PAGEABLE : 0);
		submap->pmap = vm_map_pmap(map);
	}

	/* now let uvm_map_submap plug it in */
	if (uvm_map_submap(map, *min, *max, submap) != 0)
		panic("uvm_km_suballoc: submap allocation failed");
	return submap;
}

/*
 * uvm_km_pgremove_page: toss one page of a kernel object.
 * => object write-locked
 */
static void
uvm_km_pgremove_page(struct uvm_object *uobj, struct vm_page *pp,
    bool is_aobj)
{
	if (pg_flags_load(pp) & PG_BUSY) {
		/* the owner must check for this when done */
		atomic_setbits_int(&pp->pg_flags, PG_RELEASED);
		return;
	}
	pmap_page_protect(pp, VM_PROT_NONE);
	/* an aobj's page may have a swap slot: free it */
	if (is_aobj)
		uao_dropswap(uobj, (int)(pp->offset >> PAGE_SHIFT));
	uvm_lock_pageq();
	uvm_pagefree(pp);
	uvm_unlock_pageq();
}

/*
 * uvm_km_pgremove: remove the pages of [start, end) from a kernel
 * object: busy pages are marked PG_RELEASED (their owner frees them),
 * the others are freed now (with their swap slots).
 * => object unlocked, page queues unlocked; called by uvm_unmap_remove
 *    (map write-locked)
 */
#define UKM_HASH_PENALTY 4	/* a guess */

void
uvm_km_pgremove(struct uvm_object *uobj, vaddr_t start, vaddr_t end)
{
	struct vm_page *pp, *ppnext;
	voff_t curoff;
	bool by_list, is_aobj;

	rw_enter(uobj->vmobjlock, RW_WRITE);
	is_aobj = UVM_OBJ_IS_AOBJ(uobj);

	/* choose the cheaper walk: the object's pages, or the range */
	by_list = uobj->uo_npages <=
	    (int)(((end - start) >> PAGE_SHIFT) * UKM_HASH_PENALTY);

	if (by_list) {
		/*
		 * The object's pages (a tree ordered by offset, where the
		 * seed had a list): from the first one at or after start.
		 */
		struct vm_page key;

		key.offset = start;
		for (pp = RB_NFIND(uvm_objtree, &uobj->memt, &key);
		    pp != NULL && pp->offset < end; pp = ppnext) {
			ppnext = RB_NEXT(uvm_objtree, &uobj->memt, pp);
			uvm_km_pgremove_page(uobj, pp, is_aobj);
		}
	} else {
		for (curoff = start; curoff < end; curoff += PAGE_SIZE) {
			pp = uvm_pagelookup(uobj, curoff);
			if (pp == NULL)
				continue;
			uvm_km_pgremove_page(uobj, pp, is_aobj);
		}
	}

	/*
	 * Pages that live only in swap (an aobj kernel object that was
	 * paged out) have no page to free, just a slot: drop those too, or
	 * the slots would leak; and bad slots (a swap-in that failed there),
	 * or the address would stay poisoned for its next user (OpenBSD
	 * drops any slot of a page not resident).  Nothing to do while no
	 * aobj holds any.
	 */
	if (is_aobj && uao_swslots_in_use() > 0) {
		for (curoff = start; curoff < end; curoff += PAGE_SIZE) {
			int idx = (int)(curoff >> PAGE_SHIFT);

			if (uvm_pagelookup(uobj, curoff) != NULL ||
			    uao_find_swslot(uobj, idx) == 0)
				continue;
			/*
			 * it lived only in swap: now it is gone altogether
			 * (uao_dropswap counts a bad slot's page out itself)
			 */
			if (uao_dropswap(uobj, idx) > 0)
				uvmexp_add(swpgonly, -1);
		}
	}
	rw_exit(uobj->vmobjlock);
}

/*
 * uvm_km_fill: allocate, wire and map the pages of [kva, kva + size) of
 * map in obj (the seed's kmemalloc loop, shared with uvm_km_alloc).
 * => map unlocked; [kva, kva + size) freshly mapped to obj by us
 * => UVM_KMF_NOWAIT: on no memory, unmap all of it (freeing what was
 *    taken) and return 0; else wait for memory.  Each page may also be
 *    refused by an injected failure (host/failpoint.h), which takes the
 *    same way out.
 * => returns kva
 */
static vaddr_t
uvm_km_fill(struct vm_map *map, struct uvm_object *obj, vaddr_t kva,
    vsize_t size, int flags)
{
	vaddr_t loopva = kva;
	voff_t offset;
	vsize_t left = size;
	struct vm_page *pg;

	/* recover the object offset from the virtual address */
	offset = kva - vm_map_min(kernel_map);

	/*
	 * Allocate and map the memory.  We are the only ones who should
	 * ever get a handle on this area of VM.
	 */
	while (left > 0) {
		rw_enter(obj->vmobjlock, RW_WRITE);
		if ((flags & UVM_KMF_NOWAIT) != 0 &&
		    host_fail_alloc_at(HOST_FAIL_KM))
			pg = NULL;	/* injected: as if RAM ran out */
		else
			pg = uvm_pagealloc(obj, offset, NULL, 0);
		if (pg != NULL) {
			atomic_clearbits_int(&pg->pg_flags, PG_BUSY); /* new */
			UVM_PAGE_OWN(pg, NULL);
			uvm_lock_pageq();
			uvm_pagewire(pg);
			uvm_unlock_pageq();
		}
		rw_exit(obj->vmobjlock);

		if (pg == NULL) {
			if (flags & UVM_KMF_NOWAIT) {
				/*
				 * Free everything: the whole range (the seed
				 * unmapped [kva, kva + what was left), which
				 * leaks VA or pages; later NetBSD fixed it).
				 */
				uvm_unmap(map, kva, kva + size);
				return 0;
			}
			uvm_wait("km_getwait2");	/* sleep here */
			continue;
		}

		/*
		 * Map it in, with the map and object unlocked (the seed:
		 * pmap_enter may want memory of kmem_object itself).
		 */
		pmap_enter(map->pmap, loopva, VM_PAGE_TO_PHYS(pg),
		    VM_PROT_ALL, PMAP_WIRED | VM_PROT_READ | VM_PROT_WRITE);
		loopva += PAGE_SIZE;
		offset += PAGE_SIZE;
		left -= PAGE_SIZE;
	}
	pmap_update(map->pmap);
	return kva;
}

/*
 * uvm_km_kmemalloc: the lower-level kernel memory allocator (malloc's).
 *
 * => wired memory of obj mapped in map
 * => may return 0 even when it may sleep: no VA in the map
 * => flags: UVM_KMF_NOWAIT (do not sleep for memory or map entries:
 *    0 when either is short, or an injected failure says so),
 *    UVM_KMF_VALLOC (just the VA), UVM_KMF_TRYLOCK (fail if the map
 *    cannot be locked at once)
 * => returns the kernel va, or 0
 */
vaddr_t
uvm_km_kmemalloc(struct vm_map *map, struct uvm_object *obj, vsize_t size,
    int flags)
{
	vaddr_t kva;

	KASSERTMSG(vm_map_pmap(map) == pmap_kernel(),
	    "uvm_km_kmemalloc: invalid map");
	size = round_page(size);
	kva = vm_map_min(map);		/* hint */

	/* allocate some virtual space */
	if (uvm_map(map, &kva, size, obj, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(UVM_PROT_ALL, UVM_PROT_ALL, UVM_INH_NONE,
	    UVM_ADV_RANDOM, (flags & UVM_KMF_TRYLOCK) |
	    ((flags & UVM_KMF_NOWAIT) ? UVM_FLAG_NOWAIT : 0))) != 0)
		return 0;

	/* if all we wanted was VA, return now */
	if (flags & UVM_KMF_VALLOC)
		return kva;

	return uvm_km_fill(map, obj, kva, size, flags);
}

/*
 * uvm_km_free: free an area of kernel memory (any kind: the unmap frees
 * kernel-object pages).  => map unlocked; may sleep
 */
void
uvm_km_free(struct vm_map *map, vaddr_t addr, vsize_t size, int flags)
{
	uvm_unmap(map, trunc_page(addr), round_page(addr + size));
}

/*
 * uvm_km_free_wakeup: free an area of kernel memory and wake up anyone
 * waiting for VA in map (uvm_km_valloc_wait).
 * => map unlocked; may sleep
 */
void
uvm_km_free_wakeup(struct vm_map *map, vaddr_t addr, vsize_t size)
{
	struct vm_map_entry *dead_entries;

	vm_map_lock(map);
	uvm_unmap_remove(map, trunc_page(addr), round_page(addr + size),
	    &dead_entries);
	wakeup(map);
	vm_map_unlock(map);

	if (dead_entries != NULL)
		uvm_unmap_detach(dead_entries, 0);
}

/*
 * uvm_km_alloc1: wired memory in kernel_object, mapped in map.
 * => zeroit: zero it
 * => may sleep (for memory); returns 0 if there is no VA
 */
vaddr_t
uvm_km_alloc1(struct vm_map *map, vsize_t size, bool zeroit)
{
	struct uvm_object *kobj = uvm.kernel_object;
	vaddr_t kva, loopva;
	voff_t offset;
	struct vm_page *pg;

	KASSERTMSG(vm_map_pmap(map) == pmap_kernel(), "uvm_km_alloc1");
	size = round_page(size);
	kva = vm_map_min(map);		/* hint */

	/* allocate some virtual space */
	if (uvm_map(map, &kva, size, kobj, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(UVM_PROT_ALL, UVM_PROT_ALL, UVM_INH_NONE,
	    UVM_ADV_RANDOM, 0)) != 0)
		return 0;

	/* recover the object offset from the virtual address */
	offset = kva - vm_map_min(kernel_map);

	/* now allocate the memory; beware of released pages */
	loopva = kva;
	while (size > 0) {
		rw_enter(kobj->vmobjlock, RW_WRITE);
		pg = uvm_pagelookup(kobj, offset);

		/*
		 * A page in a range nobody has: it must be on its way out
		 * (released while busy by its last user).  Wait for it.
		 */
		if (pg != NULL) {
			if ((pg_flags_load(pg) & PG_RELEASED) == 0)
				panic("uvm_km_alloc1: non-released page %p "
				    "at offset %#llx", (void *)pg,
				    (unsigned long long)offset);
			atomic_setbits_int(&pg->pg_flags, PG_WANTED);
			uvm_pagewait(pg, kobj->vmobjlock, "km_alloc");
			continue;	/* retry */
		}

		/* allocate ram */
		pg = uvm_pagealloc(kobj, offset, NULL, 0);
		if (pg != NULL) {
			atomic_clearbits_int(&pg->pg_flags, PG_BUSY); /* new */
			UVM_PAGE_OWN(pg, NULL);
			uvm_lock_pageq();
			uvm_pagewire(pg);
			uvm_unlock_pageq();
		}
		rw_exit(kobj->vmobjlock);
		if (pg == NULL) {
			uvm_wait("km_alloc1w");	/* wait for memory */
			continue;
		}

		/* map it in */
		pmap_enter(map->pmap, loopva, VM_PAGE_TO_PHYS(pg),
		    VM_PROT_ALL, PMAP_WIRED | VM_PROT_READ | VM_PROT_WRITE);
		loopva += PAGE_SIZE;
		offset += PAGE_SIZE;
		size -= PAGE_SIZE;
	}
	pmap_update(map->pmap);

	/* zero on request ("size" is 0 now: loopva - kva is the size) */
	if (zeroit)
		memset((void *)kva, 0, loopva - kva);
	return kva;
}

/*
 * uvm_km_valloc: zero-fill memory in kernel VA, filled by kernel_object
 * at fault time.  => returns 0 if there is no VA
 */
vaddr_t
uvm_km_valloc(struct vm_map *map, vsize_t size)
{
	vaddr_t kva;

	KASSERTMSG(vm_map_pmap(map) == pmap_kernel(), "uvm_km_valloc");
	size = round_page(size);
	kva = vm_map_min(map);		/* hint */

	/* some virtual space, demand-filled by kernel_object */
	if (uvm_map(map, &kva, size, uvm.kernel_object, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(UVM_PROT_ALL, UVM_PROT_ALL, UVM_INH_NONE,
	    UVM_ADV_RANDOM, 0)) != 0)
		return 0;
	return kva;
}

/*
 * uvm_km_valloc_wait: uvm_km_valloc that sleeps until there is VA,
 * unless the request is larger than the map (then 0).
 *
 * The seed sleeps on the map without an interlock ("XXX: wanted bit +
 * unlock&wait on other end?"), so a uvm_km_free_wakeup between the
 * failed uvm_map and the sleep is lost; here the sleep is a tick-bounded
 * one, so a lost wakeup costs a retry, never a hang.
 * => may sleep
 */
vaddr_t
uvm_km_valloc_wait(struct vm_map *map, vsize_t size)
{
	vaddr_t kva;

	KASSERTMSG(vm_map_pmap(map) == pmap_kernel(), "uvm_km_valloc_wait");
	size = round_page(size);
	if (size > vm_map_max(map) - vm_map_min(map))
		return 0;

	for (;;) {
		kva = vm_map_min(map);		/* hint */
		if (uvm_map(map, &kva, size, uvm.kernel_object,
		    UVM_UNKNOWN_OFFSET, 0, UVM_MAPFLAG(UVM_PROT_ALL,
		    UVM_PROT_ALL, UVM_INH_NONE, UVM_ADV_RANDOM, 0)) == 0)
			return kva;
		/* failed: sleep for a while (on map) */
		tsleep(map, PVM, "vallocwait", hz > 0 ? hz : 1);
	}
	/* NOTREACHED */
}

/*
 * uvm_km_alloc: NetBSD 2008's interface over the seed's functions.
 * flags: exactly one of UVM_KMF_WIRED (memory now, in kernel_object),
 * UVM_KMF_PAGEABLE (kernel_object, demand zero, like uvm_km_valloc),
 * UVM_KMF_VAONLY (VA with nothing behind it: the caller enters pages);
 * with UVM_KMF_ZERO (wired: zero it), UVM_KMF_NOWAIT, UVM_KMF_TRYLOCK,
 * UVM_KMF_WAITVA (sleep for VA).  align: 0 or a power of two.
 * => returns the kernel va, or 0
 */
vaddr_t
uvm_km_alloc(struct vm_map *map, vsize_t size, vsize_t align, int flags)
{
	int kind = flags & (UVM_KMF_WIRED | UVM_KMF_PAGEABLE | UVM_KMF_VAONLY);
	struct uvm_object *obj;
	vaddr_t kva;
	int mapflags;

	KASSERT(kind == UVM_KMF_WIRED || kind == UVM_KMF_PAGEABLE ||
	    kind == UVM_KMF_VAONLY);
	KASSERTMSG(vm_map_pmap(map) == pmap_kernel(), "uvm_km_alloc");
	size = round_page(size);
	kva = vm_map_min(map);		/* hint */
	obj = kind == UVM_KMF_VAONLY ? NULL : uvm.kernel_object;
	mapflags = (flags & (UVM_KMF_TRYLOCK | UVM_KMF_WAITVA)) |
	    ((flags & UVM_KMF_NOWAIT) ? UVM_FLAG_NOWAIT : 0);

	if (uvm_map(map, &kva, size, obj, UVM_UNKNOWN_OFFSET, align,
	    UVM_MAPFLAG(UVM_PROT_ALL, UVM_PROT_ALL, UVM_INH_NONE,
	    UVM_ADV_RANDOM, mapflags)) != 0)
		return 0;
	if (kind != UVM_KMF_WIRED)
		return kva;

	if (uvm_km_fill(map, obj, kva, size, flags & UVM_KMF_NOWAIT) == 0)
		return 0;
	if (flags & UVM_KMF_ZERO)
		memset((void *)kva, 0, size);
	return kva;
}

/*
 * uvm_km_alloc_poolpage1: a page for a pool, seen through the direct map
 * (the PMAP_MAP_POOLPAGE branch of the seed).  map and obj are unused.
 * => never sleeps; returns 0 when no page is free
 */
vaddr_t
uvm_km_alloc_poolpage1(struct vm_map *map, struct uvm_object *obj)
{
	struct vm_page *pg;
	vaddr_t va;

	pg = uvm_pagealloc(NULL, 0, NULL, 0);
	if (pg == NULL)
		return 0;
	/*
	 * An ownerless page, held by whoever holds the pool page: not busy
	 * (another thread may give it back), its contents the pool's.
	 */
	atomic_clearbits_int(&pg->pg_flags, PG_BUSY | PG_FAKE);
	UVM_PAGE_OWN(pg, NULL);
	va = PMAP_MAP_POOLPAGE(VM_PAGE_TO_PHYS(pg));
	if (va == 0) {
		uvm_lock_pageq();
		uvm_pagefree(pg);
		uvm_unlock_pageq();
		return 0;
	}
	uvmexp_inc(kernel);
	return va;
}

/*
 * uvm_km_free_poolpage1: give a pool page back (PMAP_UNMAP_POOLPAGE).
 * => never sleeps
 */
void
uvm_km_free_poolpage1(struct vm_map *map, vaddr_t addr)
{
	paddr_t pa;

	pa = PMAP_UNMAP_POOLPAGE(addr);
	uvmexp_add(kernel, -1);
	uvm_lock_pageq();
	uvm_pagefree(PHYS_TO_VM_PAGE(pa));
	uvm_unlock_pageq();
}

/* The pool(9) page allocator of VM structures: RAM pages. */
static void *
uvm_km_pool_page_alloc(struct pool *pp, int flags)
{
	return (void *)uvm_km_alloc_poolpage1(kmem_map, NULL);
}

static void
uvm_km_pool_page_free(struct pool *pp, void *v)
{
	uvm_km_free_poolpage1(kmem_map, (vaddr_t)v);
}
