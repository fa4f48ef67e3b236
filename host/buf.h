/*
 * host/buf.h: struct buf and biodone/biowait, the I/O requests the disk
 * model executes.
 *
 * A buf names a transfer of b_npages pages at page b_blkno of a disk,
 * from or to the memory in b_iov (direct-map addresses of arena pages:
 * page aligned, so O_DIRECT can use them as they are); in a read, a NULL
 * page is a hole: the disk reads that page into a bit bucket, unchecked,
 * so that one transfer can skip what nobody asked for.  Completion comes
 * from a disk thread, the machine's "interrupt context": biodone() marks
 * the buf done and either calls b_iodone (B_CALL, e.g. the pager's async
 * completion that hands pageouts to the aiodone daemon) or wakes biowait().
 *
 *	[I] set by the submitter before strategy	[d] disk, until done
 */
#ifndef HOST_BUF_H
#define HOST_BUF_H

#include <sys/queue.h>
#include <sys/uio.h>

#include "param.h"

#define BUF_MAXPAGES	64	/* the largest transfer (MAXPHYS / PAGE_SIZE) */

struct host_disk;

struct buf {
	TAILQ_ENTRY(buf)	b_freelist;	/* disk queue, then aio_done */
	int			b_flags;	/* B_* [I], B_DONE/B_ERROR [d] */
	int			b_error;	/* [d] errno of a failed transfer */
	uint64_t		b_blkno;	/* [I] first page on the disk */
	int			b_npages;	/* [I] */
	size_t			b_bufsize;	/* [I] bytes (b_npages pages) */
	struct iovec		b_iov[BUF_MAXPAGES]; /* [I] page addresses */
	void			(*b_iodone)(struct buf *); /* [I] with B_CALL */
	void			*b_private;	/* [I] the submitter's */
	struct host_disk	*b_disk;	/* [I] */
	uint64_t		b_submit_ns;	/* [d] for latency stats */
};

#define B_WRITE		0x0000
#define B_READ		0x0001	/* read (else write) */
#define B_ASYNC		0x0002	/* nobody biowaits */
#define B_CALL		0x0004	/* call b_iodone at completion */
#define B_DONE		0x0008	/* transfer finished */
#define B_ERROR		0x0010	/* it failed: b_error says why */
#define B_PDAEMON	0x0020	/* a pagedaemon pageout (uvmexp.paging) */
#define B_CORRUPT	0x0040	/* a read found data that fails its checksum */

/* biodone: the transfer is over. => disk thread ("interrupt"); no locks */
void biodone(struct buf *bp);
/* biowait: sleep until bp is done; returns b_error. => may sleep */
int biowait(struct buf *bp);

#endif /* HOST_BUF_H */
