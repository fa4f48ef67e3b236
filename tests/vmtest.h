/*
 * tests/vmtest.h: boot the machine and the VM for a test.
 *
 * Criterion forks every test, so each test boots its own machine:
 * vmtest_boot() in the suite's .init, vmtest_shutdown() in .fini.
 */
#ifndef TESTS_VMTEST_H
#define TESTS_VMTEST_H

#include <criterion/criterion.h>

#include "host/machine.h"
#include "vm/uvm.h"
#include "vm/uvm_swap.h"

static inline void
vmtest_boot_ram(uint64_t ram)
{
	struct machine_config mc;

	machine_config_default(&mc);
	mc.mc_ram = ram;
	mc.mc_seed = 1;
	cr_assert_eq(host_boot(&mc), 0, "%s", host_boot_error());
	uvm_init();
}

static inline void
vmtest_boot(void)
{
	vmtest_boot_ram(16ull << 20);
}

/* A swap device of npages pages in a temporary file. */
static inline void
vmtest_attach_swap(uint64_t npages)
{
	cr_assert_eq(uvm_swap_attach(NULL, npages, 0), 0, "%s",
	    uvm_swap_error());
}

static inline void
vmtest_shutdown(void)
{
	/* The process ends with the test; only stop the machine's threads. */
	host_shutdown();
}

#endif /* TESTS_VMTEST_H */
