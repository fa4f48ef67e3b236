/*
 * tests/test_arena.c: the RAM memfd, the vm_page array, the direct map.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "host/arena.h"

TestSuite(arena, .fini = host_arena_fini);

Test(arena, boots_and_describes_every_frame)
{
	uint64_t i;

	cr_assert_eq(host_arena_init(8ull << 20), 0, "%s", host_arena_error());
	cr_assert_eq(vm_npages, 2048);
	cr_assert_eq(host_arena_size(), 8ull << 20);
	for (i = 0; i < vm_npages; i++) {
		cr_assert_eq(VM_PAGE_TO_PHYS(&vm_page_array[i]), ptoa(i));
		cr_assert_eq(PHYS_TO_VM_PAGE(ptoa(i)), &vm_page_array[i]);
		cr_assert_eq(PHYS_TO_VM_PAGE(ptoa(i) + 123), &vm_page_array[i]);
	}
}

Test(arena, direct_map_zero_and_copy)
{
	unsigned char *a, *b;
	int i;

	cr_assert_eq(host_arena_init(1ull << 20), 0);
	a = host_arena_direct(ptoa(3));
	b = host_arena_direct(ptoa(9));
	for (i = 0; i < (int)PAGE_SIZE; i++)
		a[i] = (unsigned char)(i * 7 + 1);
	pmap_copy_page(ptoa(3), ptoa(9));
	cr_assert_eq(memcmp(a, b, PAGE_SIZE), 0);
	pmap_zero_page(ptoa(3));
	for (i = 0; i < (int)PAGE_SIZE; i++)
		cr_assert_eq(a[i], 0);
	cr_assert_eq(b[100], (unsigned char)(100 * 7 + 1), "copy untouched");
}

Test(arena, the_memfd_is_the_ram)
{
	uint64_t v = 0x1122334455667788ull, got = 0;

	cr_assert_eq(host_arena_init(1ull << 20), 0);
	*(uint64_t *)host_arena_direct(ptoa(5) + 8) = v;
	cr_assert_eq(pread(host_arena_fd(), &got, sizeof(got),
	    (off_t)(ptoa(5) + 8)), (ssize_t)sizeof(got));
	cr_assert_eq(got, v, "frame n is byte n*PAGE_SIZE of the memfd");
}

Test(arena, impossible_sizes_are_refused)
{
	cr_assert_eq(host_arena_init(0), EINVAL);
	cr_assert_not_null(strstr(host_arena_error(), "multiple"));
	cr_assert_eq(host_arena_init((1ull << 20) + 100), EINVAL);
	cr_assert_eq(host_arena_init(ptoa(ARENA_MIN_PAGES - 1)), EINVAL);
	/* more than the host can back */
	cr_assert_eq(host_arena_init(round_page(host_mem_available()) +
	    (1ull << 30)), ENOMEM);
	cr_assert_not_null(strstr(host_arena_error(), "available"));
	cr_assert_eq(host_arena_fd(), -1, "nothing left behind");
	cr_assert_eq(host_arena_init(1ull << 20), 0, "and it still boots");
}
