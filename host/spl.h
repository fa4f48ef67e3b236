/*
 * host/spl.h: interrupt priority levels.
 *
 * The machine has no real interrupts to mask (the "interrupt" threads,
 * hardclock and the disk controllers, are host threads), so spl levels are
 * recorded per thread, not enforced: splx() restores, and assertions can
 * check the level a seed expects.
 */
#ifndef HOST_SPL_H
#define HOST_SPL_H

#include "param.h"

#define IPL_NONE	0
#define IPL_SOFTCLOCK	1
#define IPL_SOFTNET	2
#define IPL_BIO		3
#define IPL_NET		4
#define IPL_VM		5
#define IPL_SCHED	6
#define IPL_CLOCK	7
#define IPL_HIGH	8

int splraise(int ipl);		/* raise to at least ipl; returns the old level */
void splx(int s);		/* restore */
int spl_current(void);

#define spl0()		(splx(IPL_NONE), IPL_NONE)
#define splbio()	splraise(IPL_BIO)
#define splnet()	splraise(IPL_NET)
#define splvm()		splraise(IPL_VM)
#define splimp()	splraise(IPL_VM)
#define splsched()	splraise(IPL_SCHED)
#define splclock()	splraise(IPL_CLOCK)
#define splhigh()	splraise(IPL_HIGH)

#endif /* HOST_SPL_H */
