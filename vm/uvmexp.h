/*
 * vm/uvmexp.h: the VM's counters, with the BSD names and meanings.
 *
 * Page counts (free, active, inactive, wired, paging) are changed under
 * the lock named in brackets; event counters are bumped with relaxed
 * atomics (uvmexp_inc) so any thread may count without a lock.
 */
#ifndef VM_UVMEXP_H
#define VM_UVMEXP_H

#include "host/param.h"

struct uvmexp {
	/* vm_page constants [I] */
	int	pagesize;	/* PAGE_SIZE */
	int	pagemask;
	int	pageshift;
	/* vm_page counters */
	int	npages;		/* [I] managed pages */
	int	free;		/* [f] free pages */
	int	active;		/* [q] active pages */
	int	inactive;	/* [q] inactive pages */
	int	paging;		/* [a] pages in the process of being paged out */
	int	wired;		/* [q] wired pages */
	int	kernel;		/* [a] pages held by the kernel (pools, kmem) */
	int	zeropages;	/* [f] zero'd pages (unused: no prezeroing) */
	int	reserve_pagedaemon; /* [I] pages reserved for the pagedaemon */
	int	reserve_kernel;	/* [I] pages reserved for the kernel */
	int	anonpages;	/* [a] pages owned by anons */
	int	vnodepages;	/* always 0: no vnodes here */
	int	vtextpages;	/* always 0 */
	/* pageout params */
	int	freemin;	/* [q] try to keep at least this many free */
	int	freetarg;	/* [q] the pagedaemon's free target */
	int	inactarg;	/* [q] the inactive target */
	int	wiredmax;	/* [q] max wired pages */
	/* swap */
	int	nswapdev;	/* [s] swap devices */
	int	swpages;	/* [s] swap slots in all */
	int	swpginuse;	/* [s] slots in use */
	int	swpgonly;	/* [a] pages that live only in swap */
	int	nswget;		/* [a] swap gets */
	/* stat counters [a] */
	int	faults;		/* page fault count */
	int	traps;		/* trap count */
	int	intrs;
	int	swtch;
	int	softs;
	int	syscalls;
	int	pageins;	/* pagein operations */
	int	pgswapin;	/* pages swapped in */
	int	pgswapout;	/* pages swapped out */
	int	forks;
	int	forks_ppwait;
	int	forks_sharevm;
	int	pga_zerohit;
	int	pga_zeromiss;
	int	zeroaborts;
	/* fault subcounters [a] */
	int	fltnoram;	/* no free pages */
	int	fltnoanon;	/* no anons */
	int	fltnoamap;	/* no amaps */
	int	fltpgwait;	/* waits for a busy page */
	int	fltpgrele;	/* waits for a released page */
	int	fltrelck;	/* relocks */
	int	fltrelckok;	/* relocks that worked */
	int	fltanget;	/* anon page gets */
	int	fltanretry;	/* anon get retries */
	int	fltamcopy;	/* amap copies */
	int	fltnamap;	/* neighbouring anon pages mapped */
	int	fltnomap;	/* neighbouring object pages mapped */
	int	fltwalk;	/* faults that looked ahead along a walk */
	int	fltlget;	/* locked gets */
	int	fltget;		/* unlocked gets */
	int	flt_anon;	/* anon faults */
	int	flt_acow;	/* anon copy-on-write faults */
	int	flt_obj;	/* object faults */
	int	flt_prcopy;	/* promotions (copy) */
	int	flt_przero;	/* promotions (zero fill) */
	int	fltup;		/* upgrades of the object lock */
	int	fltnoup;	/* upgrades that failed */
	/* daemon counters [a] */
	int	pdwoke;		/* times the pagedaemon woke */
	int	pdrevs;		/* revolutions of the clock hand */
	int	pdswout;	/* times it swapped processes out */
	int	pdfreed;	/* pages it freed */
	int	pdscans;	/* pages it scanned */
	int	pdanscan;	/* anonymous pages scanned */
	int	pdobscan;	/* object pages scanned */
	int	pdreact;	/* pages reactivated */
	int	pdbusy;		/* busy pages skipped */
	int	pdpageouts;	/* pageouts started */
	int	pdpending;	/* pageouts pending */
	int	pddeact;	/* pages deactivated */
	/* swapper */
	int	swapins;	/* LWPs swapped in */
	int	swapouts;	/* LWPs swapped out */
	/* kernel memory objects */
	void	*kmem_object;
	void	*mb_object;
};

extern struct uvmexp uvmexp;

#define uvmexp_inc(field) \
	__atomic_fetch_add(&uvmexp.field, 1, __ATOMIC_RELAXED)
#define uvmexp_add(field, n) \
	__atomic_fetch_add(&uvmexp.field, (n), __ATOMIC_RELAXED)
#define uvmexp_read(field) \
	__atomic_load_n(&uvmexp.field, __ATOMIC_RELAXED)

#endif /* VM_UVMEXP_H */
