/*
 * vm/uvm_mmap.c: mmap-like system calls for simulated programs.
 */
#include "uvm.h"
#include "uvm_aobj.h"
#include "uvm_mmap.h"
#include "uvm_pager.h"

/* A range within the map's bounds, page aligned, not empty. */
static bool
range_ok(struct vm_map *map, vaddr_t addr, vsize_t size)
{
	return size != 0 && (addr & PAGE_MASK) == 0 &&
	    (size & PAGE_MASK) == 0 && addr >= vm_map_min(map) &&
	    addr + size > addr && addr + size <= vm_map_max(map);
}

int
uvm_mmap_anon(struct vm_map *map, vaddr_t *addrp, vsize_t size,
    vm_prot_t prot, int flags)
{
	struct uvm_object *uobj = NULL;
	int mapflags, error;

	if (size == 0 || (size & PAGE_MASK) != 0 || (*addrp & PAGE_MASK) != 0 ||
	    (prot & ~VM_PROT_ALL) != 0)
		return EINVAL;
	if ((flags & UVM_MMAP_FIXED) && !range_ok(map, *addrp, size))
		return EINVAL;
	if (size > vm_map_max(map) - vm_map_min(map))
		return ENOMEM;
	mapflags = (flags & UVM_MMAP_FIXED) ? UVM_FLAG_FIXED : 0;
	if (flags & UVM_MMAP_SHARED) {
		/* Shared anonymous memory is an aobj every sharer maps. */
		uobj = uao_create(size, 0);
		error = uvm_map(map, addrp, size, uobj, 0, 0,
		    UVM_MAPFLAG(prot, VM_PROT_ALL, UVM_INH_SHARE,
		    UVM_ADV_NORMAL, mapflags));
		if (error != 0)
			uao_detach(uobj);
		return error;
	}
	/* Private: copy-on-write zero fill; the amap comes at first fault. */
	return uvm_map(map, addrp, size, NULL, UVM_UNKNOWN_OFFSET, 0,
	    UVM_MAPFLAG(prot, VM_PROT_ALL, UVM_INH_COPY, UVM_ADV_NORMAL,
	    mapflags | UVM_FLAG_COPYONW));
}

int
uvm_munmap(struct vm_map *map, vaddr_t addr, vsize_t size)
{
	if (!range_ok(map, addr, size))
		return EINVAL;
	uvm_unmap(map, addr, addr + size);
	return 0;
}

int
uvm_mprotect(struct vm_map *map, vaddr_t addr, vsize_t size, vm_prot_t prot)
{
	if (!range_ok(map, addr, size) || (prot & ~VM_PROT_ALL) != 0)
		return EINVAL;
	return uvm_map_protect(map, addr, addr + size, prot, false);
}

int
uvm_mlock(struct vm_map *map, vaddr_t addr, vsize_t size)
{
	if (!range_ok(map, addr, size))
		return EINVAL;
	/* sys_mlock: wired memory is capped (the pagedaemon needs the rest) */
	if (atop(size) + (vsize_t)uvmexp_read(wired) >
	    (vsize_t)uvmexp_read(wiredmax))
		return EAGAIN;
	return uvm_map_pageable(map, addr, addr + size, false, 0);
}

int
uvm_munlock(struct vm_map *map, vaddr_t addr, vsize_t size)
{
	if (!range_ok(map, addr, size))
		return EINVAL;
	return uvm_map_pageable(map, addr, addr + size, true, 0);
}

int
uvm_msync(struct vm_map *map, vaddr_t addr, vsize_t size, int flags)
{
	int uvmflags;

	if (!range_ok(map, addr, size) ||
	    (flags & ~(UVM_MS_ASYNC | UVM_MS_SYNC | UVM_MS_INVALIDATE)) != 0 ||
	    (flags & (UVM_MS_ASYNC | UVM_MS_SYNC)) ==
	    (UVM_MS_ASYNC | UVM_MS_SYNC))
		return EINVAL;
	/* sys_msync: clean, and with MS_INVALIDATE also free */
	uvmflags = PGO_CLEANIT;
	if (flags & UVM_MS_INVALIDATE)
		uvmflags |= PGO_FREE;
	if (flags & UVM_MS_SYNC)
		uvmflags |= PGO_SYNCIO;
	return uvm_map_clean(map, addr, addr + size, uvmflags);
}

int
uvm_madvise(struct vm_map *map, vaddr_t addr, vsize_t size, int behav)
{
	if (!range_ok(map, addr, size))
		return EINVAL;
	switch (behav) {
	case UVM_ADV_NORMAL:
	case UVM_ADV_RANDOM:
	case UVM_ADV_SEQUENTIAL:
		return uvm_map_advice(map, addr, addr + size, behav);
	case UVM_MADV_DONTNEED:
		/* deactivate the pages: they go to swap sooner */
		return uvm_map_clean(map, addr, addr + size, PGO_DEACTIVATE);
	case UVM_MADV_FREE:
		/* the pages are freed: their data goes */
		return uvm_map_clean(map, addr, addr + size, PGO_FREE);
	default:
		return EINVAL;
	}
}
