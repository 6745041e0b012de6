/*
 * example-openlog.c - the example of docs/hooks.md ("Write your first hook"):
 * log every open()/openat() a program makes, with its result, to the file
 * named by $OPENLOG_FILE (stderr if it is unset), and a summary line when the
 * program exits.  docs/hooks.md shows this file whole; tests/t-hook-example.sh
 * checks that the two copies are identical and that the doc's session works.
 *
 *   zprewrite --hook openlog.so PROG PROG.logged
 *   OPENLOG_FILE=opens.log ./PROG.logged
 */
#include <zprewrite/hook.h>     /* the entry points and the zp_* helpers */
#include <asm/unistd.h>         /* __NR_open, __NR_openat... (kernel headers: no libc) */
#include <linux/fcntl.h>        /* AT_FDCWD, O_*, F_DUPFD_CLOEXEC */

#define LOG_FD_MIN 500          /* our descriptor, out of the program's way */
#define PATH_SHOWN 256          /* bytes of a path we copy and print */

static int log_fd = 2;          /* stderr, unless $OPENLOG_FILE names a file */
static unsigned long opens, failures;   /* shared by all threads: atomic adds */

/* Once, before the program's own code runs. */
ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	const char *file = zp_getenv("OPENLOG_FILE");
	long fd;

	(void)proc;
	if (!file || !*file)
		return 0;
	/* zp_syscallN: a real system call that does not come back into the hook */
	fd = zp_syscall4(__NR_openat, AT_FDCWD, (long)file,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		/* Move it up, so that the program's first open still gets 3. */
		log_fd = (int)zp_syscall3(__NR_fcntl, fd, F_DUPFD_CLOEXEC, LOG_FD_MIN);
		zp_syscall1(__NR_close, fd);
		fd = log_fd;
	}
	if (fd < 0) {
		zp_dprintf(2, "openlog: cannot open %s: %s\n", file, zp_errno_text(-fd));
		return 1;               /* non-zero: the process exits with status 127 */
	}
	return 0;
}

/* Before every system call: required.  We only watch, so let every call
 * through unchanged; the result comes to zp_hook_leave. */
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	(void)call;
	return ZP_PASS;
}

/* Copy the string at src, which belongs to the program and may be a bad
 * pointer, into dst (cut to size - 1 bytes).  zp_read_app fails instead of
 * crashing, but fails whole: read up to each page end, so that a short
 * string just before an unmapped page is still read. */
static int copy_string(char *dst, const char *src, size_t size)
{
	size_t n = 0, i, chunk;

	while (n < size - 1) {
		chunk = 4096 - (((uintptr_t)src + n) & 4095);
		if (chunk > size - 1 - n)
			chunk = size - 1 - n;
		if (zp_read_app(dst + n, src + n, chunk) < 0)
			return -1;
		for (i = 0; i < chunk; i++)
			if (dst[n + i] == '\0')
				return 0;
		n += chunk;
	}
	dst[n] = '\0';
	return 0;
}

/* After each call that was made, with its result (>= 0, or -errno). */
ZP_HOOK_EXPORT long zp_hook_leave(const struct zp_syscall *call, long result)
{
	char path[PATH_SHOWN];
	const char *p;

	if (call->nr == __NR_openat)
		p = (const char *)call->args[1];
	else if (call->nr == __NR_open)
		p = (const char *)call->args[0];
	else
		return result;
	/* A vfork child (posix_spawn's too) runs in its parent's memory: what
	 * it counts, the parent would report as its own.  It only logs. */
	if (!zp_shares_parent_memory()) {
		__atomic_fetch_add(&opens, 1, __ATOMIC_RELAXED);
		if (result < 0)
			__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	}
	if (copy_string(path, p, sizeof path) < 0)
		zp_snprintf(path, sizeof path, "%p (bad address)", (const void *)p);
	/* One zp_dprintf is one write(2): lines of threads do not mix. */
	if (result >= 0)
		zp_dprintf(log_fd, "openlog: \"%s\" = %ld\n", path, result);
	else
		zp_dprintf(log_fd, "openlog: \"%s\" = -1 %s (%s)\n", path,
			   zp_errno_name(-result), zp_errno_text(-result));
	return result;          /* what the program sees */
}

/* When the process ends with exit_group (exit(), or return from main). */
ZP_HOOK_EXPORT void zp_hook_exit(int status)
{
	if (zp_shares_parent_memory())
		return;         /* a vfork child: the counts are its parent's */
	zp_dprintf(log_fd, "openlog: %lu opens, %lu failed, exit status %d\n",
		   __atomic_load_n(&opens, __ATOMIC_RELAXED),
		   __atomic_load_n(&failures, __ATOMIC_RELAXED), status);
}
