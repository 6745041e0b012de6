/*
 * hookutil.h - pieces shared by the sample hooks (trace, count, deny).
 *
 * A hook has no C library, so the samples carry the little they need here:
 * a bounded line builder, an output channel that survives what the
 * application does to its own file descriptors, and the number of arguments
 * of each system call.  Everything is `static inline` so that a hook that
 * includes this header but uses only part of it gets no unused-function
 * warnings and no dead code.  Tables hold names inline (char arrays, not
 * pointers) so that an embedded hook needs no relocations for them.
 */
#ifndef ZP_SAMPLES_HOOKUTIL_H
#define ZP_SAMPLES_HOOKUTIL_H

#include <zprewrite/hook.h>
#include <asm/unistd.h>
#include <asm-generic/errno.h>
#include <linux/fcntl.h>
#include <linux/close_range.h>
#include <asm/stat.h>

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

/* ---- children that share our memory --------------------------------------
 *
 * A vfork child, and a clone child that shares memory without being a
 * thread (posix_spawn, CPython's subprocess, Go's os/exec), runs the hook in
 * its parent's memory but with a descriptor table of its own, until it
 * execs or exits: what it stores, the parent sees.  State that names a
 * descriptor (hu_out below) must not change there, or the parent ends up
 * with a variable that names one of its own files.
 *
 * hu_vm counts such children in flight, with the pid of the process that
 * made them, as fakepid.c does: hu_vm_enter before the call, hu_vm_leave
 * after it (leave runs only in the parent, once the child has exec'd or
 * exited).  A process that sees a count with another pid than its own is
 * such a child, or a fork child of a process that had one in flight, which
 * is then treated the same: safe, and only slower.  A child that shares
 * memory for its whole life (CLONE_VM without CLONE_VFORK) makes it
 * permanent: from then on only the process that set the channel up counts
 * as its owner.
 */

#define HU_CLONE_VM      0x00000100UL
#define HU_CLONE_VFORK   0x00004000UL
#define HU_CLONE_THREAD  0x00010000UL

#define HU_VM_PID(v)     ((long)((v) >> 32))
#define HU_VM_COUNT(v)   ((uint32_t)(v))
#define HU_VM_PACK(p, n) ((uint64_t)(p) << 32 | (uint32_t)(n))

static uint64_t hu_vm __attribute__((unused));         /* pid << 32 | children in flight */
static int hu_vm_forever __attribute__((unused));
static long hu_vm_owner __attribute__((unused));       /* set by hu_out_init */

/* The clone flags of a call that makes a process or a thread (0 if none). */
static inline uint64_t hu_clone_flags(const struct zp_syscall *call)
{
	uint64_t flags = 0;

	switch (call->nr) {
	case __NR_vfork:
		return HU_CLONE_VM | HU_CLONE_VFORK;
	case __NR_clone:
		return (uint64_t)call->args[0];
	case __NR_clone3:
		/* struct clone_args starts with its flags */
		if (zp_read_app(&flags, (const void *)call->args[0], sizeof(flags)) < 0)
			return 0;
		return flags;
	}
	return 0;
}

static inline int hu_shares_vm(uint64_t flags)
{
	return (flags & HU_CLONE_VM) && !(flags & HU_CLONE_THREAD);
}

static inline int hu_vm_cas(uint64_t *expected, uint64_t desired)
{
	return __atomic_compare_exchange_n(&hu_vm, expected, desired, 0,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* From zp_hook_enter, for a call the hook lets through. */
static inline void hu_vm_enter(const struct zp_syscall *call)
{
	uint64_t flags = hu_clone_flags(call), v;
	long pid;

	if (!hu_shares_vm(flags))
		return;
	if (!(flags & HU_CLONE_VFORK))
		HU_ATOMIC_STORE(&hu_vm_forever, 1);
	pid = zp_getpid();
	v = HU_ATOMIC_LOAD(&hu_vm);
	do {
		if (HU_VM_COUNT(v) && HU_VM_PID(v) != pid)
			return;   /* we are such a child ourselves: change nothing */
	} while (!hu_vm_cas(&v, HU_VM_PACK(pid, HU_VM_COUNT(v) + 1)));
}

/* From zp_hook_leave, with the call's result (a child's 0 is ignored). */
static inline void hu_vm_leave(const struct zp_syscall *call, long result)
{
	uint64_t v;
	long pid;

	if (result == 0 || !hu_shares_vm(hu_clone_flags(call)))
		return;
	pid = zp_getpid();
	v = HU_ATOMIC_LOAD(&hu_vm);
	do {
		if (!HU_VM_COUNT(v) || HU_VM_PID(v) != pid)
			return;
	} while (!hu_vm_cas(&v, HU_VM_PACK(pid, HU_VM_COUNT(v) - 1)));
}

/* Does this process run in another one's memory?  A kernel call only while
 * such a child is in flight. */
static inline int hu_in_vm_child(void)
{
	uint64_t v;

	if (HU_ATOMIC_LOAD(&hu_vm_forever))
		return zp_getpid() != hu_vm_owner;
	v = HU_ATOMIC_LOAD(&hu_vm);
	return HU_VM_COUNT(v) && HU_VM_PID(v) != zp_getpid();
}

/* ---- the output channel --------------------------------------------------
 *
 * Lines go to the file named by an environment variable or else to the
 * process's stderr, through a descriptor of our own that we try to keep out
 * of the application's way (from the start, or from the first line written:
 * see hu_out_init):
 *   - it is moved high (>= 1000 when RLIMIT_NOFILE allows, below 1024 so that
 *     a huge soft limit does not make the kernel grow the table), where
 *     descriptors, allocated lowest-first, rarely reach;
 *   - it is O_CLOEXEC: an exec'd image does not inherit it (if that image is
 *     rewritten with the same hook, it opens its own);
 *   - stderr is duplicated too, so that output keeps going where the process
 *     started even if it redirects or closes its fd 2 (as strace's would);
 *   - hu_out_guard() sees the application's close/dup2/dup3/close_range
 *     before they are made: close of our number fails with EBADF (the
 *     application never opened it), and our descriptor is moved out of the
 *     way of dup2/dup3/close_range;
 *   - if it is closed anyway (by code that was not rewritten), the write
 *     fails with EBADF and a file is reopened by its absolute path;
 *   - a child that runs in our memory (vfork) changes none of this: it
 *     writes through a descriptor of its own for each line.
 * The file is opened with O_APPEND and not truncated: forked children and
 * exec'd rewritten images of the same program append to it instead of
 * overwriting each other's lines, and each line is a single write(2).
 */

struct hu_out {
	int  fd;          /* current descriptor, -1 if lost; accessed atomically */
	int  owned;       /* fd is ours (not the application's own fd 2) */
	unsigned long dev, ino;  /* what fd is, when it writes to stderr */
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

/* The device and inode fd refers to (both 0 if it is not open). */
static inline void hu_fd_identity(long fd, unsigned long *dev, unsigned long *ino)
{
	struct stat st;

	*dev = *ino = 0;
	if (zp_syscall2(__NR_fstat, fd, (long)&st) == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	}
}

static inline long hu_out_open(void)
{
	long fd = zp_syscall6(__NR_openat, AT_FDCWD, (long)hu_out.path,
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY,
			      0644, 0, 0);
	long nfd;

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
 * `lazy`: a file is opened again at the first line written, not kept open
 * from here, so that a hook that writes only at exit (count) holds no
 * descriptor while the program runs: a program that lists its own
 * descriptors (CPython's test_subprocess does) sees none of ours.
 */
static inline void hu_out_init(const char *var, const char *who, int lazy)
{
	const char *path = zp_getenv(var);
	long fd;

	hu_vm_owner = zp_getpid();
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
			if (fd >= 0) {
				hu_out.fd = (int)fd;
				hu_out.owned = 1;
				if (lazy) {
					/* Opened only to report a bad path at once. */
					hu_close(fd);
					hu_out.fd = -1;
				}
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
		hu_fd_identity(fd, &hu_out.dev, &hu_out.ino);
	} else {
		hu_out.fd = 2;   /* fd 2 is not open (or no room): use it as it is */
		hu_out.owned = 0;
	}
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
	return (int)fd;
}

/*
 * Writing from a child that runs in our memory (see hu_vm below): our
 * descriptor number may have been closed or taken over in its descriptor
 * table, and hu_out must not change.  A file is opened afresh for the line;
 * stderr's duplicate is used only if it is still the same file.
 */
static inline void hu_out_write_vm_child(const char *buf, size_t len)
{
	unsigned long dev, ino;
	long fd;

	if (hu_out.path[0]) {
		fd = zp_syscall4(__NR_openat, AT_FDCWD, (long)hu_out.path,
				 O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY, 0);
		if (fd >= 0) {
			zp_write_all((int)fd, buf, len);
			hu_close(fd);
		}
		return;
	}
	fd = HU_ATOMIC_LOAD(&hu_out.fd);
	hu_fd_identity(fd, &dev, &ino);
	if (dev == hu_out.dev && ino == hu_out.ino && (dev || ino))
		zp_write_all((int)fd, buf, len);
}

static inline void hu_out_write(const char *buf, size_t len)
{
	int attempt;

	if (hu_in_vm_child()) {
		hu_out_write_vm_child(buf, len);
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

/* Move our descriptor out of [lo, hi], away from an application call that
 * is about to take or close those numbers.  If there is no room elsewhere:
 * with `taken`, the number is about to become the application's (dup2), so
 * we let it go and reopen on the next write; otherwise (close_range) we keep
 * it, since the call may yet fail, and the next write finds out (EBADF). */
static inline void hu_out_move(int fd, unsigned int lo, unsigned int hi, int taken)
{
	long nfd = -1;
	int expected = fd;

	/* A child in our memory loses its copy; ours must stay where it is. */
	if (hu_in_vm_child())
		return;
	if (hi < 0x7ffffffeu)
		nfd = hu_fcntl(fd, F_DUPFD_CLOEXEC, (long)hi + 1);
	if (nfd < 0 && lo > 3) {
		/* Below the range, if there is a free number there. */
		nfd = hu_fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (nfd >= (long)lo) {
			hu_close(nfd);
			nfd = -1;
		}
	}
	if (nfd < 0) {
		if (taken)
			__atomic_compare_exchange_n(&hu_out.fd, &expected, -1, 0,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		return;
	}
	if (__atomic_compare_exchange_n(&hu_out.fd, &expected, (int)nfd, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		hu_close(fd);
	else
		hu_close(nfd);
}

/*
 * Call from zp_hook_enter before anything else: protects the output
 * descriptor from the application's close/dup2/dup3/close_range.  Returns
 * ZP_PASS, or the result to give the application (the call is not made).
 */
static inline long hu_out_guard(const struct zp_syscall *call)
{
	int fd;

	switch (call->nr) {
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
	if (fd < 0)
		return ZP_PASS;

	switch (call->nr) {
	case __NR_close:
		/* The application never opened this number. */
		if ((int)call->args[0] == fd)
			return -EBADF;
		break;
	case __NR_dup2:
	case __NR_dup3:
		if ((int)call->args[1] == fd && (int)call->args[0] != fd)
			hu_out_move(fd, (unsigned int)fd, (unsigned int)fd, 1);
		break;
	case __NR_close_range: {
		unsigned int first = (unsigned int)call->args[0];
		unsigned int last = (unsigned int)call->args[1];

		if (!(call->args[2] & CLOSE_RANGE_CLOEXEC) &&
		    first <= (unsigned int)fd && (unsigned int)fd <= last)
			hu_out_move(fd, first, last, 0);
		break;
	}
	}
	return ZP_PASS;
}

#endif /* ZP_SAMPLES_HOOKUTIL_H */
