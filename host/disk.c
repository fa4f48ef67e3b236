/*
 * host/disk.c: the disk controller model over a real file.
 *
 * The file: page 0 is a label (struct disk_label) that says uvmstress made
 * the file; disk page n is file page n + 1.  A path is only ever written
 * if it is new (created O_EXCL|O_NOFOLLOW), a directory (a new unique file
 * inside it), or a regular file of ours that carries the label: nothing
 * else is opened for writing, truncated or unlinked (disk_lookup).  Only
 * a file this disk created is unlinked, and only if not kept.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "disk.h"
#include "hook.h"
#include "hsync.h"
#include "kassert.h"
#include "mutex.h"
#include "rng.h"
#include "sleepq.h"
#include "thread.h"

#define DISK_MAXTHREADS	8
#define SUM_POISON	0xdeadbeefdeadbeefull	/* a write failed: undefined */
#define SUM_ROTTEN	0xbad5ec70bad5ec70ull	/* a bad sector: reads fail */
#define SUM_NONE	0ull			/* never written */

/*
 * The label, at the start of file page 0 (a whole page, so the data pages
 * stay aligned for O_DIRECT); the rest of the page is zero.  It marks a
 * file uvmstress made, so that a kept file may be reused and nothing else
 * is ever overwritten.  The data behind it is not reusable (the checksums
 * live in memory, per run): only the file is.
 */
#define DISK_LABEL_PAGES	1
#define DISK_MAGIC		"uvmstress swap\n"	/* 15 bytes + NUL */
#define DISK_LABEL_VERSION	1

struct disk_label {
	char		dl_magic[16];	/* DISK_MAGIC */
	uint32_t	dl_version;	/* DISK_LABEL_VERSION */
	uint32_t	dl_pagesize;	/* PAGE_SIZE */
	uint64_t	dl_npages;	/* data pages behind the label */
};
_Static_assert(sizeof(struct disk_label) <= PAGE_SIZE * DISK_LABEL_PAGES,
    "the label fits its pages");

struct host_disk {
	int			d_fd;
	char			d_path[512];
	bool			d_keep;
	bool			d_direct;
	bool			d_created;	/* this disk made the file */
	bool			d_unlinked;	/* the file is already gone */
	uint64_t		d_npages;
	_Atomic uint64_t	*d_sums;	/* per page, 0 = never written */

	pthread_mutex_t		d_lock;		/* the queue */
	pthread_cond_t		d_cv;
	TAILQ_HEAD(, buf)	d_queue;	/* [d_lock] */
	unsigned		d_qlen;		/* [d_lock] */
	bool			d_stop;		/* [d_lock] */
	int			d_nthreads;
	pthread_t		d_threads[DISK_MAXTHREADS];

	atomic_uint		d_fail_permille;
	atomic_uint		d_rot_permille;
	struct host_rng		d_rng;		/* [d_lock] injection stream */

	/* statistics [a] */
	_Atomic uint64_t	s_reads, s_writes, s_pread, s_pwritten,
				s_errors, s_injected, s_corrupt, s_rotten,
				s_rotten_reads, s_busy_ns,
				s_qmax, s_polled, s_polled_ns, s_plugged;
};

/* The plug of this thread, or NULL (host_disk_start_plug). */
static __thread struct host_disk_plug *disk_curplug;

static char disk_err[1024];
static kmutex_t bio_lock;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static void biodone_error(struct buf *, int, int);

static void
bio_init(void)
{
	mutex_init_class(&bio_lock, MUTEX_DEFAULT, IPL_NONE, "biolock");
}

const char *
host_disk_error(void)
{
	return disk_err;
}

uint64_t
host_page_checksum(const void *page)
{
	const uint64_t *w = page;
	uint64_t h[4] = { 0x9e3779b97f4a7c15ull, 0x632be59bd9b4e019ull,
	    0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull }, x;
	size_t i;
	int k;

	/*
	 * Four independent lanes of (h ^ w) * odd: every step is a bijection
	 * of h, so a page that differs from what was written in any one word
	 * always gets another sum; four lanes keep the multiplier busy (a
	 * single chain is latency-bound: it was 14% of a pressure run).
	 */
	for (i = 0; i < PAGE_SIZE / sizeof(uint64_t); i += 4)
		for (k = 0; k < 4; k++)
			h[k] = (h[k] ^ w[i + (size_t)k]) * 0xff51afd7ed558ccdull;
	x = h[0];
	for (k = 1; k < 4; k++) {
		x ^= h[k] + 0x9e3779b97f4a7c15ull + (x << 6) + (x >> 2);
		x = (x ^ (x >> 33)) * 0xc4ceb9fe1a85ec53ull;
	}
	x ^= x >> 33;
	/* never the two reserved values */
	return (x == SUM_NONE || x == SUM_POISON || x == SUM_ROTTEN) ? x + 1 :
	    x;
}

void
biodone(struct buf *bp)
{
	biodone_error(bp, 0, 0);
}

/*
 * biodone_error: biodone with the outcome: b_error and the flags change
 * under bio_lock with B_DONE, where biowait reads them.
 */
static void
biodone_error(struct buf *bp, int error, int flags)
{
	void (*iodone)(struct buf *);

	pthread_once(&bio_once, bio_init);
	/*
	 * Read what we need before B_DONE: from then on a biowait()er may
	 * return and free bp.  The wakeup goes under the lock for the same
	 * reason (the waiter re-checks B_DONE under it).
	 */
	iodone = (bp->b_flags & B_CALL) ? bp->b_iodone : NULL;
	mutex_enter(&bio_lock);
	if (flags != 0) {
		bp->b_error = error;
		bp->b_flags |= flags;
	}
	bp->b_flags |= B_DONE;
	if (iodone == NULL)
		wakeup(bp);
	mutex_exit(&bio_lock);
	if (iodone != NULL)
		iodone(bp);
}

int
biowait(struct buf *bp)
{
	pthread_once(&bio_once, bio_init);
	mutex_enter(&bio_lock);
	while ((bp->b_flags & B_DONE) == 0)
		msleep(bp, &bio_lock, PRIBIO, "biowait", 0);
	mutex_exit(&bio_lock);
	return (bp->b_flags & B_ERROR) ? bp->b_error : 0;
}

/*
 * Transfer all of an iovec list at off, through partial transfers.  The
 * holes of a read land in this thread's bit bucket.
 */
static int
disk_transfer(struct host_disk *d, struct buf *bp, int npages, void *bucket)
{
	struct iovec iov[BUF_MAXPAGES];
	off_t off = (off_t)((bp->b_blkno + DISK_LABEL_PAGES) * PAGE_SIZE);
	size_t left = (size_t)npages * PAGE_SIZE;
	int iovcnt = npages, i = 0;
	ssize_t n;

	memcpy(iov, bp->b_iov, sizeof(iov[0]) * (size_t)npages);
	for (i = 0; i < npages; i++)
		if (iov[i].iov_base == NULL)
			iov[i].iov_base = bucket;
	i = 0;
	while (left > 0) {
		if (bp->b_flags & B_READ)
			n = preadv(d->d_fd, &iov[i], iovcnt - i, off);
		else
			n = pwritev(d->d_fd, &iov[i], iovcnt - i, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;	/* beyond the end of the file */
		left -= (size_t)n;
		off += n;
		while (n > 0) {
			if ((size_t)n >= iov[i].iov_len) {
				n -= (ssize_t)iov[i].iov_len;
				i++;
			} else {
				iov[i].iov_base = (char *)iov[i].iov_base + n;
				iov[i].iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return 0;
}

/*
 * disk_inject: should this transfer fail (INJ_FAIL), or, a write, leave
 * its first page on a sector gone bad (INJ_ROT)?  => d_lock held
 */
#define INJ_NONE	0
#define INJ_FAIL	1
#define INJ_ROT		2
static int
disk_inject(struct host_disk *d, const struct buf *bp)
{
	unsigned permille = atomic_load(&d->d_fail_permille);
	unsigned rot = atomic_load(&d->d_rot_permille);

	if (permille != 0 && host_rng_below(&d->d_rng, 1000) < permille)
		return INJ_FAIL;
	if (rot != 0 && (bp->b_flags & B_READ) == 0 &&
	    host_rng_below(&d->d_rng, 1000) < rot)
		return INJ_ROT;
	return INJ_NONE;
}

static void
disk_execute(struct host_disk *d, struct buf *bp, int what, void *bucket)
{
	uint64_t t0 = host_real_ns(), sum;
	bool rd = (bp->b_flags & B_READ) != 0, inject = what == INJ_FAIL;
	int error = 0, i, done = bp->b_npages, setflags = 0;

	if (inject) {
		/* A failed write may be torn: only its first page made it. */
		done = rd ? 0 : 1;
		atomic_fetch_add(&d->s_injected, 1);
	}
	if (done > 0)
		error = disk_transfer(d, bp, done, bucket);
	if (inject && error == 0)
		error = EIO;
	atomic_fetch_add(&d->s_busy_ns, host_real_ns() - t0);

	for (i = 0; i < bp->b_npages; i++) {
		_Atomic uint64_t *sp = &d->d_sums[bp->b_blkno + (uint64_t)i];

		if (!rd && error == 0 && what == INJ_ROT && i == 0) {
			/* written, and then the sector went bad */
			atomic_store_explicit(sp, SUM_ROTTEN,
			    memory_order_relaxed);
			atomic_fetch_add(&d->s_rotten, 1);
		} else if (!rd) {
			/* what the disk now holds there is undefined on error */
			atomic_store_explicit(sp, error != 0 ? SUM_POISON :
			    host_page_checksum(bp->b_iov[i].iov_base),
			    memory_order_relaxed);
		} else if (error == 0 && bp->b_iov[i].iov_base != NULL) {
			sum = atomic_load_explicit(sp, memory_order_relaxed);
			if (sum == SUM_ROTTEN) {
				/* a bad sector: fails every time, no data */
				error = EIO;
				atomic_fetch_add(&d->s_rotten_reads, 1);
			} else if (sum !=
			    host_page_checksum(bp->b_iov[i].iov_base)) {
				error = EIO;
				setflags |= B_CORRUPT;
				atomic_fetch_add(&d->s_corrupt, 1);
			}
		}
	}
	if (rd) {
		atomic_fetch_add(&d->s_reads, 1);
		atomic_fetch_add(&d->s_pread, (uint64_t)bp->b_npages);
	} else {
		atomic_fetch_add(&d->s_writes, 1);
		atomic_fetch_add(&d->s_pwritten, (uint64_t)bp->b_npages);
	}
	if (error != 0) {
		atomic_fetch_add(&d->s_errors, 1);
		setflags |= B_ERROR;
	}
	host_hook(HE_DISK_DONE, bp, (uintptr_t)error, __FILE__, __LINE__);
	biodone_error(bp, error, setflags);
}

static void *
disk_thread(void *arg)
{
	struct host_disk *d = arg;
	struct buf *bp;
	int inject;
	void *bucket;

	/* where the holes of reads go: page aligned, for O_DIRECT */
	if ((bucket = aligned_alloc(PAGE_SIZE, PAGE_SIZE)) == NULL)
		panic("disk: no memory for the bit bucket");
	hs_lock(&d->d_lock);
	for (;;) {
		while (TAILQ_EMPTY(&d->d_queue) && !d->d_stop)
			hs_cond_wait(&d->d_cv, &d->d_lock);
		if ((bp = TAILQ_FIRST(&d->d_queue)) == NULL)
			break;		/* stopping, queue drained */
		TAILQ_REMOVE(&d->d_queue, bp, b_freelist);
		d->d_qlen--;
		inject = disk_inject(d, bp);
		hs_unlock(&d->d_lock);
		disk_execute(d, bp, inject, bucket);
		hs_lock(&d->d_lock);
	}
	hs_unlock(&d->d_lock);
	free(bucket);
	return NULL;
}

/* disk_say: set disk_err to one line about path.  => error */
static int
disk_say(int error, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(disk_err, sizeof(disk_err), "swap file %s: ",
	    path != NULL && path[0] != '\0' ? path : "(temporary)");
	if (n < 0 || (size_t)n >= sizeof(disk_err))
		return error;
	va_start(ap, fmt);
	vsnprintf(disk_err + n, sizeof(disk_err) - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *p = disk_err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';	/* one line, whatever the path holds */
	return error;
}

/* disk_refuse: path exists and is not ours to write.  => EEXIST */
static int
disk_refuse(const char *path, const char *what)
{
	return disk_say(EEXIST, path, "refused: it is %s; uvmstress writes "
	    "only a new path, a directory (a new file inside it) or a swap "
	    "file it made itself (kept with --keep-swap), which it reuses",
	    what);
}

/*
 * disk_lookup: what path names, and may a disk use it?  A new path, or a
 * directory to make a file in; or a regular file (never a symlink) of
 * this user's that carries our label, opened (oflags) into *fdp and
 * locked, to reuse.  Anything else is refused untouched: it is not ours.
 * => 0 with *kindp (HOST_DISK_REUSE: *fdp open, else -1), or an errno with
 *    disk_err set: EEXIST the path is not ours to use; EBUSY another run
 *    holds it; else the host's answer (EACCES, ENOTDIR, ...)
 */
static int
disk_lookup(const char *path, int oflags, int *kindp, int *fdp)
{
	struct disk_label dl;
	struct stat st, fst;
	char what[64];
	int fd, fl;

	*fdp = -1;
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return disk_say(errno, path, "cannot look it up: %s",
			    strerror(errno));
		*kindp = HOST_DISK_NEW;
		return 0;
	}
	/* a link to a directory is fine: we only make a new file in it */
	if (S_ISDIR(st.st_mode) || (S_ISLNK(st.st_mode) &&
	    stat(path, &fst) == 0 && S_ISDIR(fst.st_mode))) {
		*kindp = HOST_DISK_DIR;
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return disk_refuse(path, "a symbolic link");
	if (S_ISCHR(st.st_mode))
		return disk_refuse(path, "a character device");
	if (S_ISBLK(st.st_mode))
		return disk_refuse(path, "a block device");
	if (S_ISFIFO(st.st_mode))
		return disk_refuse(path, "a FIFO");
	if (!S_ISREG(st.st_mode))
		return disk_refuse(path, "a socket");
	if (st.st_uid != geteuid()) {
		snprintf(what, sizeof(what), "a file of another user (uid %u)",
		    (unsigned)st.st_uid);
		return disk_refuse(path, what);
	}
	/* O_NONBLOCK: should it have become a FIFO since, do not wait */
	fd = open(path, oflags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return disk_refuse(path, "a symbolic link");
		return disk_say(errno, path, "cannot open: %s",
		    strerror(errno));
	}
	if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode) ||
	    fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		close(fd);
		return disk_refuse(path, "a file that changed while we "
		    "looked at it");
	}
	if (pread(fd, &dl, sizeof(dl), 0) != (ssize_t)sizeof(dl) ||
	    memcmp(dl.dl_magic, DISK_MAGIC, sizeof(DISK_MAGIC)) != 0 ||
	    dl.dl_version != DISK_LABEL_VERSION ||
	    dl.dl_pagesize != PAGE_SIZE) {
		close(fd);
		return disk_refuse(path, "a file uvmstress did not make (no "
		    "uvmstress swap label at its start)");
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return disk_say(EBUSY, path, "in use by another uvmstress run");
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		fl = errno;
		close(fd);
		return disk_say(fl, path, "cannot open: %s", strerror(fl));
	}
	*kindp = HOST_DISK_REUSE;
	*fdp = fd;
	return 0;
}

/* disk_path_fits: room in d_path for path, or a file inside it? */
static int
disk_path_fits(const char *path)
{
	if (strlen(path) + sizeof("/uvmstress-swap.XXXXXX") >
	    sizeof(((struct host_disk *)NULL)->d_path))
		return disk_say(ENAMETOOLONG, path, "%s",
		    strerror(ENAMETOOLONG));
	return 0;
}

int
host_disk_check(const char *path, int *kindp)
{
	int error, fd;

	disk_err[0] = '\0';
	if ((error = disk_path_fits(path)) != 0)
		return error;
	error = disk_lookup(path, O_RDONLY, kindp, &fd);
	if (fd >= 0)
		close(fd);
	return error;
}

/*
 * disk_unlink: take the file this disk created out of its directory,
 * if the path still names it (never whatever has replaced it since).
 */
static void
disk_unlink(struct host_disk *d)
{
	struct stat st, fst;

	if (!d->d_created || d->d_unlinked || d->d_fd < 0)
		return;
	if (fstat(d->d_fd, &fst) == 0 && lstat(d->d_path, &st) == 0 &&
	    st.st_dev == fst.st_dev && st.st_ino == fst.st_ino &&
	    unlink(d->d_path) == 0)
		d->d_unlinked = true;
}

/* disk_fail: undo a host_disk_open that failed.  => error */
static int
disk_fail(struct host_disk *d, int error, const char *what)
{
	disk_say(error, d->d_path, "%s: %s", what, strerror(error));
	/* a file made for a disk that never ran is no use to anyone */
	disk_unlink(d);
	if (d->d_fd >= 0)
		close(d->d_fd);
	free(d->d_sums);
	free(d);
	return error;
}

/* disk_label: write the label for npages data pages.  => 0 or errno */
static int
disk_label(struct host_disk *d, uint64_t npages)
{
	struct disk_label *dl;
	ssize_t n;
	int error = 0;

	/* page aligned, whole page: fine with or without O_DIRECT */
	if ((dl = aligned_alloc(PAGE_SIZE, PAGE_SIZE * DISK_LABEL_PAGES)) ==
	    NULL)
		return ENOMEM;
	memset(dl, 0, PAGE_SIZE * DISK_LABEL_PAGES);
	memcpy(dl->dl_magic, DISK_MAGIC, sizeof(DISK_MAGIC));
	dl->dl_version = DISK_LABEL_VERSION;
	dl->dl_pagesize = PAGE_SIZE;
	dl->dl_npages = npages;
	n = pwrite(d->d_fd, dl, PAGE_SIZE * DISK_LABEL_PAGES, 0);
	if (n < 0)
		error = errno;
	else if (n != PAGE_SIZE * DISK_LABEL_PAGES)
		error = EIO;
	free(dl);
	return error;
}

int
host_disk_open(const char *path, uint64_t npages, int flags, int nthreads,
    struct host_disk **dp)
{
	struct host_disk *d;
	const char *tmpdir;
	off_t size;
	int i, error, kind, fl;

	disk_err[0] = '\0';
	if (npages == 0 || npages > (1ull << 32)) {
		snprintf(disk_err, sizeof(disk_err), "swap size of %llu pages "
		    "is not usable", (unsigned long long)npages);
		return EINVAL;
	}
	if (nthreads < 1 || nthreads > DISK_MAXTHREADS)
		return EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ENOMEM;
	d->d_fd = -1;
	d->d_keep = (flags & HOST_DISK_KEEP) != 0;
	if (path == NULL) {
		tmpdir = getenv("TMPDIR");
		path = tmpdir != NULL && tmpdir[0] ? tmpdir : "/tmp";
		kind = HOST_DISK_DIR;
	} else if ((error = disk_path_fits(path)) != 0 ||
	    (error = disk_lookup(path, O_RDWR, &kind, &d->d_fd)) != 0) {
		free(d);
		return error;
	}
	switch (kind) {
	case HOST_DISK_NEW:
		snprintf(d->d_path, sizeof(d->d_path), "%s", path);
		d->d_fd = open(d->d_path, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d->d_fd < 0 && errno == EEXIST) {
			error = disk_refuse(path, "a path somebody else made "
			    "while we looked");
			free(d);
			return error;
		}
		if (d->d_fd < 0)
			return disk_fail(d, errno, "cannot create");
		d->d_created = true;
		break;
	case HOST_DISK_DIR:
		if ((size_t)snprintf(d->d_path, sizeof(d->d_path),
		    "%s/uvmstress-swap.XXXXXX", path) >= sizeof(d->d_path))
			return disk_fail(d, ENAMETOOLONG, "cannot create");
		if ((d->d_fd = mkostemp(d->d_path, O_CLOEXEC)) < 0) {
			error = errno;
			snprintf(d->d_path, sizeof(d->d_path), "%s", path);
			return disk_fail(d, error, "cannot create a file in "
			    "this directory");
		}
		d->d_created = true;
		break;
	default:
		KASSERT(kind == HOST_DISK_REUSE && d->d_fd >= 0);
		snprintf(d->d_path, sizeof(d->d_path), "%s", path);
		break;
	}
	if (d->d_created)	/* new, so never busy: for runs that reuse it */
		(void)flock(d->d_fd, LOCK_EX | LOCK_NB);
	/*
	 * A file nobody keeps goes as soon as we hold it open: it lives
	 * exactly as long as the disk, and a crash leaves nothing behind.
	 * A reused file is the user's: it stays.
	 */
	if (!d->d_keep)
		disk_unlink(d);
	/* the label first: a file we made is ours from the start */
	size = (off_t)((npages + DISK_LABEL_PAGES) * PAGE_SIZE);
	if ((error = disk_label(d, npages)) != 0)
		return disk_fail(d, error, "cannot write the label");
	if (ftruncate(d->d_fd, size) != 0)
		return disk_fail(d, errno, "cannot size");
	if ((error = posix_fallocate(d->d_fd, 0, size)) != 0)
		return disk_fail(d, error, "cannot reserve space");
	/*
	 * O_DIRECT through fcntl, on the file we hold: an open with
	 * O_CREAT|O_DIRECT that the file system refuses fails only after it
	 * has made the file, and a second open would be a second lookup.
	 */
	d->d_direct = (flags & HOST_DISK_BUFFERED) == 0;
	if (d->d_direct && ((fl = fcntl(d->d_fd, F_GETFL)) < 0 ||
	    fcntl(d->d_fd, F_SETFL, fl | O_DIRECT) != 0)) {
		if (errno != EINVAL)
			return disk_fail(d, errno, "cannot ask for O_DIRECT");
		host_notice("uvmstress: notice: %s does not support O_DIRECT; "
		    "swap uses buffered I/O\n", d->d_path);
		d->d_direct = false;
	}
	d->d_npages = npages;
	d->d_sums = calloc(npages, sizeof(d->d_sums[0]));
	if (d->d_sums == NULL)
		return disk_fail(d, ENOMEM, "checksum table");
	pthread_mutex_init(&d->d_lock, NULL);
	pthread_cond_init(&d->d_cv, NULL);
	TAILQ_INIT(&d->d_queue);
	host_rng_init(&d->d_rng, host_rng_seed(), 0xd15c);
	d->d_nthreads = nthreads;
	for (i = 0; i < nthreads; i++) {
		char name[16];

		snprintf(name, sizeof(name), "disk%d", i);
		error = host_thread_create(&d->d_threads[i], name, disk_thread, d);
		if (error != 0) {
			d->d_nthreads = i;
			host_disk_close(d);
			snprintf(disk_err, sizeof(disk_err), "cannot start disk "
			    "threads: %s", strerror(error));
			return error;
		}
	}
	*dp = d;
	return 0;
}

void
host_disk_close(struct host_disk *d)
{
	int i;

	hs_lock(&d->d_lock);
	d->d_stop = true;
	hs_cond_broadcast(&d->d_cv);
	hs_unlock(&d->d_lock);
	for (i = 0; i < d->d_nthreads; i++)
		hs_join(d->d_threads[i]);
	if (!d->d_keep)
		disk_unlink(d);		/* before close: it checks the fd */
	close(d->d_fd);
	pthread_cond_destroy(&d->d_cv);
	pthread_mutex_destroy(&d->d_lock);
	free(d->d_sums);
	free(d);
}

/*
 * disk_enqueue: queue bp.  Somebody waits for a read (now, or soon): it
 * goes ahead of the queued writes (behind the reads queued before it), as
 * a disk scheduler favours reads over write-behind.  (Synchronous reads
 * are polled, host_disk_io, and never queue.)
 * => d_lock held
 */
static void
disk_enqueue(struct host_disk *d, struct buf *bp)
{
	struct buf *q, *last = NULL;

	if (bp->b_flags & B_READ) {
		TAILQ_FOREACH(q, &d->d_queue, b_freelist) {
			if ((q->b_flags & B_READ) == 0)
				break;
			last = q;
		}
		if (last == NULL)
			TAILQ_INSERT_HEAD(&d->d_queue, bp, b_freelist);
		else
			TAILQ_INSERT_AFTER(&d->d_queue, last, bp, b_freelist);
		return;
	}
	TAILQ_INSERT_TAIL(&d->d_queue, bp, b_freelist);
}

/* disk_accept: check bp and start its bookkeeping.  => no locks */
static void
disk_accept(struct host_disk *d, struct buf *bp)
{
	int i;

	KASSERT(bp->b_npages > 0 && bp->b_npages <= BUF_MAXPAGES);
	KASSERTMSG(bp->b_blkno + (uint64_t)bp->b_npages <= d->d_npages,
	    "disk: transfer of pages %llu+%d beyond the disk's %llu",
	    (unsigned long long)bp->b_blkno, bp->b_npages,
	    (unsigned long long)d->d_npages);
	for (i = 0; i < bp->b_npages; i++)
		KASSERT(bp->b_iov[i].iov_len == PAGE_SIZE &&
		    ((uintptr_t)bp->b_iov[i].iov_base & PAGE_MASK) == 0 &&
		    (bp->b_iov[i].iov_base != NULL || (bp->b_flags & B_READ)));
	bp->b_disk = d;
	bp->b_error = 0;
	bp->b_flags &= ~(B_DONE | B_ERROR | B_CORRUPT);
	bp->b_bufsize = (size_t)bp->b_npages * PAGE_SIZE;
	bp->b_submit_ns = host_real_ns();
	host_hook(HE_DISK_SUBMIT, bp, (uintptr_t)bp->b_blkno, __FILE__,
	    __LINE__);
}

/* Queue an accepted bp on its disk and wake a controller thread. */
static void
disk_submit(struct host_disk *d, struct buf *bp)
{
	hs_lock(&d->d_lock);
	disk_enqueue(d, bp);
	if (++d->d_qlen > atomic_load(&d->s_qmax))
		atomic_store(&d->s_qmax, d->d_qlen);
	hs_cond_signal(&d->d_cv);
	hs_unlock(&d->d_lock);
}

void
host_disk_strategy(struct host_disk *d, struct buf *bp)
{
	struct host_disk_plug *plug = disk_curplug;

	disk_accept(d, bp);
	if (plug != NULL) {
		TAILQ_INSERT_TAIL(&plug->hp_list, bp, b_freelist);
		plug->hp_count++;
		atomic_fetch_add(&d->s_plugged, 1);
		return;
	}
	disk_submit(d, bp);
}

void
host_disk_start_plug(struct host_disk_plug *plug)
{
	KASSERTMSG(disk_curplug == NULL, "host_disk_start_plug: this thread "
	    "holds a plug already");
	TAILQ_INIT(&plug->hp_list);
	plug->hp_count = 0;
	disk_curplug = plug;
}

void
host_disk_flush_plug(void)
{
	struct host_disk_plug *plug = disk_curplug;
	struct buf *bp;

	if (plug == NULL)
		return;
	while ((bp = TAILQ_FIRST(&plug->hp_list)) != NULL) {
		TAILQ_REMOVE(&plug->hp_list, bp, b_freelist);
		plug->hp_count--;
		disk_submit(bp->b_disk, bp);
	}
}

bool
host_disk_plugged(void)
{
	return disk_curplug != NULL;
}

void
host_disk_finish_plug(struct host_disk_plug *plug)
{
	KASSERTMSG(disk_curplug == plug, "host_disk_finish_plug: not this "
	    "thread's plug");
	host_disk_flush_plug();
	disk_curplug = NULL;
}

/*
 * host_disk_io: a synchronous transfer.  A read is polled: the waiting
 * thread runs the transfer itself, alongside whatever the disk threads
 * are doing (a second channel), and completes it through biodone as they
 * would; its waiter has nothing to do but wait, and a hand-off to a disk
 * thread and back would add two thread wake-ups to every swap-in that a
 * disk's own latency does not have.  Writes go through the queue.
 */
int
host_disk_io(struct host_disk *d, struct buf *bp)
{
	static _Thread_local _Alignas(PAGE_SIZE) char bucket[PAGE_SIZE];
	uint64_t t0;
	bool inject;

	KASSERT((bp->b_flags & (B_ASYNC | B_CALL)) == 0);
	if ((bp->b_flags & B_READ) == 0) {
		disk_accept(d, bp);
		disk_submit(d, bp);	/* never held in a plug: we wait now */
		return biowait(bp);
	}
	t0 = host_real_ns();
	disk_accept(d, bp);
	inject = INJ_NONE;
	if (atomic_load(&d->d_fail_permille) != 0 ||
	    atomic_load(&d->d_rot_permille) != 0) {
		hs_lock(&d->d_lock);
		inject = disk_inject(d, bp);
		hs_unlock(&d->d_lock);
	}
	disk_execute(d, bp, inject, bucket);
	atomic_fetch_add(&d->s_polled, 1);
	atomic_fetch_add(&d->s_polled_ns, host_real_ns() - t0);
	return biowait(bp);
}

void
host_disk_set_fail_rate(struct host_disk *d, unsigned permille)
{
	atomic_store(&d->d_fail_permille, permille > 1000 ? 1000 : permille);
}

void
host_disk_set_rot_rate(struct host_disk *d, unsigned permille)
{
	atomic_store(&d->d_rot_permille, permille > 1000 ? 1000 : permille);
}

uint64_t
host_disk_npages(const struct host_disk *d)
{
	return d->d_npages;
}

const char *
host_disk_path(const struct host_disk *d)
{
	return d->d_path;
}

void
host_disk_get_stats(struct host_disk *d, struct host_disk_stats *st)
{
	st->reads = atomic_load(&d->s_reads);
	st->writes = atomic_load(&d->s_writes);
	st->pages_read = atomic_load(&d->s_pread);
	st->pages_written = atomic_load(&d->s_pwritten);
	st->errors = atomic_load(&d->s_errors);
	st->injected = atomic_load(&d->s_injected);
	st->corrupt = atomic_load(&d->s_corrupt);
	st->rotten = atomic_load(&d->s_rotten);
	st->rotten_reads = atomic_load(&d->s_rotten_reads);
	st->busy_ns = atomic_load(&d->s_busy_ns);
	st->polled = atomic_load(&d->s_polled);
	st->polled_ns = atomic_load(&d->s_polled_ns);
	st->queue_max = atomic_load(&d->s_qmax);
	st->plugged = atomic_load(&d->s_plugged);
	st->direct = d->d_direct;
}
