/*
 * hookutil.h - pieces shared by the sample hooks (trace, count, deny).
 *
 * A hook has no C library, so the samples carry the little they need here:
 * a bounded line builder, the number of arguments of each system call, a
 * way to tell a child that shares the hook's memory, and an output channel
 * that survives what the application does to its own file descriptors, in
 * the process and in its children.  Everything is `static inline` so that a
 * hook that includes this header but uses only part of it gets no
 * unused-function warnings and no dead code.  Tables hold names inline (char arrays, not
 * pointers) so that an embedded hook needs no relocations for them.
 */
#ifndef ZP_SAMPLES_HOOKUTIL_H
#define ZP_SAMPLES_HOOKUTIL_H

#include <zprewrite/hook.h>
#include <asm/unistd.h>
#include <asm-generic/errno.h>
#include <asm/stat.h>
#include <linux/fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>

#define HU_ATOMIC_LOAD(p)      __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define HU_ATOMIC_STORE(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* ---- a bounded line builder ---------------------------------------------
 * Output that does not fit is dropped (and `full` remembers it) instead of
 * overflowing: lines are built on the stack, whose budget is small. */

struct hu_sb {
	char  *buf;
	size_t len;   /* characters stored, always < cap */
	size_t cap;   /* size of buf, including room for the final NUL */
	int    full;  /* something was dropped */
};

static inline void hu_sb_init(struct hu_sb *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->len = 0;
	sb->cap = cap;
	sb->full = 0;
	buf[0] = '\0';
}

static inline size_t hu_sb_room(const struct hu_sb *sb)
{
	return sb->cap - 1 - sb->len;
}

static inline void hu_sb_putc(struct hu_sb *sb, char c)
{
	if (sb->len + 1 < sb->cap) {
		sb->buf[sb->len++] = c;
		sb->buf[sb->len] = '\0';
	} else {
		sb->full = 1;
	}
}

static inline void hu_sb_puts(struct hu_sb *sb, const char *s)
{
	while (*s)
		hu_sb_putc(sb, *s++);
}

__attribute__((format(printf, 2, 3)))
static inline void hu_sb_printf(struct hu_sb *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = zp_vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > hu_sb_room(sb)) {
		sb->full = 1;
		n = (int)hu_sb_room(sb);
	}
	sb->len += (size_t)n;
	sb->buf[sb->len] = '\0';
}

/* strace's "%#lx": 0 is "0", anything else 0x... (spelt out rather than
 * left to the '#' flag, whose handling of 0 varies between printfs). */
static inline void hu_sb_hex(struct hu_sb *sb, unsigned long v)
{
	if (v)
		hu_sb_printf(sb, "0x%lx", v);
	else
		hu_sb_putc(sb, '0');
}

/* Pad with spaces up to column `col` (strace aligns " = " at column 40). */
static inline void hu_sb_pad(struct hu_sb *sb, size_t col)
{
	while (sb->len < col && !sb->full)
		hu_sb_putc(sb, ' ');
}

/* "ENOENT (No such file or directory)" for a result -2, in strace's words. */
static inline void hu_sb_errno(struct hu_sb *sb, long err)
{
	const char *name = zp_errno_name(err);
	const char *text = zp_errno_text(err);

	if (name)
		hu_sb_printf(sb, "-1 %s (%s)", name, text ? text : "?");
	else
		hu_sb_printf(sb, "-1 (errno %ld)", err);
}

static inline int hu_is_error(long result)
{
	return result < 0 && result >= -4095;
}

/*
 * Number of arguments of each x86-64 system call (0..450), one digit each,
 * as strace prints them; unknown numbers get 6 like strace's syscall_0x...
 * A string rather than an array of small ints: it is compact and obviously
 * free of relocations.  open, openat, mknod, mknodat and mq_open count their
 * optional mode argument; clone counts all five of its register arguments.
 */
static inline int hu_nargs(long nr)
{
	static const char tab[] =
		"3331222336321440344332150433333312022130433366332323345550031421" /*   0 */
		"3341245332112232112212212322333122211403011002000222233331111222" /*  64 */
		"4322231122232322311122210032152121012522132213232154355533035554" /* 128 */
		"4433322221633121533131445310443421122241443256354155234554432032" /* 192 */
		"4434534345343365123644464632144244213214445525453214236653345332" /* 256 */
		"5351236554215646666666666666666666666666666666666666666666666666" /* 320 */
		"6666666666666666666666666666666666666666426435253322343456543421" /* 384 */
		"254";                                                            /* 448 */

	if (nr < 0 || nr >= (long)sizeof(tab) - 1)
		return 6;
	return tab[nr] - '0';
}

/* "name(0x1, 0x2, ...)": a call with raw hex arguments, as strace prints a
 * call it does not decode (and syscall_0x1f4(...) for an unknown number). */
static inline void hu_sb_raw_call(struct hu_sb *sb, const struct zp_syscall *call)
{
	const char *name = zp_syscall_name(call->nr);
	int i, n = name ? hu_nargs(call->nr) : 6;

	if (name)
		hu_sb_puts(sb, name);
	else
		hu_sb_printf(sb, "syscall_0x%lx", (unsigned long)call->nr);
	hu_sb_putc(sb, '(');
	for (i = 0; i < n; i++) {
		if (i)
			hu_sb_puts(sb, ", ");
		hu_sb_hex(sb, (unsigned long)call->args[i]);
	}
	hu_sb_putc(sb, ')');
}

/* ---- reading the application's memory ------------------------------------
 * A hook reads pointers the application passed, and a bad pointer faults in
 * the hook where the kernel would have returned EFAULT.  The runtime offers no
 * fault-safe copy, so refuse at least what cannot be a user address: NULL and
 * the low pages (mmap_min_addr; page 0 holds the trampoline) and anything
 * outside the lower canonical half.  The callers then print the pointer. */
static inline int hu_user_ptr_ok(unsigned long p, unsigned long len)
{
	return p >= 0x10000 && p < 0x800000000000UL &&
	       len <= 0x800000000000UL - p;
}

/* ---- children that share our memory ---------------------------------------
 * A vfork child (posix_spawn's, CPython's subprocess's) runs the hook in its
 * parent's memory until it execs or exits: what it writes there, the parent
 * finds as its own.  So in such a child the samples change nothing in their
 * static data: no counter, no recorded descriptor.  zp_shares_parent_memory()
 * tells, for a getpid; hu_in_shared_child() asks only once the process has
 * started such a child (hu_out_guard notes it, in the parent, before the
 * child exists), so that asking on every call costs nothing in programs
 * that never do. */

static int hu_shared_children __attribute__((unused));

static inline int hu_makes_shared_child(const struct zp_syscall *call)
{
	uint64_t flags;

	switch (call->nr) {
	case __NR_vfork:
		return 1;
	case __NR_clone:
		flags = (uint64_t)call->args[0];
		break;
	case __NR_clone3:   /* struct clone_args starts with the flags */
		if (zp_read_app(&flags, (const void *)call->args[0], sizeof(flags)))
			return 0;
		break;
	default:
		return 0;
	}
	return (flags & CLONE_VM) && !(flags & CLONE_THREAD);
}

static inline int hu_in_shared_child(void)
{
	return HU_ATOMIC_LOAD(&hu_shared_children) && zp_shares_parent_memory();
}

/* ---- the output channel --------------------------------------------------
 *
 * Lines go to the file named by an environment variable or else to the
 * process's stderr, through a descriptor of our own that we try to keep out
 * of the application's way:
 *   - it is moved high (>= 1000 when RLIMIT_NOFILE allows, below 1024 so that
 *     a huge soft limit does not make the kernel grow the table), where
 *     descriptors, allocated lowest-first, rarely reach;
 *   - it is O_CLOEXEC: an exec'd image does not inherit it (if that image is
 *     rewritten with the same hook, it opens its own);
 *   - stderr is duplicated too, so that output keeps going where the process
 *     started even if it redirects or closes its fd 2 (as strace's would);
 *   - hu_out_guard() sees the application's close/dup2/dup3/close_range
 *     before they are made: close of our number fails with EBADF (the
 *     application never opened it), close_range is made on both sides of
 *     it, and dup2/dup3 onto it moves ours up first;
 *   - if it is closed anyway (by code that was not rewritten), the write
 *     fails with EBADF and a file is reopened by its absolute path.
 * In a child that shares our memory, nothing is moved or reopened for good
 * (the parent would take the new number for its own): the child lets dup2
 * have our number, and writes to our descriptor only while it is still our
 * file (st_dev and st_ino), else to the file opened for that one line (or
 * to its fd 2 if that is our stderr).
 * A fork child has its own copy of all this and acts as the parent does.
 * The file is opened with O_APPEND and not truncated: forked children and
 * exec'd rewritten images of the same program append to it instead of
 * overwriting each other's lines, and each line is a single write(2).
 */

struct hu_out {
	int  fd;          /* current descriptor, -1 if lost; accessed atomically */
	int  owned;       /* fd is ours (not the application's own fd 2) */
	unsigned long dev, ino;   /* the file fd refers to (ino 0: unknown) */
	char path[512];   /* absolute path to reopen, "" when writing to stderr */
};

static struct hu_out hu_out __attribute__((unused)) = { 2, 0, 0, 0, "" };

static inline long hu_fcntl(long fd, long cmd, long arg)
{
	return zp_syscall3(__NR_fcntl, fd, cmd, arg);
}

static inline long hu_close(long fd)
{
	return zp_syscall1(__NR_close, fd);
}

/* Lowest descriptor we would like to live at. */
static inline long hu_fd_floor(void)
{
	struct { uint64_t cur, max; } rl;
	long lim = 1024;

	if (zp_syscall6(__NR_prlimit64, 0, 7 /* RLIMIT_NOFILE */, 0, (long)&rl, 0, 0) == 0 &&
	    rl.cur < 1024)
		lim = (long)rl.cur;
	if (lim >= 1024)
		return 1000;
	return lim > 48 ? lim - 24 : 10;
}

/* Duplicate fd to a high number (close-on-exec); -errno on failure. */
static inline long hu_fd_dup_high(long fd, long min)
{
	long nfd = hu_fcntl(fd, F_DUPFD_CLOEXEC, min);

	if (nfd < 0)
		nfd = hu_fcntl(fd, F_DUPFD_CLOEXEC, 10);
	return nfd;
}

/* Does fd refer to the file we write to? */
static inline int hu_out_is_ours(int fd)
{
	struct stat st;

	return zp_syscall2(__NR_fstat, fd, (long)&st) == 0 && st.st_ino &&
	       st.st_ino == HU_ATOMIC_LOAD(&hu_out.ino) && st.st_dev == HU_ATOMIC_LOAD(&hu_out.dev);
}

/* Record what fd refers to (not in a child that shares our memory). */
static inline void hu_out_identify(int fd)
{
	struct stat st;

	if (zp_syscall2(__NR_fstat, fd, (long)&st) != 0)
		st.st_dev = st.st_ino = 0;
	HU_ATOMIC_STORE(&hu_out.dev, st.st_dev);
	HU_ATOMIC_STORE(&hu_out.ino, st.st_ino);
}

static inline long hu_out_open_low(void)
{
	return zp_syscall4(__NR_openat, AT_FDCWD, (long)hu_out.path,
			   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
}

static inline long hu_out_open(void)
{
	long fd = hu_out_open_low(), nfd;

	if (fd < 0)
		return fd;
	nfd = hu_fd_dup_high(fd, hu_fd_floor());
	if (nfd >= 0) {
		hu_close(fd);
		fd = nfd;
	}
	return fd;
}

/*
 * Set up the channel from environment variable `var`.  `who` prefixes a
 * warning when the file cannot be opened; output then goes to stderr.
 * `lazy`: the file is opened at the first line written, not kept open from
 * here, so that a hook that writes only at exit (count) holds no
 * descriptor while the program runs: a program that lists its own
 * descriptors (CPython's test_subprocess does) sees none of ours.
 */
static inline void hu_out_init(const char *var, const char *who, int lazy)
{
	const char *path = zp_getenv(var);
	long fd;

	hu_out.path[0] = '\0';
	if (path && *path) {
		size_t n = zp_strlen(path), off = 0;

		if (path[0] != '/') {
			/* Absolute, so that a reopen after chdir finds the same file. */
			long r = zp_syscall2(__NR_getcwd, (long)hu_out.path, sizeof(hu_out.path));
			if (r > 1 && (size_t)r + n + 1 <= sizeof(hu_out.path)) {
				off = (size_t)r - 1;
				hu_out.path[off++] = '/';
			}
		}
		if (off + n < sizeof(hu_out.path)) {
			zp_memcpy(hu_out.path + off, path, n + 1);
			fd = hu_out_open();
			if (fd >= 0 && lazy) {
				/* Opened only to report a bad path at once: the
				 * first line written opens it again. */
				hu_close(fd);
				hu_out.fd = -1;
				hu_out.owned = 1;
				return;
			}
			if (fd >= 0) {
				hu_out.fd = (int)fd;
				hu_out.owned = 1;
				hu_out_identify((int)fd);
				return;
			}
			zp_dprintf(2, "%s: cannot open %s=%s: %s; writing to stderr\n",
				   who, var, path, zp_errno_text(-fd) ? zp_errno_text(-fd) : "error");
		} else {
			zp_dprintf(2, "%s: %s is too long; writing to stderr\n", who, var);
		}
		hu_out.path[0] = '\0';
	}
	fd = hu_fd_dup_high(2, hu_fd_floor());
	if (fd >= 0) {
		hu_out.fd = (int)fd;
		hu_out.owned = 1;
	} else {
		hu_out.fd = 2;   /* fd 2 is not open (or no room): use it as it is */
		hu_out.owned = 0;
	}
	hu_out_identify(hu_out.fd);
}

/* Our descriptor is lost: reopen the file, or fall back to fd 2. */
static inline int hu_out_recover(int lost)
{
	long fd = hu_out.path[0] ? hu_out_open() : -1;
	int expected = lost;

	if (fd < 0) {
		fd = 2;
		HU_ATOMIC_STORE(&hu_out.owned, 0);
	}
	/* Another thread may have recovered first: keep its descriptor. */
	if (!__atomic_compare_exchange_n(&hu_out.fd, &expected, (int)fd, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (fd != 2)
			hu_close(fd);
		return expected;
	}
	hu_out_identify((int)fd);
	return (int)fd;
}

/* In a child that shares our memory: see the comment above.  Writing to
 * stderr, the child's fd 2 will do while it is still the same file. */
static inline void hu_out_write_shared(const char *buf, size_t len)
{
	int fd = HU_ATOMIC_LOAD(&hu_out.fd);
	long once;

	if (fd >= 0 && hu_out_is_ours(fd)) {
		zp_write_all(fd, buf, len);
	} else if (!hu_out.path[0]) {
		if (hu_out_is_ours(2))
			zp_write_all(2, buf, len);
	} else if ((once = hu_out_open_low()) >= 0) {
		zp_write_all(once, buf, len);
		hu_close(once);
	}
}

static inline void hu_out_write(const char *buf, size_t len)
{
	int attempt;

	if (hu_in_shared_child()) {
		hu_out_write_shared(buf, len);
		return;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		int fd = HU_ATOMIC_LOAD(&hu_out.fd);
		long r;

		if (fd < 0)
			fd = hu_out_recover(fd);
		r = zp_write_all(fd, buf, len);
		if (r != -EBADF || !HU_ATOMIC_LOAD(&hu_out.owned))
			return;
		hu_out_recover(fd);
	}
}

/* The application is about to dup2 onto our number: move ours up, or if
 * there is no room let it go (the next write reopens the file). */
static inline void hu_out_move(int fd)
{
	long nfd = hu_fcntl(fd, F_DUPFD_CLOEXEC, (long)fd + 1);
	int expected = fd;

	if (!__atomic_compare_exchange_n(&hu_out.fd, &expected, nfd < 0 ? -1 : (int)nfd, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (nfd >= 0)
			hu_close(nfd);   /* another thread moved it first */
	} else if (nfd >= 0) {
		hu_close(fd);
	}
}

/* close_range over our number: close the application's numbers on either
 * side and answer the call, so that ours stays open where it is.  Left to
 * the kernel: CLOSE_RANGE_CLOEXEC (ours is close-on-exec already) and the
 * calls it refuses (EINVAL), which close nothing. */
static inline long hu_out_close_range(const struct zp_syscall *call, int fd)
{
	unsigned int first = (unsigned int)call->args[0], last = (unsigned int)call->args[1];
	unsigned long flags = (unsigned long)call->args[2];
	long r = 0;

	if (flags & ~(unsigned long)CLOSE_RANGE_UNSHARE || first > last ||
	    (unsigned int)fd < first || (unsigned int)fd > last)
		return ZP_PASS;
	if ((unsigned int)fd > first)
		r = zp_syscall3(__NR_close_range, first, fd - 1, (long)flags);
	if (r == 0 && (unsigned int)fd < last)
		r = zp_syscall3(__NR_close_range, fd + 1, last, (long)flags);
	return r;
}

/*
 * Call from zp_hook_enter before anything else: protects the output
 * descriptor from the application's close/dup2/dup3/close_range, and notes
 * a call that starts a child sharing our memory.  Returns ZP_PASS, or the
 * result to give the application (the call is not made).
 */
static inline long hu_out_guard(const struct zp_syscall *call)
{
	int fd, shared;

	switch (call->nr) {
	case __NR_vfork:
	case __NR_clone:
	case __NR_clone3:
		if (!HU_ATOMIC_LOAD(&hu_shared_children) && hu_makes_shared_child(call))
			HU_ATOMIC_STORE(&hu_shared_children, 1);
		return ZP_PASS;
	case __NR_close:
	case __NR_dup2:
	case __NR_dup3:
	case __NR_close_range:
		break;
	default:
		return ZP_PASS;
	}
	if (!HU_ATOMIC_LOAD(&hu_out.owned))
		return ZP_PASS;
	fd = HU_ATOMIC_LOAD(&hu_out.fd);
	/* In a child that shares our memory, the number recorded there may
	 * have become the child's own (it dup2'd onto it). */
	shared = hu_in_shared_child();
	if (fd < 0 || (shared && !hu_out_is_ours(fd)))
		return ZP_PASS;

	switch (call->nr) {
	case __NR_close:
		/* The application never opened this number. */
		if ((int)call->args[0] == fd)
			return -EBADF;
		break;
	case __NR_dup2:
	case __NR_dup3:
		if ((int)call->args[1] == fd && (int)call->args[0] != fd && !shared)
			hu_out_move(fd);
		break;
	case __NR_close_range:
		return hu_out_close_range(call, fd);
	}
	return ZP_PASS;
}

#endif /* ZP_SAMPLES_HOOKUTIL_H */
