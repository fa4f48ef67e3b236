/*
 * host/arena.h: physical memory.
 *
 * One memfd of `ram` bytes is the machine's RAM: page frame n is bytes
 * [n * PAGE_SIZE, (n + 1) * PAGE_SIZE) of it, and physical address pa is
 * byte pa of it.  A direct map of the whole memfd serves zeroing, copying
 * and I/O (the kernel's direct map).  The vm_page array, outside the
 * arena like the kernel's, describes every frame.
 *
 * host_arena_init checks what it is asked before it takes anything:
 * EINVAL for a size that is 0 or not a page multiple or below the minimum,
 * ENOMEM for more than the host can back, and the errno of a refused
 * memfd_create/ftruncate/fallocate/mmap; host_arena_error() then says why
 * in one line.
 */
#ifndef HOST_ARENA_H
#define HOST_ARENA_H

#include "kassert.h"
#include "vm_page.h"

#define ARENA_MIN_PAGES	64	/* below this no VM can boot */

extern struct vm_page *vm_page_array;	/* [I] after host_arena_init */
extern uint64_t vm_npages;		/* [I] */

int host_arena_init(uint64_t ram_bytes);
void host_arena_fini(void);
/* One line on why host_arena_init failed. */
const char *host_arena_error(void);

int host_arena_fd(void);
uint64_t host_arena_size(void);
/* The host's available memory (MemAvailable), bytes; 0 if unknown. */
uint64_t host_mem_available(void);

/* The direct-map address of physical address pa. */
static inline void *
host_arena_direct(paddr_t pa)
{
	extern char *host_arena_dmap;

	return host_arena_dmap + pa;
}

static inline struct vm_page *
PHYS_TO_VM_PAGE(paddr_t pa)
{
	KDASSERT(atop(pa) < vm_npages);
	return atop(pa) < vm_npages ? &vm_page_array[atop(pa)] : NULL;
}
#define VM_PAGE_TO_PHYS(pg)	((pg)->phys_addr)

/* pmap_zero_page/pmap_copy_page: through the direct map (MD). */
void pmap_zero_page(paddr_t pa);
void pmap_copy_page(paddr_t src, paddr_t dst);

#endif /* HOST_ARENA_H */
