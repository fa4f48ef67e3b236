/*
 * vm/uvm_init.c: bring the VM up on a booted machine, and down again.
 *
 * Order (as uvm_init in BSD): pages, then the kernel map and its
 * objects (uvm_km_init), then the pools of VM structures whose pages come
 * from that map, then the pager layer, the u-area cache (uvm_glue.c),
 * the kernel-stack cache (vm_glue.c), then the trap hook.  proc0 gets vmspace0 and the default limits here
 * (NetBSD's init_main.c main() does both).
 */
#include <string.h>

#include "host/clock.h"
#include "host/trap.h"
#include "uvm.h"
#include "uvm_amap.h"
#include "uvm_anon.h"
#include "uvm_aobj.h"
#include "uvm_bufcache.h"
#include "uvm_fault.h"
#include "uvm_glue.h"
#include "uvm_km.h"
#include "uvm_map.h"
#include "uvm_pager.h"
#include "uvm_pdaemon.h"
#include "vm_glue.h"

struct uvm uvm;
struct uvmexp uvmexp;

/*
 * proc0's address space (NetBSD's init_main.c): an empty user map on
 * pmap_kernel() that no entry is ever made in; an exiting process
 * borrows it (uvm_proc_exit).  Set up by hand: our uvmspace_init would
 * make its map the kernel pmap's owner, which kernel_map must stay.
 */
static struct vmspace vmspace0;

void
uvm_init(void)
{
	KASSERT(!uvm.page_init_done);
	memset(&uvmexp, 0, sizeof(uvmexp));
	uvmexp.pagesize = PAGE_SIZE;
	uvmexp.pagemask = PAGE_MASK;
	uvmexp.pageshift = PAGE_SHIFT;

	uvm_page_init();		/* free lists, queues, uvmexp.npages */
	uvm_map_init();			/* map entry pool */
	uao_init();			/* aobj pool */
	uvm_km_init(VM_MIN_KERNEL_ADDRESS, VM_MAX_KERNEL_ADDRESS);
	uvm_anon_init();		/* anon pool */
	amap_init();			/* amap pools */
	uvm_pager_init();		/* aiodone list, pageout bufs */
	uvm_bufcache_init();		/* the buffer-cache model, empty */
	uvm_uarea_init();		/* u-area cache, LWP run/free hooks */
	uvm_pdaemon_init();		/* daemon control (not started) */
	vm_glue_init();			/* the kstack cache, its lowmem handler */
	uvm_map_setup(&vmspace0.vm_map, VM_MIN_ADDRESS, VM_MAXUSER_ADDRESS, 0);
	vmspace0.vm_map.pmap = pmap_kernel();
	vmspace0.vm_refcnt = 1;		/* proc0's, never dropped */
	mutex_enter(&proc0.p_lock);
	proc0.p_vmspace = &vmspace0;
	uvm_init_limits(&proc0);	/* inherited by proc_create */
	mutex_exit(&proc0.p_lock);
	host_set_fault_hook(uvm_trap_fault);
}

void
uvm_shutdown(void)
{
	uvm_pdaemon_stop();		/* if the harness started them */
	host_set_fault_hook(NULL);
	/* LWPs reaped from now on keep their u-areas (the machine goes) */
	host_set_lwp_run_hook(NULL);
	host_set_lwp_free_hook(NULL);
	host_set_clock_intr_hook(NULL);	/* intr_prof_stack_use's probe */
	memset(&uvm, 0, sizeof(uvm));
}
