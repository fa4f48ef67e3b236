/*
 * vm/uvm_pdaemon.c: the page daemon (seed: OpenBSD uvm_pdaemon.c 1.105).
 *
 * This file grows with the reclaim issue; for now it holds uvm_wait, the
 * one entry the rest of the VM already needs.
 */
#include "host/lwp.h"
#include "uvm.h"

#define MSEC_TO_NSEC(ms)	((uint64_t)(ms) * 1000000ull)

/*
 * uvm_wait: wait (sleep) for the page daemon to free some pages.
 *
 * => should be called with all locks released
 * => should _not_ be called by the page daemon (to avoid deadlock): if
 *    it is, the sleep gets a timeout so the daemon only pauses
 */
void
uvm_wait(const char *wmsg)
{
	uint64_t timo = INFSLP;

#ifdef DIAGNOSTIC
	if (curproc == &proc0)
		panic("%s: cannot sleep for memory during boot", __func__);
#endif
	KASSERT(witness_nheld() == 0);

	/*
	 * check for page daemon going to sleep (waiting for itself)
	 * (curproc is NULL on host threads that are not LWPs: never it)
	 */
	if (curproc != NULL && curproc == uvm.pagedaemon_proc) {
		/*
		 * The seed first tries an emergency bufbackoff here; the
		 * buffer-cache model arrives with the reclaim issue.
		 */
		host_printf("pagedaemon: deadlock detected!\n");
		timo = MSEC_TO_NSEC(125);	/* set timeout */
	}

	uvm_lock_fpageq();
	wakeup(&uvm.pagedaemon);		/* wake the daemon! */
	msleep_nsec(&uvmexp.free, &uvm.fpageqlock, PVM | PNORELOCK, wmsg,
	    timo);
}
