/*
 * vm/uvm_init.c: bring the VM up on a booted machine, and down again.
 *
 * Order (as uvm_init in BSD): pages, then the kernel map and its
 * objects (uvm_km_init), then the pools of VM structures whose pages come
 * from that map, then the pager layer, then the trap hook.
 */
#include <string.h>

#include "host/trap.h"
#include "uvm.h"
#include "uvm_amap.h"
#include "uvm_anon.h"
#include "uvm_aobj.h"
#include "uvm_bufcache.h"
#include "uvm_fault.h"
#include "uvm_km.h"
#include "uvm_map.h"
#include "uvm_pager.h"
#include "uvm_pdaemon.h"

struct uvm uvm;
struct uvmexp uvmexp;

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
	uvm_pdaemon_init();		/* daemon control (not started) */
	host_set_fault_hook(uvm_trap_fault);
}

void
uvm_shutdown(void)
{
	uvm_pdaemon_stop();		/* if the harness started them */
	host_set_fault_hook(NULL);
	memset(&uvm, 0, sizeof(uvm));
}
