/*
 * vm/uvm_km.h: kernel memory (the seed uvm_km.c).
 */
#ifndef VM_UVM_KM_H
#define VM_UVM_KM_H

#include "host/pool.h"
#include "uvm_map.h"

extern struct vm_map *kernel_map;
extern struct vm_map *kmem_map;
/* The seed's kernel objects of the km pager (uvmexp.kmem_object too). */
extern struct uvm_object *kmem_object;
extern struct uvm_object *mb_object;
extern const struct uvm_pagerops km_pager;

/* Size of kmem_map: 64 MiB, or a quarter of kernel VA if that is less. */
#define UVM_KM_KMEM_SIZE	((vsize_t)64 << 20)

#define UVM_KMF_NOWAIT		0x1	/* do not sleep for memory */
#define UVM_KMF_VALLOC		0x2	/* just the VA */
#define UVM_KMF_TRYLOCK		UVM_FLAG_TRYLOCK
/* NetBSD 2008's uvm_km_alloc flags (seed uvm_glue.c) */
#define UVM_KMF_WIRED		0x10
#define UVM_KMF_PAGEABLE	0x20
#define UVM_KMF_VAONLY		0x40
#define UVM_KMF_ZERO		0x80
#define UVM_KMF_WAITVA		UVM_FLAG_WAITVA

void uvm_km_init(vaddr_t start, vaddr_t end);
/*
 * uvm_km_get: the km pager's get (pgo_get of kmem_object/mb_object).
 * => object write-locked; PGO_LOCKED: stays locked, never sleeps,
 *    returns VM_PAGER_OK or VM_PAGER_UNLOCK (the centre page, or with
 *    PGO_ALLPAGES any page, is busy or cannot be had now)
 * => otherwise: may sleep, object unlocked on return, VM_PAGER_OK
 */
int uvm_km_get(struct uvm_object *uobj, voff_t offset, struct vm_page **pps,
    int *npagesp, int centeridx, vm_prot_t access_type, int advice,
    int flags);
struct vm_map *uvm_km_suballoc(struct vm_map *map, vaddr_t *min,
    vaddr_t *max, vsize_t size, bool pageable, bool fixed,
    struct vm_map *submap);
void uvm_km_pgremove(struct uvm_object *uobj, vaddr_t start, vaddr_t end);
vaddr_t uvm_km_kmemalloc(struct vm_map *map, struct uvm_object *obj,
    vsize_t size, int flags);
/* uvm_km_free: NetBSD 2008's signature (flags ignored), the seed's logic */
void uvm_km_free(struct vm_map *map, vaddr_t addr, vsize_t size, int flags);
void uvm_km_free_wakeup(struct vm_map *map, vaddr_t addr, vsize_t size);
vaddr_t uvm_km_alloc1(struct vm_map *map, vsize_t size, bool zeroit);
vaddr_t uvm_km_valloc(struct vm_map *map, vsize_t size);
vaddr_t uvm_km_valloc_wait(struct vm_map *map, vsize_t size);
vaddr_t uvm_km_alloc_poolpage1(struct vm_map *map, struct uvm_object *obj);
void uvm_km_free_poolpage1(struct vm_map *map, vaddr_t addr);
/* NetBSD 2008: uvm_km_alloc(map, size, align, flags) over the above */
vaddr_t uvm_km_alloc(struct vm_map *map, vsize_t size, vsize_t align,
    int flags);

/* Pool pages from the arena (PMAP_MAP_POOLPAGE through the direct map). */
extern struct pool_allocator uvm_km_pool_allocator;

/* PMAP_MAP_POOLPAGE/PMAP_UNMAP_POOLPAGE: the direct map of RAM */
#define PMAP_MAP_POOLPAGE(pa)	((vaddr_t)host_arena_direct(pa))
#define PMAP_UNMAP_POOLPAGE(va)	((paddr_t)((char *)(va) - \
				    (char *)host_arena_direct(0)))

#endif /* VM_UVM_KM_H */
