/*
 * trace.c - a sample zprewrite hook: print every system call like strace.
 *
 *   zprewrite --hook build/samples/trace.so PROG PROG.traced
 *   ZP_TRACE_FILE=trace.txt ./PROG.traced
 *
 * One line per call, `name(args) = result`, in strace's notation (strace 6.1
 * was the reference): strings quoted with C escapes and cut after 32 bytes,
 * flags by name, errors as `-1 ENOENT (No such file or directory)`.  Lines go
 * to stderr, or to the file named by ZP_TRACE_FILE (appended to).  Once the
 * process has made a clone/fork, lines start with `[pid TID] ` as with
 * strace -f.
 *
 * Why the line is printed in zp_hook_leave: the hook has no thread-local
 * storage to carry anything from enter to leave, but leave gets the same
 * call, so it can print arguments and result together, with one write(2)
 * per line so that threads do not interleave inside a line.  Buffers the
 * kernel fills (read, recvfrom, ...) are only meaningful then anyway.  Calls
 * that do not return (exit, exit_group, rt_sigreturn) are printed in enter;
 * execve too, since a successful one never comes back: as strace -f does for
 * a call that is cut in two, its line ends in `<unfinished ...>` and a failure
 * adds `<... execve resumed>) = -1 ENOENT (...)`.
 *
 * Decoding is table-driven: each common call has a row giving the type of
 * each argument and of its result; other calls print their arguments in hex,
 * as strace does for calls it does not decode.  A few calls whose arguments
 * depend on each other (fcntl, futex, clone, clone3) have their own printers.
 */
#include "hookutil.h"
#include <asm/stat.h>

#define LINE_MAX_LEN    768   /* one line, on the stack: see ZP_HOOK_STACK_BUDGET */
#define RESULT_ROOM     128   /* kept free for " = result (annotation)" */
#define STRING_LIMIT     32   /* bytes of a string or buffer shown (strace -s 32) */
#define ARRAY_LIMIT      32   /* elements of argv shown */
#define PATH_LIMIT     4096   /* paths are not cut at 32 bytes, only by the line */
#define RESULT_COLUMN    39   /* " = " starts at column 40, as in strace */

/* ---- argument and result types ------------------------------------------- */

enum kind {
	K_HEX = 0,      /* 0x1f, 0 */
	K_INT,          /* int, decimal */
	K_LONG,         /* long, decimal */
	K_ULONG,        /* size_t and friends, decimal */
	K_UINT,         /* unsigned int, decimal */
	K_PTR,          /* NULL or 0x7ffd... */
	K_FD,
	K_DIRFD,        /* AT_FDCWD or an fd */
	K_PATH,         /* NUL-terminated, shown whole */
	K_STR,          /* NUL-terminated, cut at 32 */
	K_BUF_IN,       /* buffer read by the kernel; its length is the next argument */
	K_BUF_OUT,      /* buffer filled by the kernel; its length is the result */
	K_BUF_OUT_HEX,  /* the same, every byte as \xNN (random bytes) */
	K_CWD,          /* getcwd's buffer: a string, after the call */
	K_FDPAIR,       /* int[2] filled by the kernel (pipe, socketpair) */
	K_STAT,         /* struct stat filled by the kernel */
	K_SOCKADDR,     /* struct sockaddr read by the kernel; its length is next */
	K_TIMESPEC,     /* struct timespec read by the kernel */
	K_ARGV,         /* char *[] */
	K_ENVP,         /* char *[], shown as a count */
	K_OPEN_FLAGS,   /* O_RDONLY|O_CLOEXEC */
	K_FD_FLAGS,     /* O_CLOEXEC|O_NONBLOCK without an access mode (pipe2, dup3) */
	K_MODE,         /* 0644 */
	K_MODE_CREAT,   /* a mode shown only if the previous flags have O_CREAT/O_TMPFILE */
	K_OCTAL,        /* umask's 022 */
	K_PROT,
	K_MAP_FLAGS,
	K_MREMAP_FLAGS,
	K_MREMAP_ADDR,  /* shown only if the previous flags have MREMAP_FIXED */
	K_MADVICE,
	K_AF,
	K_SOCK_TYPE,
	K_SOCK_PROTO,   /* depends on the family in the first argument */
	K_SOCK_FLAGS,   /* accept4: SOCK_CLOEXEC|SOCK_NONBLOCK */
	K_SOCK_LEVEL,
	K_SOCK_OPT,     /* depends on the level in the previous argument */
	K_MSG_FLAGS,
	K_SHUT_HOW,
	K_SIGNAL,
	K_SIG_HOW,
	K_WHENCE,
	K_ACCESS_MODE,
	K_AT_FLAGS,
	K_AT_REMOVEDIR, /* unlinkat */
	K_AT_EACCESS,   /* faccessat2 */
	K_STATX_FLAGS,
	K_RLIMIT,
	K_CLOCK,
	K_TIMER_FLAGS,
	K_WAIT_OPTIONS,
	K_EPOLL_OP,
	K_EPOLL_FLAGS,
	K_EFD_FLAGS,
	K_GRND_FLAGS,
	K_MFD_FLAGS,
	K_FLOCK_OP,
	K_CLOSE_RANGE_FLAGS,
	K_IOCTL_REQ,
	K_ARCH_PRCTL,
};

enum rkind {
	R_DEC = 0,
	R_HEX,          /* addresses: mmap, brk */
	R_OCT,          /* umask */
	R_NONE,         /* does not return: "?" */
	R_TIMEOUT,      /* poll and select: "0 (Timeout)" */
};

struct desc {
	uint8_t n;      /* number of arguments shown (0 with ret 0: not in the table) */
	uint8_t ret;
	uint8_t a[6];
	uint8_t known;  /* the row exists */
};

#define D0(r)                     { 0, r, { 0 }, 1 }
#define D1(r, a)                  { 1, r, { a }, 1 }
#define D2(r, a, b)               { 2, r, { a, b }, 1 }
#define D3(r, a, b, c)            { 3, r, { a, b, c }, 1 }
#define D4(r, a, b, c, d)         { 4, r, { a, b, c, d }, 1 }
#define D5(r, a, b, c, d, e)      { 5, r, { a, b, c, d, e }, 1 }
#define D6(r, a, b, c, d, e, f)   { 6, r, { a, b, c, d, e, f }, 1 }

#define NDESC 451

static const struct desc descs[NDESC] = {
	[__NR_read]            = D3(R_DEC, K_FD, K_BUF_OUT, K_ULONG),
	[__NR_write]           = D3(R_DEC, K_FD, K_BUF_IN, K_ULONG),
	[__NR_open]            = D3(R_DEC, K_PATH, K_OPEN_FLAGS, K_MODE_CREAT),
	[__NR_close]           = D1(R_DEC, K_FD),
	[__NR_stat]            = D2(R_DEC, K_PATH, K_STAT),
	[__NR_fstat]           = D2(R_DEC, K_FD, K_STAT),
	[__NR_lstat]           = D2(R_DEC, K_PATH, K_STAT),
	[__NR_poll]            = D3(R_TIMEOUT, K_PTR, K_UINT, K_INT),
	[__NR_lseek]           = D3(R_DEC, K_FD, K_LONG, K_WHENCE),
	[__NR_mmap]            = D6(R_HEX, K_PTR, K_ULONG, K_PROT, K_MAP_FLAGS, K_FD, K_HEX),
	[__NR_mprotect]        = D3(R_DEC, K_PTR, K_ULONG, K_PROT),
	[__NR_munmap]          = D2(R_DEC, K_PTR, K_ULONG),
	[__NR_brk]             = D1(R_HEX, K_PTR),
	[__NR_rt_sigaction]    = D4(R_DEC, K_SIGNAL, K_PTR, K_PTR, K_ULONG),
	[__NR_rt_sigprocmask]  = D4(R_DEC, K_SIG_HOW, K_PTR, K_PTR, K_ULONG),
	[__NR_rt_sigreturn]    = D0(R_NONE),
	[__NR_ioctl]           = D3(R_DEC, K_FD, K_IOCTL_REQ, K_HEX),
	[__NR_pread64]         = D4(R_DEC, K_FD, K_BUF_OUT, K_ULONG, K_LONG),
	[__NR_pwrite64]        = D4(R_DEC, K_FD, K_BUF_IN, K_ULONG, K_LONG),
	[__NR_readv]           = D3(R_DEC, K_FD, K_PTR, K_INT),
	[__NR_writev]          = D3(R_DEC, K_FD, K_PTR, K_INT),
	[__NR_access]          = D2(R_DEC, K_PATH, K_ACCESS_MODE),
	[__NR_pipe]            = D1(R_DEC, K_FDPAIR),
	[__NR_select]          = D5(R_TIMEOUT, K_INT, K_PTR, K_PTR, K_PTR, K_PTR),
	[__NR_sched_yield]     = D0(R_DEC),
	[__NR_mremap]          = D5(R_HEX, K_PTR, K_ULONG, K_ULONG, K_MREMAP_FLAGS, K_MREMAP_ADDR),
	[__NR_msync]           = D3(R_DEC, K_PTR, K_ULONG, K_HEX),
	[__NR_madvise]         = D3(R_DEC, K_PTR, K_ULONG, K_MADVICE),
	[__NR_dup]             = D1(R_DEC, K_FD),
	[__NR_dup2]            = D2(R_DEC, K_FD, K_FD),
	[__NR_pause]           = D0(R_DEC),
	[__NR_nanosleep]       = D2(R_DEC, K_TIMESPEC, K_PTR),
	[__NR_alarm]           = D1(R_DEC, K_UINT),
	[__NR_getpid]          = D0(R_DEC),
	[__NR_sendfile]        = D4(R_DEC, K_FD, K_FD, K_PTR, K_ULONG),
	[__NR_socket]          = D3(R_DEC, K_AF, K_SOCK_TYPE, K_SOCK_PROTO),
	[__NR_connect]         = D3(R_DEC, K_FD, K_SOCKADDR, K_INT),
	[__NR_accept]          = D3(R_DEC, K_FD, K_PTR, K_PTR),
	[__NR_sendto]          = D6(R_DEC, K_FD, K_BUF_IN, K_ULONG, K_MSG_FLAGS, K_SOCKADDR, K_INT),
	[__NR_recvfrom]        = D6(R_DEC, K_FD, K_BUF_OUT, K_ULONG, K_MSG_FLAGS, K_PTR, K_PTR),
	[__NR_sendmsg]         = D3(R_DEC, K_FD, K_PTR, K_MSG_FLAGS),
	[__NR_recvmsg]         = D3(R_DEC, K_FD, K_PTR, K_MSG_FLAGS),
	[__NR_shutdown]        = D2(R_DEC, K_FD, K_SHUT_HOW),
	[__NR_bind]            = D3(R_DEC, K_FD, K_SOCKADDR, K_INT),
	[__NR_listen]          = D2(R_DEC, K_FD, K_INT),
	[__NR_getsockname]     = D3(R_DEC, K_FD, K_PTR, K_PTR),
	[__NR_getpeername]     = D3(R_DEC, K_FD, K_PTR, K_PTR),
	[__NR_socketpair]      = D4(R_DEC, K_AF, K_SOCK_TYPE, K_SOCK_PROTO, K_FDPAIR),
	[__NR_setsockopt]      = D5(R_DEC, K_FD, K_SOCK_LEVEL, K_SOCK_OPT, K_PTR, K_INT),
	[__NR_getsockopt]      = D5(R_DEC, K_FD, K_SOCK_LEVEL, K_SOCK_OPT, K_PTR, K_PTR),
	[__NR_fork]            = D0(R_DEC),
	[__NR_vfork]           = D0(R_DEC),
	[__NR_execve]          = D3(R_DEC, K_PATH, K_ARGV, K_ENVP),
	[__NR_exit]            = D1(R_NONE, K_INT),
	[__NR_wait4]           = D4(R_DEC, K_INT, K_PTR, K_WAIT_OPTIONS, K_PTR),
	[__NR_kill]            = D2(R_DEC, K_INT, K_SIGNAL),
	[__NR_uname]           = D1(R_DEC, K_PTR),
	[__NR_flock]           = D2(R_DEC, K_FD, K_FLOCK_OP),
	[__NR_fsync]           = D1(R_DEC, K_FD),
	[__NR_fdatasync]       = D1(R_DEC, K_FD),
	[__NR_truncate]        = D2(R_DEC, K_PATH, K_LONG),
	[__NR_ftruncate]       = D2(R_DEC, K_FD, K_LONG),
	[__NR_getdents]        = D3(R_DEC, K_FD, K_PTR, K_UINT),
	[__NR_getcwd]          = D2(R_DEC, K_CWD, K_ULONG),
	[__NR_chdir]           = D1(R_DEC, K_PATH),
	[__NR_fchdir]          = D1(R_DEC, K_FD),
	[__NR_rename]          = D2(R_DEC, K_PATH, K_PATH),
	[__NR_mkdir]           = D2(R_DEC, K_PATH, K_MODE),
	[__NR_rmdir]           = D1(R_DEC, K_PATH),
	[__NR_creat]           = D2(R_DEC, K_PATH, K_MODE),
	[__NR_link]            = D2(R_DEC, K_PATH, K_PATH),
	[__NR_unlink]          = D1(R_DEC, K_PATH),
	[__NR_symlink]         = D2(R_DEC, K_PATH, K_PATH),
	[__NR_readlink]        = D3(R_DEC, K_PATH, K_BUF_OUT, K_ULONG),
	[__NR_chmod]           = D2(R_DEC, K_PATH, K_MODE),
	[__NR_fchmod]          = D2(R_DEC, K_FD, K_MODE),
	[__NR_chown]           = D3(R_DEC, K_PATH, K_INT, K_INT),
	[__NR_fchown]          = D3(R_DEC, K_FD, K_INT, K_INT),
	[__NR_lchown]          = D3(R_DEC, K_PATH, K_INT, K_INT),
	[__NR_umask]           = D1(R_OCT, K_OCTAL),
	[__NR_gettimeofday]    = D2(R_DEC, K_PTR, K_PTR),
	[__NR_getrlimit]       = D2(R_DEC, K_RLIMIT, K_PTR),
	[__NR_getrusage]       = D2(R_DEC, K_INT, K_PTR),
	[__NR_sysinfo]         = D1(R_DEC, K_PTR),
	[__NR_times]           = D1(R_DEC, K_PTR),
	[__NR_getuid]          = D0(R_DEC),
	[__NR_getgid]          = D0(R_DEC),
	[__NR_setuid]          = D1(R_DEC, K_INT),
	[__NR_setgid]          = D1(R_DEC, K_INT),
	[__NR_geteuid]         = D0(R_DEC),
	[__NR_getegid]         = D0(R_DEC),
	[__NR_setpgid]         = D2(R_DEC, K_INT, K_INT),
	[__NR_getppid]         = D0(R_DEC),
	[__NR_getpgrp]         = D0(R_DEC),
	[__NR_setsid]          = D0(R_DEC),
	[__NR_setreuid]        = D2(R_DEC, K_INT, K_INT),
	[__NR_setregid]        = D2(R_DEC, K_INT, K_INT),
	[__NR_getgroups]       = D2(R_DEC, K_INT, K_PTR),
	[__NR_setgroups]       = D2(R_DEC, K_INT, K_PTR),
	[__NR_setresuid]       = D3(R_DEC, K_INT, K_INT, K_INT),
	[__NR_getresuid]       = D3(R_DEC, K_PTR, K_PTR, K_PTR),
	[__NR_setresgid]       = D3(R_DEC, K_INT, K_INT, K_INT),
	[__NR_getresgid]       = D3(R_DEC, K_PTR, K_PTR, K_PTR),
	[__NR_getpgid]         = D1(R_DEC, K_INT),
	[__NR_getsid]          = D1(R_DEC, K_INT),
	[__NR_rt_sigpending]   = D2(R_DEC, K_PTR, K_ULONG),
	[__NR_rt_sigtimedwait] = D4(R_DEC, K_PTR, K_PTR, K_PTR, K_ULONG),
	[__NR_rt_sigsuspend]   = D2(R_DEC, K_PTR, K_ULONG),
	[__NR_sigaltstack]     = D2(R_DEC, K_PTR, K_PTR),
	[__NR_statfs]          = D2(R_DEC, K_PATH, K_PTR),
	[__NR_fstatfs]         = D2(R_DEC, K_FD, K_PTR),
	[__NR_arch_prctl]      = D2(R_DEC, K_ARCH_PRCTL, K_HEX),
	[__NR_setrlimit]       = D2(R_DEC, K_RLIMIT, K_PTR),
	[__NR_chroot]          = D1(R_DEC, K_PATH),
	[__NR_gettid]          = D0(R_DEC),
	[__NR_readahead]       = D3(R_DEC, K_FD, K_LONG, K_ULONG),
	[__NR_tkill]           = D2(R_DEC, K_INT, K_SIGNAL),
	[__NR_time]            = D1(R_DEC, K_PTR),
	[__NR_sched_setaffinity] = D3(R_DEC, K_INT, K_ULONG, K_PTR),
	[__NR_sched_getaffinity] = D3(R_DEC, K_INT, K_ULONG, K_PTR),
	[__NR_epoll_create]    = D1(R_DEC, K_INT),
	[__NR_getdents64]      = D3(R_DEC, K_FD, K_PTR, K_UINT),
	[__NR_set_tid_address] = D1(R_DEC, K_PTR),
	[__NR_fadvise64]       = D4(R_DEC, K_FD, K_LONG, K_LONG, K_INT),
	[__NR_clock_gettime]   = D2(R_DEC, K_CLOCK, K_PTR),
	[__NR_clock_getres]    = D2(R_DEC, K_CLOCK, K_PTR),
	[__NR_clock_nanosleep] = D4(R_DEC, K_CLOCK, K_TIMER_FLAGS, K_TIMESPEC, K_PTR),
	[__NR_exit_group]      = D1(R_NONE, K_INT),
	[__NR_epoll_wait]      = D4(R_DEC, K_FD, K_PTR, K_INT, K_INT),
	[__NR_epoll_ctl]       = D4(R_DEC, K_FD, K_EPOLL_OP, K_FD, K_PTR),
	[__NR_tgkill]          = D3(R_DEC, K_INT, K_INT, K_SIGNAL),
	[__NR_waitid]          = D5(R_DEC, K_INT, K_INT, K_PTR, K_WAIT_OPTIONS, K_PTR),
	[__NR_inotify_add_watch] = D3(R_DEC, K_FD, K_PATH, K_HEX),
	[__NR_openat]          = D4(R_DEC, K_DIRFD, K_PATH, K_OPEN_FLAGS, K_MODE_CREAT),
	[__NR_mkdirat]         = D3(R_DEC, K_DIRFD, K_PATH, K_MODE),
	[__NR_fchownat]        = D5(R_DEC, K_DIRFD, K_PATH, K_INT, K_INT, K_AT_FLAGS),
	[__NR_newfstatat]      = D4(R_DEC, K_DIRFD, K_PATH, K_STAT, K_AT_FLAGS),
	[__NR_unlinkat]        = D3(R_DEC, K_DIRFD, K_PATH, K_AT_REMOVEDIR),
	[__NR_renameat]        = D4(R_DEC, K_DIRFD, K_PATH, K_DIRFD, K_PATH),
	[__NR_linkat]          = D5(R_DEC, K_DIRFD, K_PATH, K_DIRFD, K_PATH, K_AT_FLAGS),
	[__NR_symlinkat]       = D3(R_DEC, K_PATH, K_DIRFD, K_PATH),
	[__NR_readlinkat]      = D4(R_DEC, K_DIRFD, K_PATH, K_BUF_OUT, K_ULONG),
	[__NR_fchmodat]        = D3(R_DEC, K_DIRFD, K_PATH, K_MODE),
	[__NR_faccessat]       = D3(R_DEC, K_DIRFD, K_PATH, K_ACCESS_MODE),
	[__NR_pselect6]        = D6(R_TIMEOUT, K_INT, K_PTR, K_PTR, K_PTR, K_PTR, K_PTR),
	[__NR_ppoll]           = D5(R_TIMEOUT, K_PTR, K_UINT, K_PTR, K_PTR, K_ULONG),
	[__NR_set_robust_list] = D2(R_DEC, K_PTR, K_ULONG),
	[__NR_utimensat]       = D4(R_DEC, K_DIRFD, K_PATH, K_PTR, K_AT_FLAGS),
	[__NR_epoll_pwait]     = D6(R_DEC, K_FD, K_PTR, K_INT, K_INT, K_PTR, K_ULONG),
	[__NR_timerfd_settime] = D4(R_DEC, K_FD, K_INT, K_PTR, K_PTR),
	[__NR_fallocate]       = D4(R_DEC, K_FD, K_INT, K_LONG, K_LONG),
	[__NR_eventfd]         = D1(R_DEC, K_UINT),
	[__NR_accept4]         = D4(R_DEC, K_FD, K_PTR, K_PTR, K_SOCK_FLAGS),
	[__NR_eventfd2]        = D2(R_DEC, K_UINT, K_EFD_FLAGS),
	[__NR_epoll_create1]   = D1(R_DEC, K_EPOLL_FLAGS),
	[__NR_dup3]            = D3(R_DEC, K_FD, K_FD, K_FD_FLAGS),
	[__NR_pipe2]           = D2(R_DEC, K_FDPAIR, K_FD_FLAGS),
	[__NR_recvmmsg]        = D5(R_DEC, K_FD, K_PTR, K_UINT, K_MSG_FLAGS, K_PTR),
	[__NR_prlimit64]       = D4(R_DEC, K_INT, K_RLIMIT, K_PTR, K_PTR),
	[__NR_sendmmsg]        = D4(R_DEC, K_FD, K_PTR, K_UINT, K_MSG_FLAGS),
	[__NR_getcpu]          = D3(R_DEC, K_PTR, K_PTR, K_PTR),
	[__NR_renameat2]       = D5(R_DEC, K_DIRFD, K_PATH, K_DIRFD, K_PATH, K_HEX),
	[__NR_getrandom]       = D3(R_DEC, K_BUF_OUT_HEX, K_ULONG, K_GRND_FLAGS),
	[__NR_memfd_create]    = D2(R_DEC, K_STR, K_MFD_FLAGS),
	[__NR_execveat]        = D5(R_DEC, K_DIRFD, K_PATH, K_ARGV, K_ENVP, K_AT_FLAGS),
	[__NR_copy_file_range] = D6(R_DEC, K_FD, K_PTR, K_FD, K_PTR, K_ULONG, K_UINT),
	[__NR_statx]           = D5(R_DEC, K_DIRFD, K_PATH, K_STATX_FLAGS, K_HEX, K_PTR),
	[__NR_rseq]            = D4(R_DEC, K_PTR, K_HEX, K_INT, K_HEX),
	[__NR_pidfd_open]      = D2(R_DEC, K_INT, K_HEX),
	[__NR_close_range]     = D3(R_DEC, K_UINT, K_UINT, K_CLOSE_RANGE_FLAGS),
	[__NR_openat2]         = D4(R_DEC, K_DIRFD, K_PATH, K_PTR, K_ULONG),
	[__NR_faccessat2]      = D4(R_DEC, K_DIRFD, K_PATH, K_ACCESS_MODE, K_AT_EACCESS),
	[__NR_epoll_pwait2]    = D6(R_DEC, K_FD, K_PTR, K_INT, K_PTR, K_PTR, K_ULONG),
};

/* ---- names of flags and constants ----------------------------------------
 * Values are the x86-64 ABI's (written out rather than taken from headers so
 * that every name is shown the same whatever the installed headers know).
 * A flag is shown when all its bits are set, in table order (strace's
 * order), and removed; what is left is shown in hex. */

struct flag {
	unsigned long val;
	char name[24];
};

#define NFLAGS(t) (sizeof(t) / sizeof((t)[0]))

static const struct flag open_flags[] = {
	{ 0100, "O_CREAT" }, { 0200, "O_EXCL" }, { 0400, "O_NOCTTY" },
	{ 01000, "O_TRUNC" }, { 02000, "O_APPEND" }, { 04000, "O_NONBLOCK" },
	{ 04010000, "O_SYNC" }, { 010000, "O_DSYNC" }, { 040000, "O_DIRECT" },
	{ 0100000, "O_LARGEFILE" }, { 0400000, "O_NOFOLLOW" }, { 01000000, "O_NOATIME" },
	{ 02000000, "O_CLOEXEC" }, { 010000000, "O_PATH" }, { 020200000, "O_TMPFILE" },
	{ 0200000, "O_DIRECTORY" }, { 020000, "FASYNC" },
};

static const struct flag prot_flags[] = {
	{ 0x1, "PROT_READ" }, { 0x2, "PROT_WRITE" }, { 0x4, "PROT_EXEC" },
	{ 0x8, "PROT_SEM" }, { 0x01000000, "PROT_GROWSDOWN" }, { 0x02000000, "PROT_GROWSUP" },
};

static const struct flag map_flags[] = {
	{ 0x10, "MAP_FIXED" }, { 0x20, "MAP_ANONYMOUS" }, { 0x40, "MAP_32BIT" },
	{ 0x4000, "MAP_NORESERVE" }, { 0x8000, "MAP_POPULATE" }, { 0x10000, "MAP_NONBLOCK" },
	{ 0x100, "MAP_GROWSDOWN" }, { 0x800, "MAP_DENYWRITE" }, { 0x1000, "MAP_EXECUTABLE" },
	{ 0x2000, "MAP_LOCKED" }, { 0x20000, "MAP_STACK" }, { 0x40000, "MAP_HUGETLB" },
	{ 0x80000, "MAP_SYNC" }, { 0x100000, "MAP_FIXED_NOREPLACE" },
};

static const struct flag mremap_flags[] = {
	{ 1, "MREMAP_MAYMOVE" }, { 2, "MREMAP_FIXED" }, { 4, "MREMAP_DONTUNMAP" },
};

static const struct flag sock_flags[] = {
	{ 02000000, "SOCK_CLOEXEC" }, { 04000, "SOCK_NONBLOCK" },
};

static const struct flag msg_flags[] = {
	{ 0x1, "MSG_OOB" }, { 0x2, "MSG_PEEK" }, { 0x4, "MSG_DONTROUTE" },
	{ 0x8, "MSG_CTRUNC" }, { 0x10, "MSG_PROBE" }, { 0x20, "MSG_TRUNC" },
	{ 0x40, "MSG_DONTWAIT" }, { 0x80, "MSG_EOR" }, { 0x100, "MSG_WAITALL" },
	{ 0x200, "MSG_FIN" }, { 0x400, "MSG_SYN" }, { 0x800, "MSG_CONFIRM" },
	{ 0x1000, "MSG_RST" }, { 0x2000, "MSG_ERRQUEUE" }, { 0x4000, "MSG_NOSIGNAL" },
	{ 0x8000, "MSG_MORE" }, { 0x10000, "MSG_WAITFORONE" }, { 0x40000, "MSG_BATCH" },
	{ 0x4000000, "MSG_ZEROCOPY" }, { 0x20000000, "MSG_FASTOPEN" },
	{ 0x40000000, "MSG_CMSG_CLOEXEC" },
};

static const struct flag access_flags[] = {
	{ 4, "R_OK" }, { 2, "W_OK" }, { 1, "X_OK" },
};

static const struct flag wait_flags[] = {
	{ 1, "WNOHANG" }, { 2, "WSTOPPED" }, { 4, "WEXITED" }, { 8, "WCONTINUED" },
	{ 0x1000000, "WNOWAIT" }, { 0x20000000, "__WNOTHREAD" }, { 0x40000000, "__WALL" },
	{ 0x80000000UL, "__WCLONE" },
};

static const struct flag clone_flags[] = {
	{ 0x100, "CLONE_VM" }, { 0x200, "CLONE_FS" }, { 0x400, "CLONE_FILES" },
	{ 0x800, "CLONE_SIGHAND" }, { 0x1000, "CLONE_PIDFD" }, { 0x2000, "CLONE_PTRACE" },
	{ 0x4000, "CLONE_VFORK" }, { 0x8000, "CLONE_PARENT" }, { 0x10000, "CLONE_THREAD" },
	{ 0x20000, "CLONE_NEWNS" }, { 0x40000, "CLONE_SYSVSEM" }, { 0x80000, "CLONE_SETTLS" },
	{ 0x100000, "CLONE_PARENT_SETTID" }, { 0x200000, "CLONE_CHILD_CLEARTID" },
	{ 0x400000, "CLONE_DETACHED" }, { 0x800000, "CLONE_UNTRACED" },
	{ 0x1000000, "CLONE_CHILD_SETTID" }, { 0x2000000, "CLONE_NEWCGROUP" },
	{ 0x4000000, "CLONE_NEWUTS" }, { 0x8000000, "CLONE_NEWIPC" },
	{ 0x10000000, "CLONE_NEWUSER" }, { 0x20000000, "CLONE_NEWPID" },
	{ 0x40000000, "CLONE_NEWNET" }, { 0x80000000UL, "CLONE_IO" },
	{ 0x100000000UL, "CLONE_CLEAR_SIGHAND" }, { 0x200000000UL, "CLONE_INTO_CGROUP" },
};

static const struct flag efd_flags[] = {
	{ 1, "EFD_SEMAPHORE" }, { 02000000, "EFD_CLOEXEC" }, { 04000, "EFD_NONBLOCK" },
};

static const struct flag epoll_flags[] = {
	{ 02000000, "EPOLL_CLOEXEC" },
};

static const struct flag grnd_flags[] = {
	{ 1, "GRND_NONBLOCK" }, { 2, "GRND_RANDOM" }, { 4, "GRND_INSECURE" },
};

static const struct flag mfd_flags[] = {
	{ 1, "MFD_CLOEXEC" }, { 2, "MFD_ALLOW_SEALING" }, { 4, "MFD_HUGETLB" },
	{ 8, "MFD_NOEXEC_SEAL" }, { 0x10, "MFD_EXEC" },
};

static const struct flag flock_flags[] = {
	{ 1, "LOCK_SH" }, { 2, "LOCK_EX" }, { 4, "LOCK_NB" }, { 8, "LOCK_UN" },
	{ 32, "LOCK_MAND" }, { 64, "LOCK_READ" }, { 128, "LOCK_WRITE" },
};

static const struct flag close_range_flags[] = {
	{ 2, "CLOSE_RANGE_UNSHARE" }, { 4, "CLOSE_RANGE_CLOEXEC" },
};

static const struct flag timer_flags[] = {
	{ 1, "TIMER_ABSTIME" },
};

/* Values with one name each (not bit sets). */
static const struct flag ioctl_names[] = {
	{ 0x5401, "TCGETS" }, { 0x5402, "TCSETS" }, { 0x5403, "TCSETSW" },
	{ 0x5404, "TCSETSF" }, { 0x540b, "TCFLSH" }, { 0x540e, "TIOCSCTTY" },
	{ 0x540f, "TIOCGPGRP" }, { 0x5410, "TIOCSPGRP" }, { 0x5413, "TIOCGWINSZ" },
	{ 0x5414, "TIOCSWINSZ" }, { 0x541b, "FIONREAD" }, { 0x5421, "FIONBIO" },
	{ 0x5450, "FIONCLEX" }, { 0x5451, "FIOCLEX" }, { 0x5452, "FIOASYNC" },
	{ 0x80045430, "TIOCGPTN" }, { 0x40045431, "TIOCSPTLCK" },
};

static const struct flag arch_prctl_names[] = {
	{ 0x1001, "ARCH_SET_GS" }, { 0x1002, "ARCH_SET_FS" }, { 0x1003, "ARCH_GET_FS" },
	{ 0x1004, "ARCH_GET_GS" }, { 0x1011, "ARCH_GET_CPUID" }, { 0x1012, "ARCH_SET_CPUID" },
	{ 0x1021, "ARCH_GET_XCOMP_SUPP" }, { 0x1022, "ARCH_GET_XCOMP_PERM" },
	{ 0x1023, "ARCH_REQ_XCOMP_PERM" }, { 0x2001, "ARCH_MAP_VDSO_X32" },
	{ 0x2002, "ARCH_MAP_VDSO_32" }, { 0x2003, "ARCH_MAP_VDSO_64" },
};

static const struct flag madvice_names[] = {
	{ 0, "MADV_NORMAL" }, { 1, "MADV_RANDOM" }, { 2, "MADV_SEQUENTIAL" },
	{ 3, "MADV_WILLNEED" }, { 4, "MADV_DONTNEED" }, { 8, "MADV_FREE" },
	{ 9, "MADV_REMOVE" }, { 10, "MADV_DONTFORK" }, { 11, "MADV_DOFORK" },
	{ 12, "MADV_MERGEABLE" }, { 13, "MADV_UNMERGEABLE" }, { 14, "MADV_HUGEPAGE" },
	{ 15, "MADV_NOHUGEPAGE" }, { 16, "MADV_DONTDUMP" }, { 17, "MADV_DODUMP" },
	{ 18, "MADV_WIPEONFORK" }, { 19, "MADV_KEEPONFORK" }, { 20, "MADV_COLD" },
	{ 21, "MADV_PAGEOUT" }, { 22, "MADV_POPULATE_READ" }, { 23, "MADV_POPULATE_WRITE" },
	{ 24, "MADV_DONTNEED_LOCKED" }, { 25, "MADV_COLLAPSE" },
	{ 100, "MADV_HWPOISON" }, { 101, "MADV_SOFT_OFFLINE" },
};

static const struct flag fcntl_names[] = {
	{ 0, "F_DUPFD" }, { 1, "F_GETFD" }, { 2, "F_SETFD" }, { 3, "F_GETFL" },
	{ 4, "F_SETFL" }, { 5, "F_GETLK" }, { 6, "F_SETLK" }, { 7, "F_SETLKW" },
	{ 8, "F_SETOWN" }, { 9, "F_GETOWN" }, { 10, "F_SETSIG" }, { 11, "F_GETSIG" },
	{ 15, "F_SETOWN_EX" }, { 16, "F_GETOWN_EX" }, { 17, "F_GETOWNER_UIDS" },
	{ 36, "F_OFD_GETLK" }, { 37, "F_OFD_SETLK" }, { 38, "F_OFD_SETLKW" },
	{ 1024, "F_SETLEASE" }, { 1025, "F_GETLEASE" }, { 1026, "F_NOTIFY" },
	{ 1030, "F_DUPFD_CLOEXEC" }, { 1031, "F_SETPIPE_SZ" }, { 1032, "F_GETPIPE_SZ" },
	{ 1033, "F_ADD_SEALS" }, { 1034, "F_GET_SEALS" },
};

static const struct flag ipproto_names[] = {
	{ 0, "IPPROTO_IP" }, { 1, "IPPROTO_ICMP" }, { 2, "IPPROTO_IGMP" },
	{ 4, "IPPROTO_IPIP" }, { 6, "IPPROTO_TCP" }, { 17, "IPPROTO_UDP" },
	{ 41, "IPPROTO_IPV6" }, { 47, "IPPROTO_GRE" }, { 50, "IPPROTO_ESP" },
	{ 58, "IPPROTO_ICMPV6" }, { 132, "IPPROTO_SCTP" }, { 136, "IPPROTO_UDPLITE" },
	{ 255, "IPPROTO_RAW" }, { 262, "IPPROTO_MPTCP" },
};

static const struct flag netlink_names[] = {
	{ 0, "NETLINK_ROUTE" }, { 2, "NETLINK_USERSOCK" }, { 4, "NETLINK_SOCK_DIAG" },
	{ 9, "NETLINK_AUDIT" }, { 12, "NETLINK_NETFILTER" },
	{ 15, "NETLINK_KOBJECT_UEVENT" }, { 16, "NETLINK_GENERIC" },
};

static const struct flag sol_names[] = {
	{ 0, "SOL_IP" }, { 1, "SOL_SOCKET" }, { 6, "SOL_TCP" }, { 17, "SOL_UDP" },
	{ 41, "SOL_IPV6" },
};

static const struct flag so_names[] = {
	{ 1, "SO_DEBUG" }, { 2, "SO_REUSEADDR" }, { 3, "SO_TYPE" }, { 4, "SO_ERROR" },
	{ 5, "SO_DONTROUTE" }, { 6, "SO_BROADCAST" }, { 7, "SO_SNDBUF" },
	{ 8, "SO_RCVBUF" }, { 9, "SO_KEEPALIVE" }, { 10, "SO_OOBINLINE" },
	{ 11, "SO_NO_CHECK" }, { 12, "SO_PRIORITY" }, { 13, "SO_LINGER" },
	{ 14, "SO_BSDCOMPAT" }, { 15, "SO_REUSEPORT" }, { 16, "SO_PASSCRED" },
	{ 17, "SO_PEERCRED" }, { 18, "SO_RCVLOWAT" }, { 19, "SO_SNDLOWAT" },
	{ 20, "SO_RCVTIMEO_OLD" }, { 21, "SO_SNDTIMEO_OLD" },
};

static const struct flag tcp_names[] = {
	{ 1, "TCP_NODELAY" }, { 2, "TCP_MAXSEG" }, { 3, "TCP_CORK" },
	{ 4, "TCP_KEEPIDLE" }, { 5, "TCP_KEEPINTVL" }, { 6, "TCP_KEEPCNT" },
};

/* Small dense ranges: index = value. */
static const char signal_names[32][10] = {
	"0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
	"SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM",
	"SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN",
	"SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",
	"SIGIO", "SIGPWR", "SIGSYS",
};

static const char af_names[46][14] = {
	"AF_UNSPEC", "AF_UNIX", "AF_INET", "AF_AX25", "AF_IPX", "AF_APPLETALK",
	"AF_NETROM", "AF_BRIDGE", "AF_ATMPVC", "AF_X25", "AF_INET6", "AF_ROSE",
	"AF_DECnet", "AF_NETBEUI", "AF_SECURITY", "AF_KEY", "AF_NETLINK", "AF_PACKET",
	"AF_ASH", "AF_ECONET", "AF_ATMSVC", "AF_RDS", "AF_SNA", "AF_IRDA", "AF_PPPOX",
	"AF_WANPIPE", "AF_LLC", "AF_IB", "AF_MPLS", "AF_CAN", "AF_TIPC", "AF_BLUETOOTH",
	"AF_IUCV", "AF_RXRPC", "AF_ISDN", "AF_PHONET", "AF_IEEE802154", "AF_CAIF",
	"AF_ALG", "AF_NFC", "AF_VSOCK", "AF_KCM", "AF_QIPCRTR", "AF_SMC", "AF_XDP",
	"AF_MCTP",
};

static const char sock_type_names[11][15] = {
	"", "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET",
	"SOCK_DCCP", "", "", "", "SOCK_PACKET",
};

static const char rlimit_names[16][18] = {
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
	"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
	"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
	"RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

static const char clock_names[12][25] = {
	"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID",
	"CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE",
	"CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME", "CLOCK_REALTIME_ALARM",
	"CLOCK_BOOTTIME_ALARM", "", "CLOCK_TAI",
};

static const char futex_names[14][22] = {
	"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
	"FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI",
	"FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
	"FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
};

static const char whence_names[5][10] = {
	"SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE",
};

static const char sighow_names[3][12] = { "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK" };
static const char shut_names[3][10] = { "SHUT_RD", "SHUT_WR", "SHUT_RDWR" };
static const char epoll_op_names[4][14] = { "", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD" };

/* ---- state ----------------------------------------------------------------- */

/* Set for good once the process makes a clone/fork: from then on lines say
 * which thread (or child process) they come from.  Set before the call so
 * that a child, whose memory is a copy taken during the call, has it too. */
static int multi;

/* zp_hook_exit and the exit_group line: the interface does not say which of
 * zp_hook_exit and zp_hook_enter comes first, so whichever runs second prints
 * "+++ exited with N +++" after the exit_group line. */
static long exit_line_tid;     /* thread that printed an exit/exit_group line */
static long exit_pending_tid;  /* thread whose zp_hook_exit came first */
static int  exit_pending_status;

/* ---- formatting helpers -------------------------------------------------- */

static void put_hex(struct hu_sb *sb, unsigned long v)
{
	hu_sb_hex(sb, v);
}

static void put_ptr(struct hu_sb *sb, unsigned long v)
{
	if (v)
		hu_sb_printf(sb, "0x%lx", v);
	else
		hu_sb_puts(sb, "NULL");
}

static void put_mode(struct hu_sb *sb, unsigned long v)
{
	/* 0644, 04755, 000 */
	hu_sb_printf(sb, "0%02lo", v);
}

static void put_flags(struct hu_sb *sb, unsigned long v, const struct flag *t,
		      size_t n, const char *zero)
{
	const char *sep = "";
	size_t i;

	if (v == 0) {
		hu_sb_puts(sb, zero);
		return;
	}
	for (i = 0; i < n; i++) {
		if (t[i].val && (v & t[i].val) == t[i].val) {
			hu_sb_puts(sb, sep);
			hu_sb_puts(sb, t[i].name);
			sep = "|";
			v &= ~t[i].val;
		}
	}
	if (v) {
		hu_sb_puts(sb, sep);
		hu_sb_printf(sb, "0x%lx", v);
	}
}

/* One name for a value; unknown ones print as 0x.. followed by a PREFIX??? comment, as in strace. */
static int find_name(const struct flag *t, size_t n, unsigned long v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].val == v)
			return (int)i;
	return -1;
}

static void put_unknown(struct hu_sb *sb, unsigned long v, const char *prefix)
{
	put_hex(sb, v);
	hu_sb_printf(sb, " /* %s??? */", prefix);
}

static void put_name(struct hu_sb *sb, unsigned long v, const struct flag *t,
		     size_t n, const char *prefix)
{
	int i = find_name(t, n, v);

	if (i >= 0)
		hu_sb_puts(sb, t[i].name);
	else
		put_unknown(sb, v, prefix);
}

/* Index into a dense table of names; empty names are holes. */
#define PUT_DENSE(sb, v, tab, prefix) \
	put_dense((sb), (v), &(tab)[0][0], sizeof((tab)[0]), \
		  sizeof(tab) / sizeof((tab)[0]), (prefix))

static void put_dense(struct hu_sb *sb, unsigned long v, const char *tab,
		      size_t width, size_t count, const char *prefix)
{
	if (v < count && tab[v * width])
		hu_sb_puts(sb, tab + v * width);
	else
		put_unknown(sb, v, prefix);
}

static void put_signal(struct hu_sb *sb, long sig)
{
	if (sig > 0 && sig < 32)
		hu_sb_puts(sb, signal_names[sig]);
	else if (sig == 32)
		hu_sb_puts(sb, "SIGRTMIN");
	else if (sig > 32 && sig <= 64)
		hu_sb_printf(sb, "SIGRT_%ld", sig - 32);
	else
		hu_sb_printf(sb, "%ld", sig);
}

static void put_open_flags(struct hu_sb *sb, unsigned long v, int with_access)
{
	static const char acc[4][10] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };

	if (with_access) {
		hu_sb_puts(sb, acc[v & 3]);
		v &= ~3UL;
		if (v) {
			hu_sb_putc(sb, '|');
			put_flags(sb, v, open_flags, NFLAGS(open_flags), "");
		}
	} else {
		put_flags(sb, v, open_flags, NFLAGS(open_flags), "0");
	}
}

static void put_map_flags(struct hu_sb *sb, unsigned long v)
{
	static const char types[4][20] = { "MAP_FILE", "MAP_SHARED", "MAP_PRIVATE",
					   "MAP_SHARED_VALIDATE" };
	unsigned long type = v & 0xf, huge = (v >> 26) & 0x3f;

	if (type < 4)
		hu_sb_puts(sb, types[type]);
	else
		put_unknown(sb, type, "MAP_");
	v &= ~0xfUL & ~(0x3fUL << 26);
	if (v) {
		hu_sb_putc(sb, '|');
		put_flags(sb, v, map_flags, NFLAGS(map_flags), "");
	}
	if (huge)
		hu_sb_printf(sb, "|%lu<<MAP_HUGE_SHIFT", huge);
}

static void put_at_flags(struct hu_sb *sb, unsigned long v, const char *name200)
{
	static const struct flag t[] = {
		{ 0x100, "AT_SYMLINK_NOFOLLOW" }, { 0x200, "" }, { 0x400, "AT_SYMLINK_FOLLOW" },
		{ 0x800, "AT_NO_AUTOMOUNT" }, { 0x1000, "AT_EMPTY_PATH" }, { 0x8000, "AT_RECURSIVE" },
	};
	const char *sep = "";
	size_t i;

	if (v == 0) {
		hu_sb_putc(sb, '0');
		return;
	}
	for (i = 0; i < NFLAGS(t); i++) {
		/* 0x200 is AT_REMOVEDIR to unlinkat, AT_EACCESS to faccessat2. */
		const char *name = t[i].val == 0x200 ? name200 : t[i].name;

		if (name && (v & t[i].val)) {
			hu_sb_puts(sb, sep);
			hu_sb_puts(sb, name);
			sep = "|";
			v &= ~t[i].val;
		}
	}
	if (v) {
		hu_sb_puts(sb, sep);
		hu_sb_printf(sb, "0x%lx", v);
	}
}

static void put_clone_flags(struct hu_sb *sb, unsigned long flags, int with_signal)
{
	unsigned long sig = with_signal ? flags & 0xff : 0;

	flags &= with_signal ? ~0xffUL : ~0UL;
	if (flags)
		put_flags(sb, flags, clone_flags, NFLAGS(clone_flags), "0");
	if (sig) {
		if (flags)
			hu_sb_putc(sb, '|');
		put_signal(sb, (long)sig);
	}
	if (!flags && !sig)
		hu_sb_putc(sb, '0');
}

/* ---- strings -------------------------------------------------------------- */

/*
 * Quote n bytes the way strace does: \" \\ \f \n \r \t \v, printable ASCII
 * as is, anything else in octal - \1, or \001 when an octal digit follows so
 * that it cannot be misread - or every byte as \xNN when `hex`.  Returns 0 if
 * the line ran out of room first.
 */
static int put_quoted(struct hu_sb *sb, const unsigned char *s, size_t n, int hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	hu_sb_putc(sb, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		char e[5];
		int k = 0;

		if (hu_sb_room(sb) < 8) {
			hu_sb_putc(sb, '"');
			return 0;
		}
		if (hex) {
			e[k++] = 'x';
			e[k++] = digits[c >> 4];
			e[k++] = digits[c & 15];
		} else if (c == '"' || c == '\\') {
			e[k++] = (char)c;
		} else if (c == '\f') {
			e[k++] = 'f';
		} else if (c == '\n') {
			e[k++] = 'n';
		} else if (c == '\r') {
			e[k++] = 'r';
		} else if (c == '\t') {
			e[k++] = 't';
		} else if (c == '\v') {
			e[k++] = 'v';
		} else if (c >= 0x20 && c < 0x7f) {
			hu_sb_putc(sb, (char)c);
			continue;
		} else {
			int full = i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7';

			if (full || c >= 0100)
				e[k++] = (char)('0' + (c >> 6));
			if (full || c >= 010)
				e[k++] = (char)('0' + ((c >> 3) & 7));
			e[k++] = (char)('0' + (c & 7));
		}
		hu_sb_putc(sb, '\\');
		for (int j = 0; j < k; j++)
			hu_sb_putc(sb, e[j]);
	}
	hu_sb_putc(sb, '"');
	return 1;
}

/* A buffer of `len` bytes, at most `limit` shown. */
static void put_buf(struct hu_sb *sb, unsigned long addr, unsigned long len,
		    unsigned long limit, int hex)
{
	unsigned long n = len < limit ? len : limit;

	if (!addr) {
		hu_sb_puts(sb, "NULL");
		return;
	}
	if (!hu_user_ptr_ok(addr, n)) {
		put_ptr(sb, addr);
		return;
	}
	if (!put_quoted(sb, (const unsigned char *)addr, n, hex) || len > limit)
		hu_sb_puts(sb, "...");
}

/* A NUL-terminated string, at most `limit` bytes shown. */
static void put_string(struct hu_sb *sb, unsigned long addr, unsigned long limit)
{
	const char *s = (const char *)addr;
	unsigned long n;
	int more;

	if (!addr) {
		hu_sb_puts(sb, "NULL");
		return;
	}
	if (!hu_user_ptr_ok(addr, 1)) {
		put_ptr(sb, addr);
		return;
	}
	/* Read no further than the NUL (the string may end its mapping). */
	for (n = 0; n < limit && hu_user_ptr_ok(addr, n + 1) && s[n]; n++)
		;
	more = n == limit && hu_user_ptr_ok(addr, n + 1) && s[n];
	if (!put_quoted(sb, (const unsigned char *)s, n, 0) || more)
		hu_sb_puts(sb, "...");
}

static void put_argv(struct hu_sb *sb, unsigned long addr)
{
	const unsigned long *v = (const unsigned long *)addr;
	int i;

	if (!addr) {
		hu_sb_puts(sb, "NULL");
		return;
	}
	if (!hu_user_ptr_ok(addr, sizeof(long))) {
		put_ptr(sb, addr);
		return;
	}
	hu_sb_putc(sb, '[');
	for (i = 0; v[i]; i++) {
		if (i)
			hu_sb_puts(sb, ", ");
		/* Stop while there is room for a whole string and what follows
		 * the array (environment, flags). */
		if (i == ARRAY_LIMIT || hu_sb_room(sb) < 4 * STRING_LIMIT + 64) {
			hu_sb_puts(sb, "...");
			break;
		}
		put_string(sb, v[i], STRING_LIMIT);
		if (!hu_user_ptr_ok(addr, (unsigned long)(i + 2) * sizeof(long)))
			break;
	}
	hu_sb_putc(sb, ']');
}

static void put_envp(struct hu_sb *sb, unsigned long addr)
{
	const unsigned long *v = (const unsigned long *)addr;
	long n = 0;

	if (!addr || !hu_user_ptr_ok(addr, sizeof(long))) {
		put_ptr(sb, addr);
		return;
	}
	while (n < 1000000 && hu_user_ptr_ok(addr, (unsigned long)(n + 1) * sizeof(long)) && v[n])
		n++;
	hu_sb_printf(sb, "0x%lx /* %ld var%s */", addr, n, n == 1 ? "" : "s");
}

static void put_timespec(struct hu_sb *sb, unsigned long addr)
{
	const long *ts = (const long *)addr;

	if (!addr || !hu_user_ptr_ok(addr, 2 * sizeof(long)))
		put_ptr(sb, addr);
	else
		hu_sb_printf(sb, "{tv_sec=%ld, tv_nsec=%ld}", ts[0], ts[1]);
}

static void put_stat(struct hu_sb *sb, unsigned long addr)
{
	static const struct flag types[] = {
		{ 0140000, "S_IFSOCK" }, { 0120000, "S_IFLNK" }, { 0100000, "S_IFREG" },
		{ 0060000, "S_IFBLK" }, { 0040000, "S_IFDIR" }, { 0020000, "S_IFCHR" },
		{ 0010000, "S_IFIFO" },
	};
	const struct stat *st = (const struct stat *)addr;
	unsigned long mode, type;
	int i;

	if (!hu_user_ptr_ok(addr, sizeof(*st))) {
		put_ptr(sb, addr);
		return;
	}
	mode = st->st_mode;
	type = mode & 0170000;
	hu_sb_puts(sb, "{st_mode=");
	i = find_name(types, NFLAGS(types), type);
	if (i >= 0)
		hu_sb_puts(sb, types[i].name);
	else
		hu_sb_printf(sb, "0%lo", type);
	if (mode & 04000)
		hu_sb_puts(sb, "|S_ISUID");
	if (mode & 02000)
		hu_sb_puts(sb, "|S_ISGID");
	if (mode & 01000)
		hu_sb_puts(sb, "|S_ISVTX");
	hu_sb_putc(sb, '|');
	put_mode(sb, mode & 0777);
	if (type == 0020000 || type == 0060000) {
		unsigned long dev = st->st_rdev;
		unsigned long major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL);
		unsigned long minor = (dev & 0xff) | ((dev >> 12) & 0xffffff00UL);

		hu_sb_puts(sb, ", st_rdev=makedev(");
		put_hex(sb, major);
		hu_sb_puts(sb, ", ");
		put_hex(sb, minor);
		hu_sb_putc(sb, ')');
	} else {
		hu_sb_printf(sb, ", st_size=%ld", (long)st->st_size);
	}
	hu_sb_puts(sb, ", ...}");
}

static void put_af(struct hu_sb *sb, unsigned long af)
{
	PUT_DENSE(sb, af, af_names, "AF_");
}

static void put_ipv6(struct hu_sb *sb, const unsigned char *a)
{
	unsigned int w[8];
	int i, best = -1, bestlen = 0;

	for (i = 0; i < 8; i++)
		w[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8; ) {
		int j = i;

		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (bestlen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			hu_sb_puts(sb, i == 0 ? "::" : ":");
			i += bestlen - 1;
			continue;
		}
		/* The last 32 bits of a mapped or compatible address as a.b.c.d. */
		if (i == 6 && best == 0 && (bestlen == 6 || (bestlen == 5 && w[5] == 0xffff))) {
			hu_sb_printf(sb, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
			break;
		}
		hu_sb_printf(sb, "%x%s", w[i], i < 7 ? ":" : "");
	}
}

static void put_sockaddr(struct hu_sb *sb, unsigned long addr, long len)
{
	const unsigned char *p = (const unsigned char *)addr;
	unsigned int family;

	if (!addr) {
		hu_sb_puts(sb, "NULL");
		return;
	}
	if (len < 2 || len > 4096 || !hu_user_ptr_ok(addr, (unsigned long)len)) {
		put_ptr(sb, addr);
		return;
	}
	family = p[0] | (unsigned int)p[1] << 8;
	hu_sb_puts(sb, "{sa_family=");
	put_af(sb, family);
	if (family == 1 /* AF_UNIX */) {
		long n = len - 2 > 108 ? 108 : len - 2;

		if (n > 0 && p[2] == 0) {
			hu_sb_puts(sb, ", sun_path=@");
			put_quoted(sb, p + 3, (size_t)n - 1, 0);
		} else if (n > 0) {
			long k = 0;

			while (k < n && p[2 + k])
				k++;
			hu_sb_puts(sb, ", sun_path=");
			put_quoted(sb, p + 2, (size_t)k, 0);
		}
	} else if (family == 2 /* AF_INET */ && len >= 16) {
		hu_sb_printf(sb, ", sin_port=htons(%u), sin_addr=inet_addr(\"%u.%u.%u.%u\")",
			     (unsigned int)p[2] << 8 | p[3], p[4], p[5], p[6], p[7]);
	} else if (family == 10 /* AF_INET6 */ && len >= 24) {
		hu_sb_printf(sb, ", sin6_port=htons(%u), sin6_flowinfo=htonl(%u), inet_pton(AF_INET6, \"",
			     (unsigned int)p[2] << 8 | p[3],
			     (unsigned int)p[4] << 24 | (unsigned int)p[5] << 16 |
			     (unsigned int)p[6] << 8 | p[7]);
		put_ipv6(sb, p + 8);
		hu_sb_puts(sb, "\", &sin6_addr)");
		if (len >= 28)
			hu_sb_printf(sb, ", sin6_scope_id=%u", *(const uint32_t *)(p + 24));
	} else if (family == 16 /* AF_NETLINK */ && len >= 12) {
		hu_sb_printf(sb, ", nl_pid=%u, nl_groups=%08x",
			     *(const uint32_t *)(p + 4), *(const uint32_t *)(p + 8));
	} else if (len > 2) {
		hu_sb_puts(sb, ", sa_data=");
		put_quoted(sb, p + 2, (size_t)(len - 2 > 14 ? 14 : len - 2), 0);
	}
	hu_sb_putc(sb, '}');
}

/* ---- the generic printer ------------------------------------------------ */

static void put_arg(struct hu_sb *sb, int kind, const struct zp_syscall *call,
		    int i, long result, int done)
{
	unsigned long v = (unsigned long)call->args[i];
	int ok = done && !hu_is_error(result);

	switch (kind) {
	case K_HEX:        put_hex(sb, v); break;
	case K_INT:
	case K_FD:         hu_sb_printf(sb, "%d", (int)v); break;
	case K_LONG:       hu_sb_printf(sb, "%ld", (long)v); break;
	case K_ULONG:      hu_sb_printf(sb, "%lu", v); break;
	case K_UINT:       hu_sb_printf(sb, "%u", (unsigned int)v); break;
	case K_PTR:        put_ptr(sb, v); break;
	case K_DIRFD:
		if ((int)v == -100)
			hu_sb_puts(sb, "AT_FDCWD");
		else
			hu_sb_printf(sb, "%d", (int)v);
		break;
	case K_PATH:       put_string(sb, v, PATH_LIMIT); break;
	case K_STR:        put_string(sb, v, STRING_LIMIT); break;
	case K_BUF_IN:     put_buf(sb, v, (unsigned long)call->args[i + 1], STRING_LIMIT, 0); break;
	case K_BUF_OUT:
	case K_BUF_OUT_HEX:
		if (ok)
			put_buf(sb, v, (unsigned long)result, STRING_LIMIT, kind == K_BUF_OUT_HEX);
		else
			put_ptr(sb, v);
		break;
	case K_CWD:
		if (ok && result > 0)
			put_string(sb, v, (unsigned long)result);
		else
			put_ptr(sb, v);
		break;
	case K_FDPAIR:
		if (ok && hu_user_ptr_ok(v, 2 * sizeof(int)))
			hu_sb_printf(sb, "[%d, %d]", ((const int *)v)[0], ((const int *)v)[1]);
		else
			put_ptr(sb, v);
		break;
	case K_STAT:
		if (ok)
			put_stat(sb, v);
		else
			put_ptr(sb, v);
		break;
	case K_SOCKADDR:   put_sockaddr(sb, v, call->args[i + 1]); break;
	case K_TIMESPEC:   put_timespec(sb, v); break;
	case K_ARGV:       put_argv(sb, v); break;
	case K_ENVP:       put_envp(sb, v); break;
	case K_OPEN_FLAGS: put_open_flags(sb, v, 1); break;
	case K_FD_FLAGS:   put_open_flags(sb, v, 0); break;
	case K_MODE:
	case K_MODE_CREAT: put_mode(sb, v); break;
	case K_OCTAL:      put_mode(sb, v); break;
	case K_PROT:       put_flags(sb, v, prot_flags, NFLAGS(prot_flags), "PROT_NONE"); break;
	case K_MAP_FLAGS:  put_map_flags(sb, v); break;
	case K_MREMAP_FLAGS: put_flags(sb, v, mremap_flags, NFLAGS(mremap_flags), "0"); break;
	case K_MREMAP_ADDR: put_ptr(sb, v); break;
	case K_MADVICE:    put_name(sb, v, madvice_names, NFLAGS(madvice_names), "MADV_"); break;
	case K_AF:         put_af(sb, v); break;
	case K_SOCK_TYPE: {
		unsigned long type = v & 0xf, rest = v & ~0xfUL;

		if (type >= NFLAGS(sock_type_names) || !sock_type_names[type][0]) {
			put_unknown(sb, v, "SOCK_");
			break;
		}
		hu_sb_puts(sb, sock_type_names[type]);
		for (size_t k = 0; k < NFLAGS(sock_flags); k++) {
			if (rest & sock_flags[k].val) {
				hu_sb_putc(sb, '|');
				hu_sb_puts(sb, sock_flags[k].name);
				rest &= ~sock_flags[k].val;
			}
		}
		if (rest) {
			hu_sb_putc(sb, '|');
			put_unknown(sb, rest, "SOCK_");
		}
		break;
	}
	case K_SOCK_PROTO: {
		unsigned long af = (unsigned long)call->args[0];
		int k = -1;

		if (af == 2 || af == 10)
			k = find_name(ipproto_names, NFLAGS(ipproto_names), v);
		if (k >= 0) {
			hu_sb_puts(sb, ipproto_names[k].name);
		} else if (af == 16 && (k = find_name(netlink_names, NFLAGS(netlink_names), v)) >= 0) {
			hu_sb_puts(sb, netlink_names[k].name);
		} else {
			hu_sb_printf(sb, "%d", (int)v);
		}
		break;
	}
	case K_SOCK_FLAGS: put_flags(sb, v, sock_flags, NFLAGS(sock_flags), "0"); break;
	case K_SOCK_LEVEL: {
		int k = find_name(sol_names, NFLAGS(sol_names), v);

		if (k >= 0)
			hu_sb_puts(sb, sol_names[k].name);
		else
			hu_sb_printf(sb, "%d", (int)v);
		break;
	}
	case K_SOCK_OPT: {
		unsigned long level = (unsigned long)call->args[i - 1];
		int k = -1;

		if (level == 1)
			k = find_name(so_names, NFLAGS(so_names), v);
		if (k >= 0)
			hu_sb_puts(sb, so_names[k].name);
		else if (level == 6 && (k = find_name(tcp_names, NFLAGS(tcp_names), v)) >= 0)
			hu_sb_puts(sb, tcp_names[k].name);
		else
			hu_sb_printf(sb, "%d", (int)v);
		break;
	}
	case K_MSG_FLAGS:  put_flags(sb, v, msg_flags, NFLAGS(msg_flags), "0"); break;
	case K_SHUT_HOW:   PUT_DENSE(sb, v, shut_names, "SHUT_"); break;
	case K_SIGNAL:     put_signal(sb, (int)v); break;
	case K_SIG_HOW:    PUT_DENSE(sb, v, sighow_names, "SIG_"); break;
	case K_WHENCE:     PUT_DENSE(sb, (unsigned int)v, whence_names, "SEEK_"); break;
	case K_ACCESS_MODE: put_flags(sb, v, access_flags, NFLAGS(access_flags), "F_OK"); break;
	case K_AT_FLAGS:   put_at_flags(sb, v, 0); break;
	case K_AT_REMOVEDIR: put_at_flags(sb, v, "AT_REMOVEDIR"); break;
	case K_AT_EACCESS: put_at_flags(sb, v, "AT_EACCESS"); break;
	case K_STATX_FLAGS: {
		static const char sync[4][24] = { "AT_STATX_SYNC_AS_STAT", "AT_STATX_FORCE_SYNC",
						  "AT_STATX_DONT_SYNC", "0x6000" };
		hu_sb_puts(sb, sync[(v >> 13) & 3]);
		if (v & ~0x6000UL) {
			hu_sb_putc(sb, '|');
			put_at_flags(sb, v & ~0x6000UL, 0);
		}
		break;
	}
	case K_RLIMIT:     PUT_DENSE(sb, v, rlimit_names, "RLIMIT_"); break;
	case K_CLOCK:      PUT_DENSE(sb, v, clock_names, "CLOCK_"); break;
	case K_TIMER_FLAGS: put_flags(sb, v, timer_flags, NFLAGS(timer_flags), "0"); break;
	case K_WAIT_OPTIONS: put_flags(sb, v, wait_flags, NFLAGS(wait_flags), "0"); break;
	case K_EPOLL_OP:   PUT_DENSE(sb, v, epoll_op_names, "EPOLL_CTL_"); break;
	case K_EPOLL_FLAGS: put_flags(sb, v, epoll_flags, NFLAGS(epoll_flags), "0"); break;
	case K_EFD_FLAGS:  put_flags(sb, v, efd_flags, NFLAGS(efd_flags), "0"); break;
	case K_GRND_FLAGS: put_flags(sb, v, grnd_flags, NFLAGS(grnd_flags), "0"); break;
	case K_MFD_FLAGS:  put_flags(sb, v, mfd_flags, NFLAGS(mfd_flags), "0"); break;
	case K_FLOCK_OP:   put_flags(sb, v, flock_flags, NFLAGS(flock_flags), "0"); break;
	case K_CLOSE_RANGE_FLAGS:
		put_flags(sb, v, close_range_flags, NFLAGS(close_range_flags), "0");
		break;
	case K_IOCTL_REQ: {
		int k = find_name(ioctl_names, NFLAGS(ioctl_names), (unsigned int)v);

		if (k >= 0)
			hu_sb_puts(sb, ioctl_names[k].name);
		else
			put_hex(sb, (unsigned int)v);
		break;
	}
	case K_ARCH_PRCTL: put_name(sb, v, arch_prctl_names, NFLAGS(arch_prctl_names), "ARCH_"); break;
	default:           put_hex(sb, v); break;
	}
}

/* Whether argument i (a conditional one) is shown at all. */
static int arg_shown(int kind, const struct zp_syscall *call, int i)
{
	switch (kind) {
	case K_MODE_CREAT:
		/* O_CREAT, or all of O_TMPFILE */
		return (call->args[i - 1] & 0100) ||
		       (call->args[i - 1] & 020200000) == 020200000;
	case K_MREMAP_ADDR:
		return (call->args[i - 1] & 2) != 0;
	default:
		return 1;
	}
}

static void put_fcntl(struct hu_sb *sb, const struct zp_syscall *call)
{
	unsigned long cmd = (unsigned long)call->args[1];
	unsigned long arg = (unsigned long)call->args[2];
	int k = find_name(fcntl_names, NFLAGS(fcntl_names), cmd);

	hu_sb_printf(sb, "fcntl(%d, ", (int)call->args[0]);
	if (k < 0) {
		put_unknown(sb, cmd, "F_");
		hu_sb_puts(sb, ", ");
		put_hex(sb, arg);
		hu_sb_putc(sb, ')');
		return;
	}
	hu_sb_puts(sb, fcntl_names[k].name);
	switch (cmd) {
	case 1: case 3: case 9: case 11: case 1025: case 1032: case 1034:
		break;                              /* F_GET*: no argument */
	case 2:                                     /* F_SETFD */
		hu_sb_puts(sb, ", ");
		if (arg == 1)
			hu_sb_puts(sb, "FD_CLOEXEC");
		else
			put_hex(sb, arg);
		break;
	case 4:                                     /* F_SETFL */
		hu_sb_puts(sb, ", ");
		put_open_flags(sb, arg, 1);
		break;
	case 0: case 8: case 10: case 1024: case 1026: case 1030: case 1031: case 1033:
		hu_sb_printf(sb, ", %d", (int)arg);
		break;
	default:                                    /* locks and owners: a struct */
		hu_sb_puts(sb, ", ");
		put_ptr(sb, arg);
		break;
	}
	hu_sb_putc(sb, ')');
}

static void put_fcntl_result(struct hu_sb *sb, const struct zp_syscall *call, long r)
{
	if (call->args[1] == 3 /* F_GETFL */) {
		put_hex(sb, (unsigned long)r);
		hu_sb_puts(sb, " (flags ");
		put_open_flags(sb, (unsigned long)r, 1);
		hu_sb_putc(sb, ')');
	} else if (call->args[1] == 1 /* F_GETFD */ && r) {
		put_hex(sb, (unsigned long)r);
		hu_sb_puts(sb, " (flags ");
		put_flags(sb, (unsigned long)r, (const struct flag[]){ { 1, "FD_CLOEXEC" } }, 1, "0");
		hu_sb_putc(sb, ')');
	} else {
		hu_sb_printf(sb, "%ld", r);
	}
}

static void put_futex(struct hu_sb *sb, const struct zp_syscall *call)
{
	unsigned long op = (unsigned long)call->args[1];
	unsigned long cmd = op & 127;
	const long *a = call->args;

	hu_sb_puts(sb, "futex(");
	put_ptr(sb, (unsigned long)a[0]);
	hu_sb_puts(sb, ", ");
	if (cmd >= 14 || (op & ~(127UL | 128 | 256))) {
		put_unknown(sb, op, "FUTEX_");
		hu_sb_printf(sb, ", %d", (int)a[2]);
		for (int i = 3; i < 6; i++) {
			hu_sb_puts(sb, ", ");
			put_hex(sb, (unsigned long)a[i]);
		}
		hu_sb_putc(sb, ')');
		return;
	}
	hu_sb_puts(sb, futex_names[cmd]);
	if (op & 128)
		hu_sb_puts(sb, "_PRIVATE");
	if (op & 256)
		hu_sb_puts(sb, "|FUTEX_CLOCK_REALTIME");
	switch (cmd) {
	case 0:                     /* WAIT: val, timeout */
		hu_sb_printf(sb, ", %d, ", (int)a[2]);
		put_timespec(sb, (unsigned long)a[3]);
		break;
	case 1: case 2:             /* WAKE, FD: val */
		hu_sb_printf(sb, ", %d", (int)a[2]);
		break;
	case 3:                     /* REQUEUE: val, val2, uaddr2 */
		hu_sb_printf(sb, ", %d, %d, ", (int)a[2], (int)a[3]);
		put_ptr(sb, (unsigned long)a[4]);
		break;
	case 4: case 12:            /* CMP_REQUEUE(_PI): val, val2, uaddr2, val3 */
		hu_sb_printf(sb, ", %d, %d, ", (int)a[2], (int)a[3]);
		put_ptr(sb, (unsigned long)a[4]);
		hu_sb_printf(sb, ", %d", (int)a[5]);
		break;
	case 6: case 13:            /* LOCK_PI(2): timeout */
		hu_sb_puts(sb, ", ");
		put_timespec(sb, (unsigned long)a[3]);
		break;
	case 7: case 8:             /* UNLOCK_PI, TRYLOCK_PI */
		break;
	case 9: case 10:            /* WAIT_BITSET: val, timeout, mask; WAKE_BITSET: val, mask */
		hu_sb_printf(sb, ", %d, ", (int)a[2]);
		if (cmd == 9) {
			put_timespec(sb, (unsigned long)a[3]);
			hu_sb_puts(sb, ", ");
		}
		if ((uint32_t)a[5] == 0xffffffffu)
			hu_sb_puts(sb, "FUTEX_BITSET_MATCH_ANY");
		else
			put_hex(sb, (uint32_t)a[5]);
		break;
	case 11:                    /* WAIT_REQUEUE_PI: val, timeout, uaddr2 */
		hu_sb_printf(sb, ", %d, ", (int)a[2]);
		put_timespec(sb, (unsigned long)a[3]);
		hu_sb_puts(sb, ", ");
		put_ptr(sb, (unsigned long)a[4]);
		break;
	default:                    /* WAKE_OP: val, val2, uaddr2, encoded op */
		hu_sb_printf(sb, ", %d, %d, ", (int)a[2], (int)a[3]);
		put_ptr(sb, (unsigned long)a[4]);
		hu_sb_puts(sb, ", ");
		put_hex(sb, (uint32_t)a[5]);
		break;
	}
	hu_sb_putc(sb, ')');
}

/* clone's register order on x86-64: flags, stack, parent_tid, child_tid, tls. */
static void put_clone(struct hu_sb *sb, const struct zp_syscall *call)
{
	unsigned long flags = (unsigned long)call->args[0];

	hu_sb_puts(sb, "clone(child_stack=");
	put_ptr(sb, (unsigned long)call->args[1]);
	hu_sb_puts(sb, ", flags=");
	put_clone_flags(sb, flags, 1);
	if (flags & (0x100000 | 0x1000)) {          /* PARENT_SETTID, PIDFD */
		hu_sb_puts(sb, ", parent_tid=");
		put_ptr(sb, (unsigned long)call->args[2]);
	}
	if (flags & 0x80000) {                      /* SETTLS */
		hu_sb_puts(sb, ", tls=");
		put_ptr(sb, (unsigned long)call->args[4]);
	}
	if (flags & (0x1000000 | 0x200000)) {       /* CHILD_SETTID, CHILD_CLEARTID */
		hu_sb_puts(sb, ", child_tidptr=");
		put_ptr(sb, (unsigned long)call->args[3]);
	}
	hu_sb_putc(sb, ')');
}

static void put_clone3(struct hu_sb *sb, const struct zp_syscall *call)
{
	/* struct clone_args: flags, pidfd, child_tid, parent_tid, exit_signal,
	 * stack, stack_size, tls, ... (all 64-bit) */
	const uint64_t *ca = (const uint64_t *)call->args[0];
	unsigned long size = (unsigned long)call->args[1];

	hu_sb_puts(sb, "clone3(");
	if (!ca || size < 64 || !hu_user_ptr_ok((unsigned long)ca, 64)) {
		put_ptr(sb, (unsigned long)ca);
	} else {
		hu_sb_puts(sb, "{flags=");
		put_clone_flags(sb, ca[0], 0);
		if (ca[0] & (0x1000000 | 0x200000)) {
			hu_sb_puts(sb, ", child_tid=");
			put_ptr(sb, ca[2]);
		}
		if (ca[0] & 0x1000) {
			hu_sb_puts(sb, ", pidfd=");
			put_ptr(sb, ca[1]);
		}
		if (ca[0] & 0x100000) {
			hu_sb_puts(sb, ", parent_tid=");
			put_ptr(sb, ca[3]);
		}
		hu_sb_puts(sb, ", exit_signal=");
		put_signal(sb, (long)ca[4]);
		if (ca[5] || ca[6]) {
			hu_sb_puts(sb, ", stack=");
			put_ptr(sb, ca[5]);
			hu_sb_puts(sb, ", stack_size=");
			put_hex(sb, ca[6]);
		}
		if (ca[0] & 0x80000) {
			hu_sb_puts(sb, ", tls=");
			put_ptr(sb, ca[7]);
		}
		hu_sb_putc(sb, '}');
	}
	hu_sb_printf(sb, ", %lu)", size);
}

/*
 * "name(args)" of a call; `done` says whether it was made (result valid), so
 * that buffers the kernel filled can be shown.  `close` is 0 to leave the
 * parenthesis open (execve's "<unfinished ...>").
 */
static void put_call(struct hu_sb *sb, const struct zp_syscall *call, long result,
		     int done, int close)
{
	const struct desc *d;
	const char *name;
	int i;

	switch (call->nr) {
	case __NR_fcntl:  put_fcntl(sb, call); return;
	case __NR_futex:  put_futex(sb, call); return;
	case __NR_clone:  put_clone(sb, call); return;
	case __NR_clone3: put_clone3(sb, call); return;
	}
	name = zp_syscall_name(call->nr);
	d = call->nr >= 0 && call->nr < NDESC ? &descs[call->nr] : 0;
	if (!name || !d || !d->known) {
		hu_sb_raw_call(sb, call);
		return;
	}
	hu_sb_puts(sb, name);
	hu_sb_putc(sb, '(');
	for (i = 0; i < d->n; i++) {
		if (!arg_shown(d->a[i], call, i))
			break;
		if (i)
			hu_sb_puts(sb, ", ");
		put_arg(sb, d->a[i], call, i, result, done);
	}
	if (close)
		hu_sb_putc(sb, ')');
}

static void put_result(struct hu_sb *sb, const struct zp_syscall *call, long r)
{
	int rk = call->nr >= 0 && call->nr < NDESC ? descs[call->nr].ret : R_DEC;

	if (rk == R_NONE) {
		hu_sb_putc(sb, '?');
		return;
	}
	if (hu_is_error(r)) {
		hu_sb_errno(sb, -r);
		return;
	}
	if (call->nr == __NR_fcntl) {
		put_fcntl_result(sb, call, r);
		return;
	}
	switch (rk) {
	case R_HEX:
		put_hex(sb, (unsigned long)r);
		break;
	case R_OCT:
		put_mode(sb, (unsigned long)r);
		break;
	case R_TIMEOUT:
		if (r)
			hu_sb_printf(sb, "%ld", r);
		else
			hu_sb_puts(sb, "0 (Timeout)");
		break;
	default:
		hu_sb_printf(sb, "%ld", r);
		break;
	}
}

/* ---- lines ---------------------------------------------------------------- */

struct line {
	char buf[LINE_MAX_LEN];
	struct hu_sb sb;
};

static void line_start(struct line *l)
{
	/* One byte kept back for the final newline. */
	hu_sb_init(&l->sb, l->buf, sizeof(l->buf) - 1);
	if (HU_ATOMIC_LOAD(&multi))
		hu_sb_printf(&l->sb, "[pid %5ld] ", zp_gettid());
	/* The call's own text stops short so that its result always fits. */
	l->sb.cap -= RESULT_ROOM;
}

/* End of the "name(args)" part; what comes next always fits. */
static void line_args_done(struct line *l)
{
	int cut = l->sb.full;

	l->sb.cap += RESULT_ROOM;
	l->sb.full = 0;
	if (cut)
		hu_sb_puts(&l->sb, "...)");
}

static void line_result(struct line *l, const struct zp_syscall *call, long r)
{
	hu_sb_pad(&l->sb, RESULT_COLUMN);
	hu_sb_puts(&l->sb, " = ");
	put_result(&l->sb, call, r);
}

static void line_emit(struct line *l)
{
	l->buf[l->sb.len] = '\n';
	hu_out_write(l->buf, l->sb.len + 1);
}

__attribute__((noinline))
static void print_call_line(const struct zp_syscall *call, long r, int done)
{
	struct line l;

	line_start(&l);
	put_call(&l.sb, call, r, done, 1);
	line_args_done(&l);
	line_result(&l, call, r);
	line_emit(&l);
}

__attribute__((noinline))
static void print_exited(int status)
{
	struct line l;

	line_start(&l);
	line_args_done(&l);
	hu_sb_printf(&l.sb, "+++ exited with %d +++", status & 0xff);
	line_emit(&l);
}

/* exit and exit_group do not return: their line is printed before. */
__attribute__((noinline))
static void print_exit_line(const struct zp_syscall *call)
{
	long tid = zp_gettid();
	struct line l;

	line_start(&l);
	put_call(&l.sb, call, 0, 0, 1);
	line_args_done(&l);
	line_result(&l, call, 0);
	if (HU_ATOMIC_LOAD(&exit_pending_tid) == tid) {
		/* zp_hook_exit came first: add its line, in the same write. */
		hu_sb_putc(&l.sb, '\n');
		if (HU_ATOMIC_LOAD(&multi))
			hu_sb_printf(&l.sb, "[pid %5ld] ", tid);
		hu_sb_printf(&l.sb, "+++ exited with %d +++", exit_pending_status & 0xff);
	} else if (!hu_in_shared_child()) {
		HU_ATOMIC_STORE(&exit_line_tid, tid);
	}
	line_emit(&l);
}

/* A successful execve does not return either, but a failed one does: print
 * the arguments now and the result, if any, in leave. */
__attribute__((noinline))
static void print_exec_line(const struct zp_syscall *call)
{
	struct line l;

	line_start(&l);
	put_call(&l.sb, call, 0, 0, 0);
	line_args_done(&l);
	hu_sb_puts(&l.sb, " <unfinished ...>");
	line_emit(&l);
}

__attribute__((noinline))
static void print_exec_resumed(const struct zp_syscall *call, long result)
{
	struct line l;

	line_start(&l);
	hu_sb_printf(&l.sb, "<... %s resumed>)", zp_syscall_name(call->nr));
	line_args_done(&l);
	line_result(&l, call, result);
	line_emit(&l);
}

/* ---- entry points -------------------------------------------------------- */

ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	(void)proc;
	hu_out_init("ZP_TRACE_FILE", "zprewrite-trace", 0);
	return 0;
}

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	long r = hu_out_guard(call);

	if (r != ZP_PASS) {
		/* Answered here (the application touched our descriptor): no
		 * leave will follow, so this is the only chance to show it. */
		print_call_line(call, r, 1);
		return r;
	}
	switch (call->nr) {
	case __NR_clone:
	case __NR_clone3:
	case __NR_fork:
	case __NR_vfork:
		HU_ATOMIC_STORE(&multi, 1);
		break;
	case __NR_exit:
	case __NR_exit_group:
		print_exit_line(call);
		break;
	case __NR_rt_sigreturn:
		/* Does not return to this call site.  Its argument is the signal
		 * frame on the application's stack, which the hook cannot see. */
		print_call_line(call, 0, 0);
		break;
	case __NR_execve:
	case __NR_execveat:
		print_exec_line(call);
		break;
	}
	return ZP_PASS;
}

static int is_fork(long nr)
{
	return nr == __NR_clone || nr == __NR_clone3 || nr == __NR_fork || nr == __NR_vfork;
}

ZP_HOOK_EXPORT long zp_hook_leave(const struct zp_syscall *call, long result)
{
	if (call->nr == __NR_execve || call->nr == __NR_execveat)
		print_exec_resumed(call, result);
	else if (!(result == 0 && is_fork(call->nr)))
		/* A fork returns 0 only in the child: the parent prints the
		 * line (with the child's id), as strace does, should the
		 * runtime call leave in the child too. */
		print_call_line(call, result, 1);
	return result;
}

ZP_HOOK_EXPORT void zp_hook_exit(int status)
{
	long tid = zp_gettid();

	/* A child that shares our memory records nothing: its exit_group was
	 * printed just before (enter comes first: hook.h). */
	if (HU_ATOMIC_LOAD(&exit_line_tid) == tid || hu_in_shared_child()) {
		print_exited(status);
	} else {
		exit_pending_status = status;
		HU_ATOMIC_STORE(&exit_pending_tid, tid);
	}
}
