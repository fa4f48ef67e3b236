/*
 * host/spl.c: recorded interrupt priority levels.
 */
#include "kassert.h"
#include "spl.h"
#include "thread.h"

int
splraise(int ipl)
{
	struct host_thread *ht = host_thread_self();
	int old = ht->ht_spl;

	KASSERT(ipl >= IPL_NONE && ipl <= IPL_HIGH);
	if (ipl > old)
		ht->ht_spl = ipl;
	return old;
}

void
splx(int s)
{
	KASSERT(s >= IPL_NONE && s <= IPL_HIGH);
	host_thread_self()->ht_spl = s;
}

int
spl_current(void)
{
	return host_thread_self()->ht_spl;
}
