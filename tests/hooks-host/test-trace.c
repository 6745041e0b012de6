/*
 * test-trace.c - drive samples/hooks/trace.c with crafted system calls and
 * compare its lines with what strace prints for the same calls.
 *
 *   test-trace          crafted calls (results made up), expected text here
 *   test-trace live     real calls through the hook, for t-hooks-format.sh
 *                       to compare with strace's own trace of this process
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mock.h"

#define OUT "trace.out"

/* A line as strace pads it: " = " at column 40. */
static char *line(const char *call, const char *result)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "%-39s = %s\n", call, result);
	return buf;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char bufs[4][4096];
	static int i;
	va_list ap;
	char *b = bufs[i++ % 4];

	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

static void check(const char *what, const char *want)
{
	char *got = take_output(OUT);

	expect_str(what, got, want);
	free(got);
}

#define A(x) ((long)(x))

static void test_basics(void)
{
	static char passwd[1234] = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:...";
	static const char esc[] = "a\1\0019b\t\r\n\177\377\"\\ \0330\f\v\7\10";
	char buf[64];

	mock_fake(3, SYS_openat, AT_FDCWD, A("/etc/passwd"), O_RDONLY | O_CLOEXEC, 0, 0, 0);
	check("openat", "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3\n");

	mock_fake(1234, SYS_read, 3, A(passwd), 4096, 0, 0, 0);
	check("read", "read(3, \"root:x:0:0:root:/root:/bin/bash\\n\"..., 4096) = 1234\n");

	mock_fake(0, SYS_close, 3, 0, 0, 0, 0, 0);
	check("close", line("close(3)", "0"));

	mock_fake(-ENOENT, SYS_openat, AT_FDCWD, A("/nonexistent"), O_RDONLY, 0, 0, 0);
	check("openat ENOENT",
	      "openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file or directory)\n");

	mock_fake(0x7f955d0e8000, SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("mmap anon",
	      "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f955d0e8000\n");

	mock_fake(0x7f955cf21000, SYS_mmap, 0x7f955cf21000, 1400832, PROT_READ | PROT_EXEC,
		  MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, 3, 0x26000);
	check("mmap file",
	      "mmap(0x7f955cf21000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7f955cf21000\n");

	mock_fake(-EBADF, SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, -1, 0);
	check("mmap error",
	      "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) = -1 EBADF (Bad file descriptor)\n");

	mock_fake(-ENOSYS, SYS_mmap, 0, 4096,
		  PROT_READ | PROT_WRITE | PROT_EXEC | 8 | PROT_GROWSDOWN | PROT_GROWSUP,
		  MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_32BIT | MAP_GROWSDOWN | MAP_DENYWRITE |
		  MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |
		  MAP_STACK | MAP_HUGETLB | MAP_SYNC | MAP_FIXED_NOREPLACE | 0x4000000, -1, 0);
	check("mmap all flags",
	      "mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC|PROT_SEM|PROT_GROWSDOWN|PROT_GROWSUP, "
	      "MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS|MAP_32BIT|MAP_NORESERVE|MAP_POPULATE|MAP_NONBLOCK|"
	      "MAP_GROWSDOWN|MAP_DENYWRITE|MAP_EXECUTABLE|MAP_LOCKED|MAP_STACK|MAP_HUGETLB|MAP_SYNC|"
	      "MAP_FIXED_NOREPLACE|1<<MAP_HUGE_SHIFT, -1, 0) = -1 ENOSYS (Function not implemented)\n");

	mock_fake(-ENOSYS, SYS_mmap, 0, 4096, 0, 0, 3, 4096);
	check("mmap MAP_FILE", "mmap(NULL, 4096, PROT_NONE, MAP_FILE, 3, 0x1000) = -1 ENOSYS (Function not implemented)\n");

	mock_fake(3, SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP, 0, 0, 0);
	check("socket inet",
	      "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP) = 3\n");
	mock_fake(4, SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, 0, 0, 0);
	check("socket unix", line("socket(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0)", "4"));
	mock_fake(5, SYS_socket, AF_NETLINK, SOCK_RAW, 0, 0, 0, 0);
	check("socket netlink", line("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", "5"));
	mock_fake(-EAFNOSUPPORT, SYS_socket, 99, 77, 0, 0, 0, 0);
	check("socket unknown",
	      "socket(0x63 /* AF_??? */, 0x4d /* SOCK_??? */, 0) = -1 EAFNOSUPPORT (Address family not supported by protocol)\n");

	mock_fake(19, SYS_write, 1, A(esc), 19, 0, 0, 0);
	check("write escapes",
	      line("write(1, \"a\\1\\19b\\t\\r\\n\\177\\377\\\"\\\\ \\0330\\f\\v\\7\\10\", 19)", "19"));

	mock_fake(32, SYS_write, 7, A("01234567890123456789012345678901"), 32, 0, 0, 0);
	check("write 32", "write(7, \"01234567890123456789012345678901\", 32) = 32\n");
	mock_fake(33, SYS_write, 7, A("012345678901234567890123456789012"), 33, 0, 0, 0);
	check("write 33", "write(7, \"01234567890123456789012345678901\"..., 33) = 33\n");
	mock_fake(0, SYS_write, 7, A(""), 0, 0, 0, 0);
	check("write empty", line("write(7, \"\", 0)", "0"));
	mock_fake(5, SYS_write, 1, 0, 5, 0, 0, 0);
	check("write NULL", line("write(1, NULL, 5)", "5"));
	mock_fake(-EFAULT, SYS_write, 1, 1, 5, 0, 0, 0);
	check("write bad pointer", line("write(1, 0x1, 5)", "-1 EFAULT (Bad address)"));

	mock_fake(-EBADF, SYS_read, 5, A(buf), 10, 0, 0, 0);
	check("read error", line(fmt("read(5, %p, 10)", (void *)buf), "-1 EBADF (Bad file descriptor)"));
	memcpy(buf, "", 1);
	mock_fake(0, SYS_read, 3, A(buf), 4096, 0, 0, 0);
	check("read eof", line("read(3, \"\", 4096)", "0"));

	mock_fake(-ENOSYS, 500, 1, 2, 3, 4, 5, 6);
	check("unknown syscall",
	      "syscall_0x1f4(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)\n");
	mock_fake(0, SYS_mlock, 0x1000, 0x2000, 0, 0, 0, 0);
	check("untabled syscall", line("mlock(0x1000, 0x2000)", "0"));
	mock_fake(-531, SYS_nanosleep, 0, 0, 0, 0, 0, 0);
	check("unknown errno", line("nanosleep(NULL, NULL)", "-1 (errno 531)"));
	mock_fake(7185, SYS_getpid, 0, 0, 0, 0, 0, 0);
	check("getpid", line("getpid()", "7185"));
}

static void test_flags(void)
{
	const char *p = "/tmp/gen/x";

	mock_fake(-ENOENT, SYS_openat, AT_FDCWD, A(p), O_RDONLY | O_SYNC | O_NONBLOCK | O_CLOEXEC | 0100000, 0, 0, 0);
	check("open flags 1",
	      "openat(AT_FDCWD, \"/tmp/gen/x\", O_RDONLY|O_NONBLOCK|O_SYNC|O_LARGEFILE|O_CLOEXEC) = -1 ENOENT (No such file or directory)\n");
	mock_fake(-ENOENT, SYS_openat, AT_FDCWD, A(p), O_PATH | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY, 0, 0, 0);
	check("open flags 2",
	      "openat(AT_FDCWD, \"/tmp/gen/x\", O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_PATH|O_DIRECTORY) = -1 ENOENT (No such file or directory)\n");
	mock_fake(-ENOENT, SYS_openat, AT_FDCWD, A(p), O_TMPFILE | O_EXCL | O_CLOEXEC | O_WRONLY, 0600, 0, 0);
	check("open flags tmpfile",
	      "openat(AT_FDCWD, \"/tmp/gen/x\", O_WRONLY|O_EXCL|O_CLOEXEC|O_TMPFILE, 0600) = -1 ENOENT (No such file or directory)\n");
	mock_fake(-ENOSYS, SYS_openat, AT_FDCWD, A(p),
		  O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC |
		  O_DIRECT | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC, 0644, 0, 0);
	check("open flags all",
	      "openat(AT_FDCWD, \"/tmp/gen/x\", O_RDONLY|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_DSYNC|O_DIRECT|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_DIRECTORY|FASYNC, 0644) = -1 ENOSYS (Function not implemented)\n");
	mock_fake(-ENOSYS, SYS_openat, 5, A(p), O_CREAT, 0, 0, 0);
	check("open mode 000", "openat(5, \"/tmp/gen/x\", O_RDONLY|O_CREAT, 000) = -1 ENOSYS (Function not implemented)\n");
	mock_fake(3, SYS_openat, AT_FDCWD, A(p), O_RDONLY | 0x40000000, 04755, 0, 0);
	check("open unknown flag", "openat(AT_FDCWD, \"/tmp/gen/x\", O_RDONLY|0x40000000) = 3\n");
	mock_fake(3, SYS_open, A(p), O_WRONLY | O_CREAT | O_TRUNC, 0666, 0, 0, 0);
	check("open", "open(\"/tmp/gen/x\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3\n");

	mock_fake(0, SYS_access, A(p), F_OK, 0, 0, 0, 0);
	check("access F_OK", line("access(\"/tmp/gen/x\", F_OK)", "0"));
	mock_fake(0, SYS_access, A(p), R_OK | W_OK | X_OK, 0, 0, 0, 0);
	check("access RWX", line("access(\"/tmp/gen/x\", R_OK|W_OK|X_OK)", "0"));
	mock_fake(0, SYS_faccessat2, AT_FDCWD, A(p), R_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW, 0, 0);
	check("faccessat2", "faccessat2(AT_FDCWD, \"/tmp/gen/x\", R_OK, AT_SYMLINK_NOFOLLOW|AT_EACCESS) = 0\n");
	mock_fake(0, SYS_unlinkat, AT_FDCWD, A(p), AT_REMOVEDIR, 0, 0, 0);
	check("unlinkat", line("unlinkat(AT_FDCWD, \"/tmp/gen/x\", AT_REMOVEDIR)", "0"));
	mock_fake(-EFAULT, SYS_statx, AT_FDCWD, A(p), AT_SYMLINK_NOFOLLOW, 0xfff, 0x1000, 0);
	check("statx",
	      "statx(AT_FDCWD, \"/tmp/gen/x\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, 0xfff, 0x1000) = -1 EFAULT (Bad address)\n");

	mock_fake(-EBADF, SYS_lseek, 3, -1, SEEK_HOLE, 0, 0, 0);
	check("lseek", line("lseek(3, -1, SEEK_HOLE)", "-1 EBADF (Bad file descriptor)"));
	mock_fake(-EINVAL, SYS_lseek, 3, 5, 9, 0, 0, 0);
	check("lseek bad whence", line("lseek(3, 5, 0x9 /* SEEK_??? */)", "-1 EINVAL (Invalid argument)"));

	mock_fake(0x8000, SYS_fcntl, 3, F_GETFL, 0, 0, 0, 0);
	check("fcntl getfl", line("fcntl(3, F_GETFL)", "0x8000 (flags O_RDONLY|O_LARGEFILE)"));
	mock_fake(0, SYS_fcntl, 3, F_GETFD, 0, 0, 0, 0);
	check("fcntl getfd 0", line("fcntl(3, F_GETFD)", "0"));
	mock_fake(1, SYS_fcntl, 3, F_GETFD, 0, 0, 0, 0);
	check("fcntl getfd 1", line("fcntl(3, F_GETFD)", "0x1 (flags FD_CLOEXEC)"));
	mock_fake(0, SYS_fcntl, 3, F_SETFD, FD_CLOEXEC, 0, 0, 0);
	check("fcntl setfd", line("fcntl(3, F_SETFD, FD_CLOEXEC)", "0"));
	mock_fake(0, SYS_fcntl, 3, F_SETFL, O_RDWR | O_NONBLOCK, 0, 0, 0);
	check("fcntl setfl", line("fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK)", "0"));
	mock_fake(10, SYS_fcntl, 3, F_DUPFD_CLOEXEC, 10, 0, 0, 0);
	check("fcntl dupfd", line("fcntl(3, F_DUPFD_CLOEXEC, 10)", "10"));
	mock_fake(0, SYS_fcntl, 3, F_SETLK, 0x1234, 0, 0, 0);
	check("fcntl setlk", line("fcntl(3, F_SETLK, 0x1234)", "0"));
	mock_fake(-EINVAL, SYS_fcntl, 3, 1234, 0x1234, 0, 0, 0);
	check("fcntl unknown", line("fcntl(3, 0x4d2 /* F_??? */, 0x1234)", "-1 EINVAL (Invalid argument)"));

	mock_fake(0, SYS_rt_sigprocmask, SIG_SETMASK, 0, 0, 8, 0, 0);
	check("sigprocmask", line("rt_sigprocmask(SIG_SETMASK, NULL, NULL, 8)", "0"));
	mock_fake(0, SYS_rt_sigaction, SIGCHLD, 0x22, 0x33, 8, 0, 0);
	check("sigaction", line("rt_sigaction(SIGCHLD, 0x22, 0x33, 8)", "0"));
	mock_fake(0, SYS_kill, 1234, SIGTERM, 0, 0, 0, 0);
	check("kill", line("kill(1234, SIGTERM)", "0"));
	mock_fake(0, SYS_kill, 1234, 34, 0, 0, 0, 0);
	check("kill rt", line("kill(1234, SIGRT_2)", "0"));
	mock_fake(0, SYS_kill, 1234, 32, 0, 0, 0, 0);
	check("kill rtmin", line("kill(1234, SIGRTMIN)", "0"));
	mock_fake(0, SYS_kill, 1234, 0, 0, 0, 0, 0);
	check("kill 0", line("kill(1234, 0)", "0"));

	mock_fake(0, SYS_arch_prctl, 0x1002, 0x3c1d2380, 0, 0, 0, 0);
	check("arch_prctl", line("arch_prctl(ARCH_SET_FS, 0x3c1d2380)", "0"));
	mock_fake(-EINVAL, SYS_arch_prctl, 0x3001, 0x1234, 0, 0, 0, 0);
	check("arch_prctl unknown",
	      line("arch_prctl(0x3001 /* ARCH_??? */, 0x1234)", "-1 EINVAL (Invalid argument)"));
	mock_fake(0, SYS_prlimit64, 0, RLIMIT_STACK, 0, 0x1000, 0, 0);
	check("prlimit64", line("prlimit64(0, RLIMIT_STACK, NULL, 0x1000)", "0"));
	mock_fake(-ECHILD, SYS_wait4, 12345, 0, 0x40000000 | 2 | 8, 0, 0, 0);
	check("wait4",
	      line("wait4(12345, NULL, WSTOPPED|WCONTINUED|__WALL, NULL)", "-1 ECHILD (No child processes)"));
	mock_fake(0, SYS_poll, 0, 0, 0, 0, 0, 0);
	check("poll", line("poll(NULL, 0, 0)", "0 (Timeout)"));
	mock_fake(-ENOTTY, SYS_ioctl, 1, 0x5401, 0x1000, 0, 0, 0);
	check("ioctl", line("ioctl(1, TCGETS, 0x1000)", "-1 ENOTTY (Inappropriate ioctl for device)"));
	mock_fake(0, SYS_ioctl, 1, 0xc0105512, 0, 0, 0, 0);
	check("ioctl unknown", line("ioctl(1, 0xc0105512, 0)", "0"));
	mock_fake(0, SYS_madvise, 0x1000, 4096, MADV_DONTNEED, 0, 0, 0);
	check("madvise", line("madvise(0x1000, 4096, MADV_DONTNEED)", "0"));
	mock_fake(3, SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK, 0, 0, 0, 0);
	check("eventfd2", line("eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK)", "3"));
	mock_fake(3, SYS_epoll_create1, O_CLOEXEC, 0, 0, 0, 0, 0);
	check("epoll_create1", line("epoll_create1(EPOLL_CLOEXEC)", "3"));
	mock_fake(0, SYS_epoll_ctl, 3, 1, 4, 0x1000, 0, 0);
	check("epoll_ctl", line("epoll_ctl(3, EPOLL_CTL_ADD, 4, 0x1000)", "0"));
	mock_fake(0, SYS_close_range, 3, ~0U, 0, 0, 0, 0);
	check("close_range", line("close_range(3, 4294967295, 0)", "0"));
	mock_fake(4, SYS_accept4, 3, 0, 0, SOCK_CLOEXEC, 0, 0);
	check("accept4", line("accept4(3, NULL, NULL, SOCK_CLOEXEC)", "4"));
	mock_fake(0, SYS_clock_gettime, 1, 0x1000, 0, 0, 0, 0);
	check("clock_gettime", line("clock_gettime(CLOCK_MONOTONIC, 0x1000)", "0"));
	mock_fake(0, SYS_shutdown, 3, 1, 0, 0, 0, 0);
	check("shutdown", line("shutdown(3, SHUT_WR)", "0"));
	mock_fake(0, SYS_setsockopt, 3, 1, 2, 0x1000, 4, 0);
	check("setsockopt", line("setsockopt(3, SOL_SOCKET, SO_REUSEADDR, 0x1000, 4)", "0"));
	mock_fake(0, SYS_setsockopt, 3, 6, 1, 0x1000, 4, 0);
	check("setsockopt tcp", line("setsockopt(3, SOL_TCP, TCP_NODELAY, 0x1000, 4)", "0"));
	mock_fake(0x2000, SYS_mremap, 0x1000, 4096, 8192, 1, 0, 0);
	check("mremap", line("mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE)", "0x2000"));
	mock_fake(022, SYS_umask, 077, 0, 0, 0, 0, 0);
	check("umask", line("umask(077)", "022"));
	mock_fake(0, SYS_mkdir, A(p), 0755, 0, 0, 0, 0);
	check("mkdir", line("mkdir(\"/tmp/gen/x\", 0755)", "0"));
	mock_fake(0x56498ae78000, SYS_brk, 0, 0, 0, 0, 0, 0);
	check("brk", line("brk(NULL)", "0x56498ae78000"));
	mock_fake(-ENOSYS, SYS_rseq, 0x1000, 0x20, 0, 0x53053053, 0, 0);
	check("rseq", line("rseq(0x1000, 0x20, 0, 0x53053053)", "-1 ENOSYS (Function not implemented)"));
	mock_fake(0, SYS_sendto, 3, A("abc"), 3, MSG_NOSIGNAL, 0, 0);
	check("sendto", line("sendto(3, \"abc\", 3, MSG_NOSIGNAL, NULL, 0)", "0"));
}

static void test_structs(void)
{
	struct stat st;
	int fds[2] = { 4, 5 };
	static const unsigned char rnd[8] = { 0xa6, 0x23, 0x88, 0x3d, 0x0d, 0x7e, 0x07, 0x21 };
	char cwd[100] = "/tmp/gen";
	struct timespec ts = { 1, 500 };
	static char *av[] = { "/nonexistent", "a b", "x\"y", NULL };
	static char *ev[] = { "A=1", "B=2", NULL };

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_size = 1221;
	mock_fake(0, SYS_newfstatat, 3, A(""), A(&st), AT_EMPTY_PATH, 0, 0);
	check("stat reg", "newfstatat(3, \"\", {st_mode=S_IFREG|0644, st_size=1221, ...}, AT_EMPTY_PATH) = 0\n");
	st.st_mode = S_IFCHR | 0666;
	st.st_rdev = makedev(1, 3);
	mock_fake(0, SYS_newfstatat, AT_FDCWD, A("/dev/null"), A(&st), 0, 0, 0);
	check("stat chr",
	      "newfstatat(AT_FDCWD, \"/dev/null\", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, 0) = 0\n");
	st.st_mode = S_IFDIR | S_ISVTX | 0777;
	st.st_size = 4096;
	mock_fake(0, SYS_newfstatat, AT_FDCWD, A("/tmp"), A(&st), 0, 0, 0);
	check("stat dir",
	      "newfstatat(AT_FDCWD, \"/tmp\", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}, 0) = 0\n");
	mock_fake(-ENOENT, SYS_newfstatat, AT_FDCWD, A("/nope"), A(&st), AT_SYMLINK_NOFOLLOW, 0, 0);
	check("stat error",
	      fmt("newfstatat(AT_FDCWD, \"/nope\", %p, AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)\n",
		  (void *)&st));
	st.st_mode = S_IFREG;
	st.st_size = 0;
	mock_fake(0, SYS_fstat, 3, A(&st), 0, 0, 0, 0);
	check("fstat", line("fstat(3, {st_mode=S_IFREG|000, st_size=0, ...})", "0"));

	mock_fake(0, SYS_pipe2, A(fds), O_CLOEXEC, 0, 0, 0, 0);
	check("pipe2", line("pipe2([4, 5], O_CLOEXEC)", "0"));
	mock_fake(0, SYS_pipe2, A(fds), 0, 0, 0, 0, 0);
	check("pipe2 0", line("pipe2([4, 5], 0)", "0"));
	mock_fake(0, SYS_pipe2, A(fds), O_NONBLOCK | O_CLOEXEC, 0, 0, 0, 0);
	check("pipe2 flags", line("pipe2([4, 5], O_NONBLOCK|O_CLOEXEC)", "0"));
	mock_fake(0, SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, A(fds), 0, 0);
	check("socketpair", line("socketpair(AF_UNIX, SOCK_STREAM, 0, [4, 5])", "0"));

	mock_fake(8, SYS_getrandom, A(rnd), 8, 1, 0, 0, 0);
	check("getrandom",
	      "getrandom(\"\\xa6\\x23\\x88\\x3d\\x0d\\x7e\\x07\\x21\", 8, GRND_NONBLOCK) = 8\n");
	mock_fake(9, SYS_getcwd, A(cwd), 100, 0, 0, 0, 0);
	check("getcwd", line("getcwd(\"/tmp/gen\", 100)", "9"));
	mock_fake(-ERANGE, SYS_getcwd, A(cwd), 1, 0, 0, 0, 0);
	check("getcwd error", line(fmt("getcwd(%p, 1)", (void *)cwd), "-1 ERANGE (Numerical result out of range)"));
	mock_fake(15, SYS_readlink, A("/proc/self/exe"), A("/tmp/gen/probe3"), 100, 0, 0, 0);
	check("readlink", "readlink(\"/proc/self/exe\", \"/tmp/gen/probe3\", 100) = 15\n");

	mock_fake(0, SYS_nanosleep, A(&ts), 0, 0, 0, 0, 0);
	check("nanosleep", line("nanosleep({tv_sec=1, tv_nsec=500}, NULL)", "0"));
	mock_fake(0, SYS_clock_nanosleep, CLOCK_MONOTONIC, 1, A(&ts), 0x1000, 0, 0);
	check("clock_nanosleep",
	      line("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec=1, tv_nsec=500}, 0x1000)", "0"));

	mock_fake(-EAGAIN, SYS_futex, 0x1000, FUTEX_WAIT_PRIVATE, 2, 0, 0, 0);
	check("futex wait",
	      line("futex(0x1000, FUTEX_WAIT_PRIVATE, 2, NULL)", "-1 EAGAIN (Resource temporarily unavailable)"));
	mock_fake(0, SYS_futex, 0x1000, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
	check("futex wake", line("futex(0x1000, FUTEX_WAKE_PRIVATE, 1)", "0"));
	mock_fake(0, SYS_futex, 0x1000, FUTEX_WAIT, 2, A(&ts), 0, 0);
	check("futex timeout", line("futex(0x1000, FUTEX_WAIT, 2, {tv_sec=1, tv_nsec=500})", "0"));
	mock_fake(0, SYS_futex, 0x1000, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 2, 0, 0, -1);
	check("futex bitset",
	      line("futex(0x1000, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 2, NULL, FUTEX_BITSET_MATCH_ANY)", "0"));
	mock_fake(0, SYS_futex, 0x1000, FUTEX_WAKE_BITSET_PRIVATE, 2, 0, 0, -1);
	check("futex wake bitset",
	      line("futex(0x1000, FUTEX_WAKE_BITSET_PRIVATE, 2, FUTEX_BITSET_MATCH_ANY)", "0"));
	mock_fake(0, SYS_futex, 0x1000, FUTEX_CMP_REQUEUE_PRIVATE, 1, 3, 0x2000, 7);
	check("futex cmp_requeue", line("futex(0x1000, FUTEX_CMP_REQUEUE_PRIVATE, 1, 3, 0x2000, 7)", "0"));
	mock_fake(0, SYS_futex, 0x1000, FUTEX_LOCK_PI_PRIVATE, 1, 0, 0x2000, 7);
	check("futex lock_pi", line("futex(0x1000, FUTEX_LOCK_PI_PRIVATE, NULL)", "0"));
	mock_fake(-ENOSYS, SYS_futex, 0x1000, 99, 1, 1, 0x2000, 7);
	check("futex unknown",
	      line("futex(0x1000, 0x63 /* FUTEX_??? */, 1, 0x1, 0x2000, 0x7)", "-1 ENOSYS (Function not implemented)"));

	/* execve: arguments before the call, result after (if it returns). */
	{
		struct zp_syscall c = { SYS_execve, { A("/nonexistent"), A(av), A(ev) }, 0 };
		long r = zp_hook_enter(&c);

		expect_long("execve passes", r, ZP_PASS);
		check("execve enter",
		      fmt("execve(\"/nonexistent\", [\"/nonexistent\", \"a b\", \"x\\\"y\"], %p /* 2 vars */ <unfinished ...>\n",
			  (void *)ev));
		zp_hook_leave(&c, -ENOENT);
		check("execve leave", line("<... execve resumed>)", "-1 ENOENT (No such file or directory)"));
		c.args[1] = c.args[2] = 0;
		zp_hook_enter(&c);
		check("execve NULL", "execve(\"/nonexistent\", NULL, NULL <unfinished ...>\n");
	}
}

static void test_sockaddr(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_in6 b = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	unsigned char nl[12] = { 16, 0 };
	struct sockaddr s = { .sa_family = AF_PACKET };

	inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
	mock_fake(-EBADF, SYS_connect, 3, A(&a), sizeof(a), 0, 0, 0);
	check("connect inet",
	      "connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"10.1.2.3\")}, 16) = -1 EBADF (Bad file descriptor)\n");
	static const struct { const char *in, *out; } v6[] = {
		{ "2001:db8::1:0:0:1", "2001:db8::1:0:0:1" },
		{ "::ffff:1.2.3.4", "::ffff:1.2.3.4" },
		{ "::", "::" },
		{ "::1", "::1" },
		{ "fe80::1:2", "fe80::1:2" },
		{ "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
		{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
		{ "1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8" },
		{ "1::", "1::" },
	};
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		inet_pton(AF_INET6, v6[i].in, &b.sin6_addr);
		mock_fake(0, SYS_connect, 3, A(&b), sizeof(b), 0, 0, 0);
		check(fmt("connect inet6 %s", v6[i].in),
		      fmt("connect(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"%s\", &sin6_addr), sin6_scope_id=0}, 28) = 0\n",
			  v6[i].out));
	}
	strcpy(u.sun_path, "/run/x.sock");
	mock_fake(-ENOENT, SYS_connect, 3, A(&u), sizeof(u), 0, 0, 0);
	check("connect unix",
	      "connect(3, {sa_family=AF_UNIX, sun_path=\"/run/x.sock\"}, 110) = -1 ENOENT (No such file or directory)\n");
	u.sun_path[0] = 0;
	mock_fake(0, SYS_bind, 3, A(&u), 2 + 12, 0, 0, 0);
	check("bind abstract", line("bind(3, {sa_family=AF_UNIX, sun_path=@\"run/x.sock\\0\"}, 14)", "0"));
	mock_fake(0, SYS_bind, 3, A(&u), 2, 0, 0, 0);
	check("bind unnamed", line("bind(3, {sa_family=AF_UNIX}, 2)", "0"));
	mock_fake(0, SYS_bind, 3, A(nl), 12, 0, 0, 0);
	check("bind netlink", line("bind(3, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12)", "0"));
	mock_fake(0, SYS_bind, 3, A(&s), sizeof(s), 0, 0, 0);
	check("bind packet",
	      line("bind(3, {sa_family=AF_PACKET, sa_data=\"\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\"}, 16)", "0"));
	mock_fake(0, SYS_connect, 3, 0, 16, 0, 0, 0);
	check("connect NULL", line("connect(3, NULL, 16)", "0"));
	mock_fake(3, SYS_sendto, 3, A("abc"), 3, 0, A(&a), sizeof(a));
	check("sendto addr",
	      "sendto(3, \"abc\", 3, 0, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"10.1.2.3\")}, 16) = 3\n");
}

static void test_long_lines(void)
{
	static char path[2000];
	static char *av[100];
	char *got;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	mock_fake(3, SYS_openat, AT_FDCWD, A(path), O_RDONLY, 0, 0, 0);
	got = take_output(OUT);
	if (strlen(got) >= 768 || !strstr(got, "...) = 3\n") || strncmp(got, "openat(AT_FDCWD, \"/aaaa", 22)) {
		test_failures++;
		fprintf(stderr, "FAIL long path: %zu bytes [%s]\n", strlen(got), got);
	}
	free(got);

	for (int i = 0; i < 99; i++)
		av[i] = "an-argument-of-some-length";
	static char *ev[] = { NULL };
	struct zp_syscall c = { SYS_execve, { A("/bin/true"), A(av), A(ev) }, 0 };
	zp_hook_enter(&c);
	got = take_output(OUT);
	if (strlen(got) >= 768 || !strstr(got, "\", ...], ") || !strstr(got, "/* 0 vars */ <unfinished ...>\n")) {
		test_failures++;
		fprintf(stderr, "FAIL long argv: %zu bytes [%s]\n", strlen(got), got);
	}
	free(got);
}

/* The hook keeps its own descriptor to OUT; find it. */
static int find_out_fd(void)
{
	char link[64], target[4096], cwd[4096];

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	for (int fd = 3; fd < 1100; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, fmt("%s/%s", cwd, OUT)))
			return fd;
	}
	return -1;
}

static void test_fd_guard(void)
{
	int fd = find_out_fd(), fd2;
	long r;

	if (fd < 0) {
		test_failures++;
		fprintf(stderr, "FAIL: the hook's descriptor to %s was not found\n", OUT);
		return;
	}
	{
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur >= 1024 && fd < 1000) {
			test_failures++;
			fprintf(stderr, "FAIL: the hook's descriptor is low: %d\n", fd);
		}
	}
	expect_long("FD_CLOEXEC on the hook's descriptor", fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

	r = mock_call(SYS_close, fd, 0, 0, 0, 0, 0);
	expect_long("close(hook fd)", r, -EBADF);
	check("close(hook fd) line", line(fmt("close(%d)", fd), "-1 EBADF (Bad file descriptor)"));

	/* dup2 over it: the hook moves away, the application gets its number. */
	r = mock_call(SYS_dup2, 0, fd, 0, 0, 0, 0);
	expect_long("dup2 onto hook fd", r, fd);
	check("dup2 line", line(fmt("dup2(0, %d)", fd), fmt("%d", fd)));
	fd2 = find_out_fd();
	if (fd2 < 0 || fd2 == fd) {
		test_failures++;
		fprintf(stderr, "FAIL: after dup2 the hook's descriptor is %d (was %d)\n", fd2, fd);
	}
	close(fd);

	/* close_range over everything: made on both sides of the hook's
	 * descriptor, which stays where it is. */
	r = mock_call(SYS_close_range, 3, ~0U, 0, 0, 0, 0);
	expect_long("close_range", r, 0);
	expect_long("the hook's descriptor after close_range", find_out_fd(), fd2);
	mock_fake(0, SYS_getuid, 0, 0, 0, 0, 0, 0);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s", line("close_range(3, 4294967295, 0)", "0"));
		strcat(want, line("getuid()", "0"));
		check("after close_range", want);
	}
}

static void test_exit(void)
{
	struct zp_syscall c = { SYS_exit_group, { 0 }, 0 };
	pid_t pid;
	int status;

	expect_long("exit_group passes", zp_hook_enter(&c), ZP_PASS);
	check("exit_group", line("exit_group(0)", "?"));
	zp_hook_exit(0);
	check("exited", "+++ exited with 0 +++\n");

	/* zp_hook_exit first, then enter: the same two lines, in order.  In a
	 * child, whose thread id is fresh. */
	pid = fork();
	if (pid == 0) {
		struct zp_syscall c3 = { SYS_exit_group, { 259 }, 0 };
		zp_hook_exit(259);
		zp_hook_enter(&c3);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	check("exit order", fmt("%s+++ exited with 3 +++\n", line("exit_group(259)", "?")));

	c.nr = SYS_rt_sigreturn;
	zp_hook_enter(&c);
	check("rt_sigreturn", line("rt_sigreturn()", "?"));
}

static void test_threads(void)
{
	struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; } ca = {
		0x3d0f00, 0, 0x7fc847c99990, 0x7fc847c99990, 0, 0x7fc847499000, 0x7fff80, 0x7fc847c996c0,
	};
	char prefix[32];

	/* Before any clone, no prefix; after one, every line has it. */
	mock_fake(7269, SYS_clone, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD, 0, 0, 0x7fc847c9aa10, 0, 0);
	snprintf(prefix, sizeof(prefix), "[pid %5ld] ", (long)syscall(SYS_gettid));
	check("clone fork",
	      fmt("%sclone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fc847c9aa10) = 7269\n",
		  prefix));
	mock_fake(7270, SYS_clone, 0x3d0f00, 0x7000, 0x100, 0x200, 0x300, 0);
	check("clone thread",
	      fmt("%sclone(child_stack=0x7000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=0x100, tls=0x300, child_tidptr=0x200) = 7270\n",
		  prefix));
	mock_fake(7268, SYS_clone3, A(&ca), 88, 0, 0, 0, 0);
	check("clone3",
	      fmt("%sclone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7fc847c99990, parent_tid=0x7fc847c99990, exit_signal=0, stack=0x7fc847499000, stack_size=0x7fff80, tls=0x7fc847c996c0}, 88) = 7268\n",
		  prefix));
	mock_fake(0, SYS_close, 3, 0, 0, 0, 0, 0);
	check("prefixed close", line(fmt("%sclose(3)", prefix), "0"));
	/* leave in a child (result 0): the parent prints the line. */
	mock_fake(0, SYS_clone, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD, 0, 0, 0x7fc847c9aa10, 0, 0);
	check("clone in the child", "");
	mock_fake(7271, SYS_vfork, 0, 0, 0, 0, 0, 0);
	check("vfork", fmt("%-39s = 7271\n", fmt("%svfork()", prefix)));
}

/* Real calls through the hook, for comparison with strace's trace of them. */
static void live(void)
{
	char buf[4096], big[100];
	struct stat st;
	int fds[2], fd, fd2, d, s, u;
	long addr, addr2;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct timespec ts = { 0, 1000 };
	static const char data[] = "hello\n\tworld \"quoted\" \\ \001\002" "3\377";
	int word = 0;
	pid_t me = getpid();

	memset(big, 'x', sizeof(big));
	strcpy(un.sun_path, "/nonexistent/sock");
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);

	syscall(SYS_getppid);   /* start marker */
	fd = (int)mock_call(SYS_openat, AT_FDCWD, A("live.tmp"), O_WRONLY | O_CREAT | O_TRUNC, 0600, 0, 0);
	mock_call(SYS_write, fd, A(data), sizeof(data) - 1, 0, 0, 0);
	mock_call(SYS_write, fd, A(big), sizeof(big), 0, 0, 0);
	mock_call(SYS_fsync, fd, 0, 0, 0, 0, 0);
	mock_call(SYS_ftruncate, fd, 50, 0, 0, 0, 0);
	mock_call(SYS_lseek, fd, 0, SEEK_END, 0, 0, 0);
	mock_call(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);
	mock_call(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0);
	mock_call(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC, 0, 0, 0);
	mock_call(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0);
	fd2 = (int)mock_call(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 10, 0, 0, 0);
	mock_call(SYS_close, fd2, 0, 0, 0, 0, 0);
	mock_call(SYS_close, fd, 0, 0, 0, 0, 0);
	fd = (int)mock_call(SYS_openat, AT_FDCWD, A("live.tmp"), O_RDONLY | O_CLOEXEC, 0, 0, 0);
	mock_call(SYS_read, fd, A(buf), sizeof(buf), 0, 0, 0);
	mock_call(SYS_read, fd, A(buf), sizeof(buf), 0, 0, 0);
	mock_call(SYS_pread64, fd, A(buf), 10, 2, 0, 0);
	mock_call(SYS_close, fd, 0, 0, 0, 0, 0);
	mock_call(SYS_newfstatat, AT_FDCWD, A("live.tmp"), A(&st), 0, 0, 0);
	mock_call(SYS_newfstatat, AT_FDCWD, A("/dev/null"), A(&st), 0, 0, 0);
	mock_call(SYS_newfstatat, AT_FDCWD, A("/"), A(&st), 0, 0, 0);
	mock_call(SYS_newfstatat, AT_FDCWD, A("/nonexistent"), A(&st), AT_SYMLINK_NOFOLLOW, 0, 0);
	mock_call(SYS_openat, AT_FDCWD, A("/nonexistent/file"), O_RDONLY, 0, 0, 0);
	mock_call(SYS_access, A("live.tmp"), R_OK | W_OK, 0, 0, 0, 0);
	mock_call(SYS_faccessat2, AT_FDCWD, A("live.tmp"), X_OK, AT_EACCESS, 0, 0);
	addr = mock_call(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	addr2 = mock_call(SYS_mremap, addr, 8192, 16384, MREMAP_MAYMOVE, 0, 0);
	mock_call(SYS_mprotect, addr2, 4096, PROT_READ, 0, 0, 0);
	mock_call(SYS_madvise, addr2, 16384, MADV_DONTNEED, 0, 0, 0);
	mock_call(SYS_munmap, addr2, 16384, 0, 0, 0, 0);
	mock_call(SYS_pipe2, A(fds), O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0);
	mock_call(SYS_write, fds[1], A("x"), 1, 0, 0, 0);
	mock_call(SYS_read, fds[0], A(buf), 10, 0, 0, 0);
	mock_call(SYS_read, fds[0], A(buf), 10, 0, 0, 0);
	d = (int)mock_call(SYS_dup, fds[0], 0, 0, 0, 0, 0);
	mock_call(SYS_dup3, d, 50, O_CLOEXEC, 0, 0, 0);
	mock_call(SYS_close, 50, 0, 0, 0, 0, 0);
	mock_call(SYS_close, d, 0, 0, 0, 0, 0);
	mock_call(SYS_close, fds[0], 0, 0, 0, 0, 0);
	mock_call(SYS_close, fds[1], 0, 0, 0, 0, 0);
	mock_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	mock_call(SYS_getuid, 0, 0, 0, 0, 0, 0);
	mock_call(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	mock_call(SYS_umask, 022, 0, 0, 0, 0, 0);
	mock_call(SYS_getcwd, A(buf), sizeof(buf), 0, 0, 0, 0);
	mock_call(SYS_getcwd, A(buf), 1, 0, 0, 0, 0);
	mock_call(SYS_readlink, A("/proc/self/exe"), A(buf), sizeof(buf), 0, 0, 0);
	mock_call(SYS_readlink, A("/nonexistent"), A(buf), sizeof(buf), 0, 0, 0);
	s = (int)mock_call(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0, 0);
	mock_call(SYS_connect, s, A(&un), sizeof(un), 0, 0, 0);
	mock_call(SYS_close, s, 0, 0, 0, 0, 0);
	u = (int)mock_call(SYS_socket, AF_INET, SOCK_DGRAM, IPPROTO_UDP, 0, 0, 0);
	mock_call(SYS_connect, u, A(&in), sizeof(in), 0, 0, 0);
	mock_call(SYS_sendto, u, A("abc"), 3, MSG_DONTWAIT, 0, 0);
	mock_call(SYS_recvfrom, u, A(buf), 100, MSG_DONTWAIT, 0, 0);
	mock_call(SYS_shutdown, u, SHUT_RDWR, 0, 0, 0, 0);
	mock_call(SYS_close, u, 0, 0, 0, 0, 0);
	u = (int)mock_call(SYS_socket, AF_INET6, SOCK_DGRAM, 0, 0, 0, 0);
	mock_call(SYS_connect, u, A(&in6), sizeof(in6), 0, 0, 0);
	mock_call(SYS_close, u, 0, 0, 0, 0, 0);
	mock_call(SYS_kill, me, 0, 0, 0, 0, 0);
	mock_call(SYS_nanosleep, A(&ts), 0, 0, 0, 0, 0);
	mock_call(SYS_getrandom, A(buf), 8, GRND_NONBLOCK, 0, 0, 0);
	mock_call(SYS_poll, 0, 0, 0, 0, 0, 0);
	mock_call(SYS_wait4, -1, 0, WNOHANG, 0, 0, 0);
	mock_call(SYS_futex, A(&word), FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
	fd = (int)mock_call(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK, 0, 0, 0, 0);
	mock_call(SYS_close, fd, 0, 0, 0, 0, 0);
	fd = (int)mock_call(SYS_epoll_create1, O_CLOEXEC, 0, 0, 0, 0, 0);
	mock_call(SYS_close, fd, 0, 0, 0, 0, 0);
	mock_call(SYS_mkdirat, AT_FDCWD, A("live.dir"), 0755, 0, 0, 0);
	mock_call(SYS_unlinkat, AT_FDCWD, A("live.dir"), AT_REMOVEDIR, 0, 0, 0);
	mock_call(SYS_unlinkat, AT_FDCWD, A("live.tmp"), 0, 0, 0, 0);
	mock_call(SYS_unlinkat, AT_FDCWD, A("live.tmp"), 0, 0, 0, 0);
	mock_call(SYS_rt_sigprocmask, SIG_BLOCK, 0, 0, 8, 0, 0);
	mock_call(SYS_close_range, 5000, 6000, 0, 0, 0, 0);
	mock_call(SYS_lseek, 0, 0, 99, 0, 0, 0);
	mock_call(600, 1, 2, 3, 4, 5, 6);
	syscall(SYS_getppid);   /* end marker */
}

int main(int argc, char **argv)
{
	unlink(OUT);
	setenv("ZP_TRACE_FILE", OUT, 1);
	if (mock_init())
		return 2;
	if (argc > 1 && !strcmp(argv[1], "live")) {
		live();
		return 0;
	}
	test_basics();
	test_flags();
	test_structs();
	test_sockaddr();
	test_long_lines();
	test_exit();
	test_fd_guard();
	test_threads();        /* last: from here on every line has a prefix */
	if (test_failures) {
		fprintf(stderr, "test-trace: %d failure(s)\n", test_failures);
		return 1;
	}
	printf("test-trace: ok\n");
	return 0;
}
