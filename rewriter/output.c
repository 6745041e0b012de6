/*
 * output.c - write the output through a temporary file and rename (output.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "warn.h"

/* The temporary file, for the signal handler to remove. */
static char tmp_path[PATH_MAX];
static volatile sig_atomic_t tmp_live;

static void on_signal(int sig)
{
	if (tmp_live)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

int zp_output_check(const char *in, const char *out)
{
	struct stat si, so;

	if (stat(in, &si) == 0 && stat(out, &so) == 0 &&
	    si.st_dev == so.st_dev && si.st_ino == so.st_ino)
		return zp_error(out, "output is the input file itself; choose another output path");
	if (stat(out, &so) == 0 && S_ISDIR(so.st_mode))
		return zp_error(out, "output is a directory");
	return 0;
}

static int write_all(const char *path, int fd, const unsigned char *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = write(fd, buf + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return zp_error(path, "cannot write the output: %s", n < 0 ? strerror(errno) : "no space");
		done += (size_t)n;
	}
	return 0;
}

int zp_output_write(const char *path, mode_t mode, const unsigned char *buf, size_t size)
{
	/* Same directory as the output, so that rename() is atomic. */
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	if (*base == 0)
		return zp_error(path, "output path names a directory");
	if (snprintf(tmp_path, sizeof tmp_path, "%.*s.%s.zprewrite-XXXXXX", dirlen, path, base) >= (int)sizeof tmp_path)
		return zp_error(path, "output path too long");

	struct sigaction sa = { .sa_handler = on_signal }, old[3];
	int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);

	int rc = -1;
	int fd = mkstemp(tmp_path);
	if (fd < 0) {
		zp_error(path, "cannot create the output: %s", strerror(errno));
		goto out;
	}
	tmp_live = 1;
	if (write_all(path, fd, buf, size))
		goto fail;
	if (fchmod(fd, mode & 07777) < 0) {
		zp_error(path, "cannot set the output's mode: %s", strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		zp_error(path, "cannot write the output: %s", strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp_path, path) < 0) {
		zp_error(path, "cannot create the output: %s", strerror(errno));
		goto fail;
	}
	tmp_live = 0;
	rc = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp_path);
	tmp_live = 0;
out:
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return rc;
}
