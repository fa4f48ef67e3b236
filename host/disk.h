/*
 * host/disk.h: the disk model: a real file behind a controller.
 *
 * The backing store of a disk is a real file, opened O_DIRECT by default
 * so the host page cache does not stand in for a disk (HOST_DISK_BUFFERED
 * asks for ordinary I/O; a file system that refuses O_DIRECT falls back to
 * it with a notice).  Disk threads play the controller: they take queued
 * bufs in order, transfer them with preadv/pwritev, and complete them
 * with biodone() from their own thread, as an interrupt would.
 *
 * Every page written gets a checksum (kept by the controller, as a disk
 * keeps its ECC), checked when the page is read back: a torn or
 * misdirected write, or a read of a page never written, fails with EIO and
 * B_CORRUPT, so the VM cannot silently read back garbage.
 *
 * The file never destroys what it is given: a path is used only if it is
 * new (created O_EXCL|O_NOFOLLOW, mode 0600), an existing directory (a new
 * uvmstress-swap.XXXXXX inside it), or a regular file of this user's that
 * uvmstress made (its first page is a label saying so: disk page n is
 * file page n + 1), which is reused, resized and never unlinked.  A
 * symlink, a device, a FIFO, a socket or any other file is refused
 * untouched.  A file the disk created is unlinked as soon as it is open,
 * unless kept (HOST_DISK_KEEP).  The file is flock()ed while in use.
 *
 * Fault injection: with a failure rate, a seeded share of transfers fail
 * with EIO (and transfer nothing, or only part: a write that fails may
 * have been torn); with a rot rate, a seeded share of writes leave their
 * first page on a bad sector (its reads fail until it is rewritten).
 *
 * Every submission and completion passes the hook point (HE_DISK_SUBMIT,
 * HE_DISK_DONE).
 *
 * Plugging (Linux's blk_start_plug): between host_disk_start_plug() and
 * host_disk_finish_plug(), the transfers this thread queues wait on its
 * plug and go to their disks together at the finish, or as soon as the
 * thread blocks (lwp_block flushes the plug, as schedule() does), so a
 * thread never waits for a transfer its own plug holds.  The pagedaemon
 * plugs its pass: no controller thread runs beside its host closes.
 */
#ifndef HOST_DISK_H
#define HOST_DISK_H

#include "buf.h"

#define HOST_DISK_BUFFERED	0x1	/* no O_DIRECT */
#define HOST_DISK_KEEP		0x2	/* keep a file it creates */

struct host_disk_stats {
	uint64_t	reads, writes;		/* transfers */
	uint64_t	pages_read, pages_written;
	uint64_t	errors;			/* failed transfers */
	uint64_t	injected;		/* of which injected */
	uint64_t	corrupt;		/* checksum mismatches on read */
	uint64_t	rotten;			/* sectors gone bad (rot rate) */
	uint64_t	rotten_reads;		/* reads that met one */
	uint64_t	busy_ns;		/* time in preadv/pwritev */
	uint64_t	polled;			/* reads run by their waiter */
	uint64_t	polled_ns;		/* their time, as it waited */
	uint64_t	queue_max;		/* deepest queue seen */
	uint64_t	plugged;		/* transfers held in a plug */
	bool		direct;			/* O_DIRECT in use */
};

/* What a swap path names (host_disk_check). */
#define HOST_DISK_NEW		0	/* nothing yet: the file is created */
#define HOST_DISK_DIR		1	/* a directory: a new file inside it */
#define HOST_DISK_REUSE		2	/* a swap file uvmstress made: reused */

/*
 * host_disk_open: a disk of npages pages backed by path (as above; NULL:
 * a new file in $TMPDIR, or /tmp), sized with posix_fallocate.
 * => 0, or an errno with host_disk_error() saying why in one line:
 *    EEXIST: path exists and is not ours to write (nothing was touched);
 *    EBUSY: another disk holds it; EINVAL: size; ENOSPC: no room;
 *    EACCES/ENOENT/ENOTDIR/EROFS...: the host refuses the path
 */
int host_disk_open(const char *path, uint64_t npages, int flags,
    int nthreads, struct host_disk **dp);
/*
 * host_disk_check: would host_disk_open take path?  Reads, never writes.
 * => 0 with *kindp (HOST_DISK_*), or an errno as host_disk_open's, with
 *    host_disk_error() (a new path's directory is not checked)
 */
int host_disk_check(const char *path, int *kindp);
const char *host_disk_error(void);
/* host_disk_close: wait for queued transfers, stop the threads. */
void host_disk_close(struct host_disk *d);

/* host_disk_strategy: queue bp. => never sleeps */
void host_disk_strategy(struct host_disk *d, struct buf *bp);
/* host_disk_io: a synchronous transfer (strategy + biowait). */
int host_disk_io(struct host_disk *d, struct buf *bp);

/* A plug: on the stack of the thread that holds it. */
struct host_disk_plug {
	TAILQ_HEAD(, buf)	hp_list;	/* held transfers, in order */
	unsigned		hp_count;	/* held now */
};
void host_disk_start_plug(struct host_disk_plug *plug);
void host_disk_finish_plug(struct host_disk_plug *plug);
/* Send what this thread's plug holds to the disks (none: a no-op). */
void host_disk_flush_plug(void);
/* Does this thread hold a plug? */
bool host_disk_plugged(void);

/* Fail permille/1000 of transfers with EIO, drawn from a seeded stream. */
void host_disk_set_fail_rate(struct host_disk *d, unsigned permille);
/*
 * Bad sectors: of permille/1000 of the writes, the first page is written
 * and then goes bad: every read of it fails with EIO until it is written
 * again.  Its data is lost: the VM's retries cannot help.
 */
void host_disk_set_rot_rate(struct host_disk *d, unsigned permille);
uint64_t host_disk_npages(const struct host_disk *d);
/* The file's path (given a directory: the file made in it). */
const char *host_disk_path(const struct host_disk *d);
void host_disk_get_stats(struct host_disk *d, struct host_disk_stats *st);

/* The checksum the controller keeps for a page of data. */
uint64_t host_page_checksum(const void *page);

#endif /* HOST_DISK_H */
