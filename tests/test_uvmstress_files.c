/*
 * tests/test_uvmstress_files.c: uvmstress never writes, truncates or
 * deletes a path it did not create (issue 12).
 *
 * Each test runs the uvmstress binary (run(), tests/stresstest.h) on
 * scratch files in its own mkdtemp directory: user files, symlinks, a
 * character device made with mknod (the tests run as root), directories.
 * --swap-file takes a new path, a directory (a new file inside it) or a
 * swap file uvmstress made (its label); --json a new path, '-', or an
 * earlier report.  Anything else is refused with one line, exit 1, and
 * left exactly as it was.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stresstest.h"
#include "scratch.h"

TestSuite(uvmstress_files, .timeout = 120);

/*
 * A short swapping run: swap of 64M, so the file is 64M + the label.
 * --ops, not -t: a slow (ASan, loaded) host cannot cut it short.
 */
#define SWAP_RUN	"--scenario", "pressure", "--ram", "16M", "--ws", \
			"20M", "--swap", "64M", "--ops", "2000", "--lwps", "1"
#define SWAP_FILE_SIZE	((64 << 20) + 4096)
/* A short run for the JSON tests. */
#define SHORT_RUN	"--scenario", "touch", "--ram", "32M", "--pages", "64", \
	"--ops", "2000"

/* The file's text (never through a symlink), or NULL. */
static char *
file_text(const char *path)
{
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) < 0)
		return NULL;
	buf = slurp(fd);
	close(fd);
	return buf;
}

static void
assert_text(const char *path, const char *want)
{
	char *got = file_text(path);

	cr_assert_not_null(got, "%s is gone", path);
	cr_assert_str_eq(got, want, "%s was changed", path);
	free(got);
}

/* Entries in dir, other than . and ..; the last one's name in *name. */
static int
dir_entries(const char *dir, char *name, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (name != NULL)
			snprintf(name, len, "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/* A refusal: exit 1, one line naming the path. */
static void
assert_refused(struct result *r, const char *path)
{
	cr_assert_eq(r->status, 1, "%s: exit %d; stderr:\n%s", path,
	    r->status, r->err);
	cr_assert_eq(count_lines(r->err), 1, "stderr:\n%s", r->err);
	cr_assert_not_null(strstr(r->err, path), "stderr:\n%s", r->err);
	cr_assert_not_null(strstr(r->err, "refused"), "stderr:\n%s", r->err);
}

Test(uvmstress_files, an_existing_file_is_refused_and_left_as_it_was)
{
	char dir[64], path[128];
	struct result r;

	scratch_dir(dir, sizeof(dir), "files");
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	user_file(path, "my notes, not a swap file\n");
	RUN(&r, SWAP_RUN, "--swap-file", path);
	assert_refused(&r, path);
	cr_assert_not_null(strstr(r.err, "--keep-swap"),
	    "say how to reuse a file on purpose: %s", r.err);
	result_free(&r);
	assert_text(path, "my notes, not a swap file\n");
	RUN(&r, SWAP_RUN, "--swap-file", path, "--keep-swap");
	assert_refused(&r, path);
	result_free(&r);
	assert_text(path, "my notes, not a swap file\n");
	scratch_remove(dir);
}

Test(uvmstress_files, a_symlink_is_refused_and_neither_end_changes)
{
	char dir[64], target[128], link[128], got[128];
	struct result r;
	struct stat st;
	ssize_t n;

	scratch_dir(dir, sizeof(dir), "files");
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	user_file(target, "the link's target\n");
	cr_assert_eq(symlink(target, link), 0);
	RUN(&r, SWAP_RUN, "--swap-file", link);
	assert_refused(&r, link);
	result_free(&r);
	RUN(&r, SWAP_RUN, "--swap-file", link, "--keep-swap");
	assert_refused(&r, link);
	result_free(&r);
	cr_assert_eq(lstat(link, &st), 0, "the link is gone");
	cr_assert(S_ISLNK(st.st_mode));
	n = readlink(link, got, sizeof(got) - 1);
	cr_assert_gt(n, 0);
	got[n] = '\0';
	cr_assert_str_eq(got, target);
	assert_text(target, "the link's target\n");
	scratch_remove(dir);
}

/* As /dev/null was: as root the old code deleted it. */
Test(uvmstress_files, a_character_device_is_refused_and_stays)
{
	char dir[64], dev[128];
	struct result r;
	struct stat st;

	scratch_dir(dir, sizeof(dir), "files");
	snprintf(dev, sizeof(dev), "%s/null", dir);
	cr_assert_eq(mknod(dev, S_IFCHR | 0600, makedev(1, 3)), 0,
	    "mknod: %s (the tests run as root)", strerror(errno));
	RUN(&r, SWAP_RUN, "--swap-file", dev);
	assert_refused(&r, dev);
	cr_assert_not_null(strstr(r.err, "character device"), "%s", r.err);
	result_free(&r);
	RUN(&r, SWAP_RUN, "--swap-file", dev, "--keep-swap");
	assert_refused(&r, dev);
	result_free(&r);
	cr_assert_eq(lstat(dev, &st), 0, "the device is gone");
	cr_assert(S_ISCHR(st.st_mode), "no longer a device");
	cr_assert_eq(st.st_rdev, makedev(1, 3));
	scratch_remove(dir);
}

/* A new path: removed after the run; kept, it carries our label. */
Test(uvmstress_files, a_new_path_is_used_and_removed_unless_kept)
{
	char dir[64], path[128], label[16];
	struct result r;
	struct stat st;
	int fd;

	scratch_dir(dir, sizeof(dir), "files");
	snprintf(path, sizeof(path), "%s/swap", dir);
	RUN(&r, SWAP_RUN, "--swap-file", path, "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert(json_valid(r.out));
	result_free(&r);
	cr_assert_eq(dir_entries(dir, NULL, 0), 0, "%s left behind", path);
	RUN(&r, SWAP_RUN, "--swap-file", path, "--keep-swap", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	result_free(&r);
	cr_assert_eq(lstat(path, &st), 0, "%s was not kept", path);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, SWAP_FILE_SIZE, "64M and the label page");
	fd = open(path, O_RDONLY);
	cr_assert_eq(read(fd, label, sizeof(label)), (ssize_t)sizeof(label));
	close(fd);
	cr_assert_eq(memcmp(label, "uvmstress swap\n", 15), 0,
	    "no uvmstress label at the start of the file");
	scratch_remove(dir);
}

/*
 * A directory: a new file inside it, gone after the run; with
 * --keep-swap it stays, and a second run naming it reuses it (and, the
 * user's now, keeps it).
 */
Test(uvmstress_files, a_directory_gets_a_new_file_kept_only_on_request)
{
	char dir[64], kept[512], msg[600];
	struct result r;
	struct stat st;

	scratch_dir(dir, sizeof(dir), "files");
	RUN(&r, SWAP_RUN, "--swap-file", dir, "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	result_free(&r);
	cr_assert_eq(dir_entries(dir, NULL, 0), 0, "a swap file was left");

	RUN(&r, SWAP_RUN, "--swap-file", dir, "--keep-swap", "--json", "-");
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	cr_assert_eq(dir_entries(dir, kept, sizeof(kept)), 1);
	cr_assert_not_null(strstr(kept, "/uvmstress-swap."), "%s", kept);
	snprintf(msg, sizeof(msg), "swap file kept: %s", kept);
	cr_assert_not_null(strstr(r.err, msg), "stderr:\n%s", r.err);
	result_free(&r);
	cr_assert_eq(stat(kept, &st), 0);
	cr_assert_eq(st.st_size, SWAP_FILE_SIZE);
	cr_assert_eq(st.st_mode & 0777, 0600);

	RUN(&r, SWAP_RUN, "--swap-file", kept, "--json", "-");
	cr_assert_eq(r.status, 0, "reuse: exit %d; stderr:\n%s", r.status,
	    r.err);
	result_free(&r);
	cr_assert_eq(stat(kept, &st), 0, "a reused file was deleted");
	cr_assert_eq(st.st_size, SWAP_FILE_SIZE);
	cr_assert_eq(dir_entries(dir, NULL, 0), 1);
	scratch_remove(dir);
}

Test(uvmstress_files, json_over_a_file_that_is_not_a_report_is_refused)
{
	static const char text[] = "{\"mine\": true}\n";
	char dir[64], path[128], link[128], report[128];
	struct result r;

	scratch_dir(dir, sizeof(dir), "files");
	snprintf(path, sizeof(path), "%s/data.json", dir);
	snprintf(link, sizeof(link), "%s/link.json", dir);
	snprintf(report, sizeof(report), "%s/report.json", dir);
	user_file(path, text);
	RUN(&r, SHORT_RUN, "--json", path);
	assert_refused(&r, path);
	result_free(&r);
	assert_text(path, text);

	/* a link, even to a report, is not followed */
	RUN(&r, SHORT_RUN, "--json", report);
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	result_free(&r);
	cr_assert_eq(symlink(report, link), 0);
	RUN(&r, SHORT_RUN, "--json", link);
	assert_refused(&r, link);
	result_free(&r);
	cr_assert_eq(access(link, F_OK), 0);
	scratch_remove(dir);
}

/* (What --json did already; a guard that the refusals stay narrow.) */
Test(uvmstress_files, json_over_an_earlier_report_replaces_it)
{
	char dir[64], path[128], *text;
	struct result r;
	double seed;

	scratch_dir(dir, sizeof(dir), "files");
	snprintf(path, sizeof(path), "%s/report.json", dir);
	RUN(&r, SHORT_RUN, "--seed", "11", "--json", path);
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	result_free(&r);
	RUN(&r, SHORT_RUN, "--seed", "22", "--json", path);
	cr_assert_eq(r.status, 0, "exit %d; stderr:\n%s", r.status, r.err);
	result_free(&r);
	text = file_text(path);
	cr_assert_not_null(text);
	cr_assert(json_valid(text), "%s", text);
	cr_assert(json_num(text, "seed", &seed));
	cr_assert_eq(seed, 22, "the second report replaced the first");
	free(text);
	scratch_remove(dir);
}
