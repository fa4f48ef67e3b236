/*
 * host/arena.c: the memfd that is the machine's RAM.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena.h"

struct vm_page *vm_page_array;
uint64_t vm_npages;
char *host_arena_dmap;
static int arena_fd = -1;
static uint64_t arena_size;
static char arena_err[256];

/* Leave the host this much when judging whether RAM can be backed. */
#define HOST_RESERVE	(256ull << 20)

uint64_t
host_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long long kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

const char *
host_arena_error(void)
{
	return arena_err;
}

static int
arena_fail(int error, const char *what)
{
	snprintf(arena_err, sizeof(arena_err), "%s: %s", what, strerror(error));
	if (host_arena_dmap != NULL && host_arena_dmap != MAP_FAILED)
		munmap(host_arena_dmap, arena_size);
	host_arena_dmap = NULL;
	if (arena_fd >= 0)
		close(arena_fd);
	arena_fd = -1;
	return error;
}

int
host_arena_init(uint64_t ram)
{
	uint64_t avail, i;

	KASSERT(arena_fd < 0);
	arena_err[0] = '\0';
	if (ram == 0 || (ram & PAGE_MASK) != 0 || atop(ram) < ARENA_MIN_PAGES) {
		snprintf(arena_err, sizeof(arena_err), "RAM size %llu bytes: "
		    "must be a multiple of %lu bytes and at least %d pages",
		    (unsigned long long)ram, PAGE_SIZE, ARENA_MIN_PAGES);
		return EINVAL;
	}
	avail = host_mem_available();
	if (avail != 0 && ram + HOST_RESERVE > avail) {
		snprintf(arena_err, sizeof(arena_err), "RAM size %llu MiB: the "
		    "host has only %llu MiB available",
		    (unsigned long long)(ram >> 20),
		    (unsigned long long)(avail >> 20));
		return ENOMEM;
	}
	arena_fd = memfd_create("uvmstress-ram", MFD_CLOEXEC);
	if (arena_fd < 0)
		return arena_fail(errno, "memfd_create");
	arena_size = ram;
	if (ftruncate(arena_fd, (off_t)ram) != 0)
		return arena_fail(errno, "ftruncate of the RAM memfd");
	/* Back it now, so that a host that cannot is told at boot. */
	if ((errno = posix_fallocate(arena_fd, 0, (off_t)ram)) != 0)
		return arena_fail(errno == ENOSPC ? ENOMEM : errno,
		    "backing the RAM memfd");
	host_arena_dmap = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_SHARED,
	    arena_fd, 0);
	if (host_arena_dmap == MAP_FAILED)
		return arena_fail(errno, "mmap of the direct map");
	vm_npages = atop(ram);
	vm_page_array = calloc(vm_npages, sizeof(struct vm_page));
	if (vm_page_array == NULL)
		return arena_fail(ENOMEM, "the vm_page array");
	for (i = 0; i < vm_npages; i++)
		vm_page_array[i].phys_addr = ptoa(i);
	return 0;
}

void
host_arena_fini(void)
{
	if (arena_fd < 0)
		return;
	munmap(host_arena_dmap, arena_size);
	host_arena_dmap = NULL;
	close(arena_fd);
	arena_fd = -1;
	free(vm_page_array);
	vm_page_array = NULL;
	vm_npages = 0;
	arena_size = 0;
}

int
host_arena_fd(void)
{
	return arena_fd;
}

uint64_t
host_arena_size(void)
{
	return arena_size;
}

void
pmap_zero_page(paddr_t pa)
{
	KASSERT(pa < arena_size && (pa & PAGE_MASK) == 0);
	memset(host_arena_direct(pa), 0, PAGE_SIZE);
}

void
pmap_copy_page(paddr_t src, paddr_t dst)
{
	KASSERT(src < arena_size && dst < arena_size);
	KASSERT(((src | dst) & PAGE_MASK) == 0 && src != dst);
	memcpy(host_arena_direct(dst), host_arena_direct(src), PAGE_SIZE);
}
