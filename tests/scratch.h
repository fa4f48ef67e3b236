/*
 * tests/scratch.h: a test's own files, in a new mkdtemp directory that
 * the test removes at its end: tests never touch a path they did not
 * create (Criterion runs tests in parallel, in forked processes).
 */
#ifndef TESTS_SCRATCH_H
#define TESTS_SCRATCH_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* scratch_dir: a new directory /tmp/uvmstress-NAME.XXXXXX, in dir. */
static inline void
scratch_dir(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "/tmp/uvmstress-%s.XXXXXX", name);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static inline int
scratch_rm_one(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* scratch_remove: the directory and all in it (links, not their targets). */
static inline void
scratch_remove(const char *dir)
{
	nftw(dir, scratch_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* user_file: a new file of user content: what must never be touched. */
static inline void
user_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#endif /* TESTS_SCRATCH_H */
