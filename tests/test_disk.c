/*
 * tests/test_disk.c: the disk model: real file, O_DIRECT, the controller
 * threads, checksums, fault injection; and the paths it refuses (it never
 * writes, truncates or unlinks what it did not make).  Files go in a
 * mkdtemp directory per test (scratch_dir), removed at the end.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "host/disk.h"
#include "host/hook.h"
#include "host/thread.h"
#include "scratch.h"

static void
disk_setup(void)
{
	alarm(60);
	(void)host_thread_self();
}

TestSuite(disk, .init = disk_setup);

static void *
page_buf(int npages, int fill)
{
	void *p = aligned_alloc(PAGE_SIZE, (size_t)npages * PAGE_SIZE);

	cr_assert_not_null(p);
	memset(p, fill, (size_t)npages * PAGE_SIZE);
	return p;
}

/* The whole file (small ones), NUL-terminated; NULL if unreadable. */
static char *
file_text(const char *path)
{
	char *buf = malloc(1 << 16);
	ssize_t n;
	int fd;

	cr_assert_not_null(buf);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) < 0) {
		free(buf);
		return NULL;
	}
	n = read(fd, buf, (1 << 16) - 1);
	close(fd);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	return buf;
}

static void
setup_buf(struct buf *bp, int flags, uint64_t blkno, char **pages, int n)
{
	int i;

	memset(bp, 0, sizeof(*bp));
	bp->b_flags = flags;
	bp->b_blkno = blkno;
	bp->b_npages = n;
	for (i = 0; i < n; i++) {
		bp->b_iov[i].iov_base = pages[i];
		bp->b_iov[i].iov_len = PAGE_SIZE;
	}
}

Test(disk, write_then_read_back_scattered_pages)
{
	struct host_disk *d;
	struct host_disk_stats st;
	struct buf b;
	char *src[4], *dst[4];
	int i;

	cr_assert_eq(host_disk_open(NULL, 64, 0, 1, &d), 0, "%s",
	    host_disk_error());
	for (i = 0; i < 4; i++) {
		src[i] = page_buf(1, 'a' + i);	/* not contiguous */
		dst[i] = page_buf(1, 0);
	}
	setup_buf(&b, B_WRITE, 10, src, 4);
	cr_assert_eq(host_disk_io(d, &b), 0);
	setup_buf(&b, B_READ, 10, dst, 4);
	cr_assert_eq(host_disk_io(d, &b), 0);
	for (i = 0; i < 4; i++)
		cr_assert_eq(memcmp(src[i], dst[i], PAGE_SIZE), 0, "page %d", i);
	host_disk_get_stats(d, &st);
	cr_assert(st.direct, "O_DIRECT on this file system");
	cr_assert_eq(st.writes, 1);
	cr_assert_eq(st.pages_written, 4);
	cr_assert_eq(st.reads, 1);
	cr_assert_eq(st.corrupt, 0);
	host_disk_close(d);
}

Test(disk, the_file_is_real)
{
	struct host_disk *d;
	struct buf b;
	struct stat st;
	char *p = page_buf(1, 'z'), dir[64], path[128], got[16];
	int fd;

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(path, sizeof(path), "%s/swap", dir);
	cr_assert_eq(host_disk_open(path, 8, HOST_DISK_BUFFERED | HOST_DISK_KEEP,
	    1, &d), 0, "%s", host_disk_error());
	setup_buf(&b, B_WRITE, 3, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, got, sizeof(got), 0), 16);
	cr_assert_eq(memcmp(got, "uvmstress swap\n", 15), 0,
	    "page 0 is the label");
	cr_assert_eq(pread(fd, got, 8, 4 * PAGE_SIZE), 8);
	cr_assert_eq(got[0], 'z', "page 3 is at byte 4*4096 of the file");
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_size, 9 * PAGE_SIZE, "8 pages and the label");
	cr_assert_eq(st.st_mode & 0777, 0600);
	close(fd);
	host_disk_close(d);
	free(p);
	scratch_remove(dir);
}

Test(disk, a_file_not_kept_is_gone_while_in_use)
{
	struct host_disk *d;
	struct buf b;
	char *p = page_buf(1, 'y');

	cr_assert_eq(host_disk_open(NULL, 8, 0, 1, &d), 0);
	cr_assert_neq(access(host_disk_path(d), F_OK), 0,
	    "unlinked at open: a crash leaves nothing behind");
	setup_buf(&b, B_WRITE, 1, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	setup_buf(&b, B_READ, 1, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0, "still usable");
	host_disk_close(d);
}

Test(disk, keep_keeps_the_file)
{
	struct host_disk *d;
	char dir[64], path[128];

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(path, sizeof(path), "%s/swap", dir);
	cr_assert_eq(host_disk_open(path, 8, HOST_DISK_KEEP, 1, &d), 0);
	host_disk_close(d);
	cr_assert_eq(access(path, F_OK), 0);
	scratch_remove(dir);
}

Test(disk, a_new_path_not_kept_is_gone_while_in_use)
{
	struct host_disk *d;
	char dir[64], path[128];

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(path, sizeof(path), "%s/swap", dir);
	cr_assert_eq(host_disk_open(path, 8, 0, 1, &d), 0);
	cr_assert_neq(access(path, F_OK), 0, "unlinked at open");
	host_disk_close(d);
	cr_assert_eq(rmdir(dir), 0, "nothing left in %s", dir);
}

/* A regular file of somebody's: refused, EEXIST, byte for byte intact. */
Test(disk, an_existing_file_is_refused_untouched)
{
	static const int flags[] = { 0, HOST_DISK_KEEP, HOST_DISK_BUFFERED };
	struct host_disk *d;
	char dir[64], path[128], *text;
	int kind;
	size_t i;

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(path, sizeof(path), "%s/precious", dir);
	user_file(path, "precious user data\n");
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		cr_assert_eq(host_disk_open(path, 8, flags[i], 1, &d), EEXIST);
		cr_assert_not_null(strstr(host_disk_error(), path));
		cr_assert_not_null(strstr(host_disk_error(), "refused"));
		cr_assert_null(strchr(host_disk_error(), '\n'), "one line");
		text = file_text(path);
		cr_assert_not_null(text, "%s is gone", path);
		cr_assert_str_eq(text, "precious user data\n");
		free(text);
	}
	cr_assert_eq(host_disk_check(path, &kind), EEXIST);
	/* empty is no different: it is still not ours */
	cr_assert_eq(truncate(path, 0), 0);
	cr_assert_eq(host_disk_open(path, 8, 0, 1, &d), EEXIST);
	text = file_text(path);
	cr_assert_str_eq(text, "");
	free(text);
	scratch_remove(dir);
}

/* Neither the link nor its target is touched; a dangling one makes none. */
Test(disk, a_symlink_is_refused_untouched)
{
	struct host_disk *d;
	struct stat st;
	char dir[64], target[128], link[128], dangling[128], nowhere[128];
	char *text;

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(dangling, sizeof(dangling), "%s/dangling", dir);
	snprintf(nowhere, sizeof(nowhere), "%s/nowhere", dir);
	user_file(target, "the target\n");
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(symlink(nowhere, dangling), 0);
	cr_assert_eq(host_disk_open(link, 8, 0, 1, &d), EEXIST);
	cr_assert_not_null(strstr(host_disk_error(), "symbolic link"));
	cr_assert_eq(host_disk_open(link, 8, HOST_DISK_KEEP, 1, &d), EEXIST);
	cr_assert_eq(lstat(link, &st), 0, "the link is gone");
	cr_assert(S_ISLNK(st.st_mode));
	text = file_text(target);
	cr_assert_str_eq(text, "the target\n");
	free(text);
	cr_assert_eq(host_disk_open(dangling, 8, 0, 1, &d), EEXIST);
	cr_assert_eq(lstat(dangling, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_neq(access(nowhere, F_OK), 0, "the link's target was made");
	scratch_remove(dir);
}

/* A device (as /dev/null) and a FIFO: refused at once, still there. */
Test(disk, devices_and_fifos_are_refused_untouched)
{
	struct host_disk *d;
	struct stat st;
	char dir[64], dev[128], fifo[128];
	int kind;

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(dev, sizeof(dev), "%s/null", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mknod(dev, S_IFCHR | 0600, makedev(1, 3)), 0,
	    "mknod: %s (the tests run as root)", strerror(errno));
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(host_disk_open(dev, 8, 0, 1, &d), EEXIST);
	cr_assert_not_null(strstr(host_disk_error(), "character device"));
	cr_assert_eq(host_disk_open(dev, 8, HOST_DISK_KEEP, 1, &d), EEXIST);
	cr_assert_eq(host_disk_check(dev, &kind), EEXIST);
	cr_assert_eq(lstat(dev, &st), 0, "the device is gone");
	cr_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	cr_assert_eq(host_disk_open(fifo, 8, 0, 1, &d), EEXIST);
	cr_assert_not_null(strstr(host_disk_error(), "FIFO"));
	cr_assert_eq(lstat(fifo, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode));
	scratch_remove(dir);
}

/* A directory: a new file inside, gone at once unless kept. */
Test(disk, a_directory_gets_a_new_file_inside)
{
	struct host_disk *d;
	char dir[64], kept[512];
	int kind;

	scratch_dir(dir, sizeof(dir), "test-disk");
	cr_assert_eq(host_disk_check(dir, &kind), 0);
	cr_assert_eq(kind, HOST_DISK_DIR);
	cr_assert_eq(host_disk_open(dir, 8, 0, 1, &d), 0, "%s",
	    host_disk_error());
	cr_assert_eq(strncmp(host_disk_path(d), dir, strlen(dir)), 0);
	cr_assert_not_null(strstr(host_disk_path(d), "/uvmstress-swap."));
	cr_assert_neq(access(host_disk_path(d), F_OK), 0, "unlinked at open");
	host_disk_close(d);
	cr_assert_eq(host_disk_open(dir, 8, HOST_DISK_KEEP, 1, &d), 0);
	snprintf(kept, sizeof(kept), "%s", host_disk_path(d));
	host_disk_close(d);
	cr_assert_eq(access(kept, F_OK), 0, "%s was not kept", kept);
	cr_assert_eq(host_disk_check(kept, &kind), 0);
	cr_assert_eq(kind, HOST_DISK_REUSE);
	scratch_remove(dir);
}

/* A kept file is recognised by its label, reused, resized, and stays. */
Test(disk, a_kept_swap_file_is_reused_and_stays)
{
	struct host_disk *d, *d2;
	struct buf b;
	struct stat st;
	char dir[64], path[128], *p = page_buf(1, 'r');
	int kind;

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(path, sizeof(path), "%s/swap", dir);
	cr_assert_eq(host_disk_check(path, &kind), 0);
	cr_assert_eq(kind, HOST_DISK_NEW);
	cr_assert_eq(host_disk_open(path, 8, HOST_DISK_KEEP, 1, &d), 0);
	host_disk_close(d);
	cr_assert_eq(host_disk_check(path, &kind), 0);
	cr_assert_eq(kind, HOST_DISK_REUSE);
	/* not kept this time: still the user's file, so it stays */
	cr_assert_eq(host_disk_open(path, 16, 0, 1, &d), 0, "%s",
	    host_disk_error());
	cr_assert_eq(host_disk_npages(d), 16);
	cr_assert_eq(access(path, F_OK), 0, "a reused file was unlinked");
	/* while one disk holds it, another may not */
	cr_assert_eq(host_disk_open(path, 16, 0, 1, &d2), EBUSY);
	setup_buf(&b, B_WRITE, 15, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	setup_buf(&b, B_READ, 15, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	host_disk_close(d);
	cr_assert_eq(stat(path, &st), 0, "a reused file was unlinked");
	cr_assert_eq(st.st_size, 17 * PAGE_SIZE);
	free(p);
	scratch_remove(dir);
}

/* A damaged label, or another user's file: not ours any more. */
Test(disk, a_bad_label_or_another_owner_is_refused)
{
	struct host_disk *d;
	struct stat st;
	char dir[64], path[128], c = 'U';
	int fd;

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(path, sizeof(path), "%s/swap", dir);
	cr_assert_eq(host_disk_open(path, 8, HOST_DISK_KEEP, 1, &d), 0);
	host_disk_close(d);
	cr_assert_eq(chown(path, 4242, 4242), 0);
	cr_assert_eq(host_disk_open(path, 8, 0, 1, &d), EEXIST);
	cr_assert_not_null(strstr(host_disk_error(), "another user"));
	cr_assert_eq(chown(path, geteuid(), getegid()), 0);
	fd = open(path, O_WRONLY);
	cr_assert_eq(pwrite(fd, &c, 1, 0), 1);
	close(fd);
	cr_assert_eq(host_disk_open(path, 16, 0, 1, &d), EEXIST);
	cr_assert_not_null(strstr(host_disk_error(), "label"));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 9 * PAGE_SIZE, "resized though refused");
	scratch_remove(dir);
}

Test(disk, a_page_changed_behind_the_controller_fails_its_checksum)
{
	struct host_disk *d;
	struct host_disk_stats st;
	struct buf b;
	char *p = page_buf(1, 'q'), bad = 'X', dir[64], path[128];
	int fd;

	scratch_dir(dir, sizeof(dir), "test-disk");
	snprintf(path, sizeof(path), "%s/swap", dir);
	cr_assert_eq(host_disk_open(path, 8, HOST_DISK_BUFFERED | HOST_DISK_KEEP,
	    1, &d), 0);
	setup_buf(&b, B_WRITE, 2, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	fd = open(host_disk_path(d), O_WRONLY);
	/* disk page 2 is file page 3: page 0 is the label */
	cr_assert_eq(pwrite(fd, &bad, 1, 3 * PAGE_SIZE + 100), 1);
	close(fd);
	setup_buf(&b, B_READ, 2, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), EIO);
	cr_assert(b.b_flags & B_CORRUPT);
	/* and a page never written cannot be read back as data */
	setup_buf(&b, B_READ, 5, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), EIO);
	host_disk_get_stats(d, &st);
	cr_assert_eq(st.corrupt, 2);
	host_disk_close(d);
	free(p);
	scratch_remove(dir);
}

Test(disk, injected_failures_fail_and_poison)
{
	struct host_disk *d;
	struct host_disk_stats st;
	struct buf b;
	char *p[2] = { page_buf(1, '1'), page_buf(1, '2') };

	cr_assert_eq(host_disk_open(NULL, 8, 0, 1, &d), 0);
	host_disk_set_fail_rate(d, 1000);
	setup_buf(&b, B_WRITE, 0, p, 2);
	cr_assert_eq(host_disk_io(d, &b), EIO);
	host_disk_set_fail_rate(d, 0);
	setup_buf(&b, B_READ, 0, p, 2);
	cr_assert_eq(host_disk_io(d, &b), EIO, "a failed write leaves no data");
	host_disk_get_stats(d, &st);
	cr_assert_eq(st.injected, 1);
	cr_assert_eq(st.errors, 2);
	host_disk_close(d);
}

/* A bad sector: written fine, then every read fails until rewritten. */
Test(disk, a_rotten_sector_fails_every_read_until_rewritten)
{
	struct host_disk *d;
	struct host_disk_stats st;
	struct buf b;
	char *p[2] = { page_buf(1, '1'), page_buf(1, '2') };
	int i;

	cr_assert_eq(host_disk_open(NULL, 8, 0, 1, &d), 0);
	host_disk_set_rot_rate(d, 1000);
	setup_buf(&b, B_WRITE, 2, p, 2);
	cr_assert_eq(host_disk_io(d, &b), 0, "the write itself succeeds");
	host_disk_set_rot_rate(d, 0);
	for (i = 0; i < 3; i++) {
		setup_buf(&b, B_READ, 2, p, 1);
		cr_assert_eq(host_disk_io(d, &b), EIO, "read %d of the bad "
		    "sector", i);
		cr_assert_eq(b.b_flags & B_CORRUPT, 0, "no data: not corrupt");
	}
	setup_buf(&b, B_READ, 3, &p[1], 1);
	cr_assert_eq(host_disk_io(d, &b), 0, "only the first page rots");
	cr_assert_eq(p[1][0], '2');
	setup_buf(&b, B_WRITE, 2, p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	setup_buf(&b, B_READ, 2, p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0, "rewritten: good again");
	host_disk_get_stats(d, &st);
	cr_assert_eq(st.rotten, 1);
	cr_assert_eq(st.rotten_reads, 3);
	cr_assert_eq(st.injected, 0, "no transfer failed as such");
	host_disk_close(d);
}

static atomic_int ndone;
static pthread_t done_thread;

static void
async_done(struct buf *bp)
{
	done_thread = pthread_self();
	cr_assert(bp->b_flags & B_DONE);
	atomic_fetch_add(&ndone, 1);
}

Test(disk, async_completion_runs_on_the_controller)
{
	struct host_disk *d;
	struct buf b[8];
	char *p = page_buf(1, 'w');
	int i;

	cr_assert_eq(host_disk_open(NULL, 16, 0, 2, &d), 0);
	for (i = 0; i < 8; i++) {
		setup_buf(&b[i], B_WRITE | B_ASYNC | B_CALL, (uint64_t)i, &p, 1);
		b[i].b_iodone = async_done;
		host_disk_strategy(d, &b[i]);
	}
	host_disk_close(d);	/* drains the queue */
	cr_assert_eq(atomic_load(&ndone), 8);
	cr_assert_not(pthread_equal(done_thread, pthread_self()),
	    "completion came from a disk thread");
}

/* A NULL page in a read is a hole: read past into the bit bucket, unchecked. */
Test(disk, a_hole_in_a_read_is_read_past_unchecked)
{
	struct host_disk *d;
	struct host_disk_stats st;
	struct buf b;
	char *src[3] = { page_buf(1, 'x'), NULL, page_buf(1, 'z') };
	char *dst[3] = { page_buf(1, 0), NULL, page_buf(1, 0) };

	cr_assert_eq(host_disk_open(NULL, 16, 0, 1, &d), 0);
	setup_buf(&b, B_WRITE, 4, &src[0], 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	setup_buf(&b, B_WRITE, 6, &src[2], 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	/* page 5 was never written: alone it fails its check ... */
	setup_buf(&b, B_READ, 5, &dst[0], 1);
	cr_assert_eq(host_disk_io(d, &b), EIO);
	/* ... as a hole it is read past, and its neighbours come back */
	setup_buf(&b, B_READ, 4, dst, 3);
	cr_assert_eq(host_disk_io(d, &b), 0);
	cr_assert_eq(memcmp(dst[0], src[0], PAGE_SIZE), 0);
	cr_assert_eq(memcmp(dst[2], src[2], PAGE_SIZE), 0);
	host_disk_get_stats(d, &st);
	cr_assert_eq(st.corrupt, 1);
	host_disk_close(d);
}

/* Which thread completes the transfers (HE_DISK_DONE comes before biodone). */
static pthread_t io_done_thread;
static int io_done_events;		/* [a] */

static void
record_done_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	(void)obj;
	(void)arg;
	if (ev == HE_DISK_DONE) {
		io_done_thread = pthread_self();
		__atomic_fetch_add(&io_done_events, 1, __ATOMIC_RELEASE);
	}
}

/* A synchronous read is polled: its caller runs it; a write is queued. */
Test(disk, a_synchronous_read_is_run_by_its_caller)
{
	struct host_disk *d;
	struct host_disk_stats st;
	struct buf b;
	char *p = page_buf(1, 'r');

	cr_assert_eq(host_disk_open(NULL, 16, 0, 1, &d), 0);
	host_set_sched_hook(record_done_hook);
	setup_buf(&b, B_WRITE, 3, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	cr_assert_not(pthread_equal(io_done_thread, pthread_self()),
	    "the write was run by a disk thread");
	setup_buf(&b, B_READ, 3, &p, 1);
	cr_assert_eq(host_disk_io(d, &b), 0);
	cr_assert(pthread_equal(io_done_thread, pthread_self()),
	    "the read was run by its caller");
	cr_assert_eq(__atomic_load_n(&io_done_events, __ATOMIC_ACQUIRE), 2);
	host_set_sched_hook(NULL);
	host_disk_get_stats(d, &st);
	cr_assert_eq(st.polled, 1);
	cr_assert_gt(st.polled_ns, 0);
	cr_assert_eq(st.reads, 1);
	host_disk_close(d);
}

/*
 * Queued reads go ahead of queued writes: with the controller held in
 * its first write, two writes and then a read are queued; the read is
 * done second.
 */
static struct buf *gate_bp;
static int gate_open, gate_held;	/* [a] */
static struct buf *order[4];
static int norder;			/* [a] */

static void
gate_first_hook(enum hook_ev ev, const void *obj, uintptr_t arg)
{
	(void)arg;
	if (ev != HE_DISK_DONE || obj != gate_bp)
		return;
	__atomic_store_n(&gate_held, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE))
		usleep(100);
}

static void
order_done(struct buf *bp)
{
	order[__atomic_fetch_add(&norder, 1, __ATOMIC_ACQ_REL)] = bp;
}

Test(disk, queued_reads_go_ahead_of_queued_writes)
{
	struct host_disk *d;
	struct buf w[3], r;
	char *p = page_buf(1, 'o'), *q = page_buf(1, 0);
	int i;

	cr_assert_eq(host_disk_open(NULL, 16, 0, 1, &d), 0);
	setup_buf(&r, B_WRITE, 9, &p, 1);	/* something to read back */
	cr_assert_eq(host_disk_io(d, &r), 0);
	gate_bp = &w[0];
	host_set_sched_hook(gate_first_hook);
	for (i = 0; i < 3; i++) {
		setup_buf(&w[i], B_WRITE | B_ASYNC | B_CALL, (uint64_t)i, &p, 1);
		w[i].b_iodone = order_done;
		host_disk_strategy(d, &w[i]);
		while (i == 0 && !__atomic_load_n(&gate_held, __ATOMIC_ACQUIRE))
			usleep(100);
	}
	setup_buf(&r, B_READ | B_ASYNC | B_CALL, 9, &q, 1);
	r.b_iodone = order_done;
	host_disk_strategy(d, &r);
	__atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
	host_disk_close(d);	/* drains the queue */
	host_set_sched_hook(NULL);
	cr_assert_eq(__atomic_load_n(&norder, __ATOMIC_ACQUIRE), 4);
	cr_assert_eq(order[0], &w[0]);
	cr_assert_eq(order[1], &r, "the read waited behind queued writes");
	cr_assert_eq(order[2], &w[1]);
	cr_assert_eq(order[3], &w[2]);
	cr_assert_eq(memcmp(p, q, PAGE_SIZE), 0);
}

/*
 * A plug holds the transfers its thread queues (none reaches a disk
 * queue) until the finish sends them, in order.
 */
Test(disk, a_plug_holds_its_transfers_until_the_finish)
{
	struct host_disk *d;
	struct host_disk_stats st;
	struct host_disk_plug plug;
	struct buf w[3];
	char *p = page_buf(1, 'p');
	int i;

	cr_assert_eq(host_disk_open(NULL, 16, 0, 1, &d), 0);
	__atomic_store_n(&norder, 0, __ATOMIC_RELEASE);
	cr_assert_not(host_disk_plugged());
	host_disk_start_plug(&plug);
	cr_assert(host_disk_plugged());
	for (i = 0; i < 3; i++) {
		setup_buf(&w[i], B_WRITE | B_ASYNC | B_CALL, (uint64_t)i, &p, 1);
		w[i].b_iodone = order_done;
		host_disk_strategy(d, &w[i]);
	}
	cr_assert_eq(plug.hp_count, 3);
	host_disk_get_stats(d, &st);
	cr_assert_eq(st.plugged, 3);
	cr_assert_eq(st.queue_max, 0, "a held transfer reached the queue");
	cr_assert_eq(__atomic_load_n(&norder, __ATOMIC_ACQUIRE), 0);
	host_disk_finish_plug(&plug);
	cr_assert_not(host_disk_plugged());
	cr_assert_eq(plug.hp_count, 0);
	host_disk_close(d);	/* drains the queue */
	cr_assert_eq(__atomic_load_n(&norder, __ATOMIC_ACQUIRE), 3);
	for (i = 0; i < 3; i++)
		cr_assert_eq(order[i], &w[i], "transfer %d out of order", i);
}

/*
 * Its holder never waits on its own plug: a wait for a held transfer
 * sends what the plug holds (biowait sleeps: lwp_block flushes the plug),
 * and a synchronous write is never held.  (Broken, this test hangs until
 * the suite's alarm.)
 */
Test(disk, a_plug_goes_when_its_holder_waits)
{
	struct host_disk *d;
	struct host_disk_stats st;
	struct host_disk_plug plug;
	struct buf w, s, r;
	char *p = page_buf(1, 'h'), *q = page_buf(1, 's'), *back = page_buf(1, 0);

	cr_assert_eq(host_disk_open(NULL, 16, 0, 1, &d), 0);
	host_disk_start_plug(&plug);
	setup_buf(&w, B_WRITE, 2, &p, 1);
	host_disk_strategy(d, &w);
	cr_assert_eq(plug.hp_count, 1);
	cr_assert_eq(biowait(&w), 0);
	cr_assert_eq(plug.hp_count, 0, "the wait sent it");
	setup_buf(&s, B_WRITE, 3, &q, 1);
	cr_assert_eq(host_disk_io(d, &s), 0);
	cr_assert_eq(plug.hp_count, 0);
	host_disk_get_stats(d, &st);
	cr_assert_eq(st.plugged, 1, "the synchronous write was held");
	cr_assert(host_disk_plugged(), "the plug itself stays");
	host_disk_finish_plug(&plug);
	setup_buf(&r, B_READ, 2, &back, 1);
	cr_assert_eq(host_disk_io(d, &r), 0);
	cr_assert_eq(memcmp(back, p, PAGE_SIZE), 0);
	setup_buf(&r, B_READ, 3, &back, 1);
	cr_assert_eq(host_disk_io(d, &r), 0);
	cr_assert_eq(memcmp(back, q, PAGE_SIZE), 0);
	host_disk_close(d);
}

Test(disk, unusable_paths_and_sizes_say_why)
{
	struct host_disk *d;

	cr_assert_eq(host_disk_open("/nonexistent-dir/swap", 8, 0, 1, &d),
	    ENOENT);
	cr_assert_not_null(strstr(host_disk_error(), "/nonexistent-dir/swap"));
	cr_assert_eq(host_disk_open(NULL, 0, 0, 1, &d), EINVAL);
	cr_assert_not_null(strstr(host_disk_error(), "swap size"));
}
