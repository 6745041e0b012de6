/*
 * mech.c - what one system call costs through each interception mechanism.
 *
 * One run measures, side by side, the cost per call in ns of:
 *   native     the raw `syscall` instruction in a loop
 *   floor      the same system call inside a directly called `syscall; ret`
 *   floor-ind  the same, reached by an indirect call (what `call *%rax` does)
 *   cached     a plain call returning a stored value (a hook that answers
 *              without the kernel)
 *   ptrace     getpid in a child stopped by its tracer at every entry and exit
 *   seccomp    getpid trapped by a seccomp-bpf SECCOMP_RET_TRAP filter and
 *              emulated by a SIGSYS handler
 *   sud        getpid trapped by Syscall User Dispatch and emulated by a
 *              SIGSYS handler
 *   fault, fault-cached
 *              `call *%rax` with rax = 39, where nothing is mapped: the call
 *              faults, and a minimal SIGSEGV handler answers getpid (fault:
 *              with the real system call; fault-cached: a stored value) and
 *              returns to the caller.  The floor of any fault-based path,
 *              such as the runtime's trap path; run it in an unrewritten
 *              mech (in a rewritten one, page 0 or the runtime's own
 *              SIGSEGV handler would be in the way: mech refuses when
 *              anything is mapped at address 39)
 *   jit-native, jit-floor, jit-floor-ind
 *              native, floor and floor-ind copied at run time into an
 *              anonymous executable mapping: never rewritten, so in a
 *              rewritten mech they are the unpatched reference measured in
 *              the same process as the patched loops
 *   file-native
 *              native copied at run time into a FILE-backed executable
 *              mapping (a memfd, mapped read and execute only): a site no
 *              rewriter saw that a --complete runtime catches at every call
 *              and never writes over (it learns only anonymous memory)
 *   libc-syscall, libc-getpid
 *              getpid through the C library's syscall() and getpid()
 *              functions: system call sites elsewhere in the file than the
 *              loops' (a rewritten program looks each site up in a table)
 *   sud-real   as sud, but the handler makes the real getpid (the selector
 *              set to allow around it): the floor of a caught call that is
 *              made, as a --complete runtime makes it
 *   sud-pass   the native loop with Syscall User Dispatch on and the loop
 *              inside the allowed region: no signal, only what dispatch
 *              being on costs an allowed call in the kernel (what a
 *              --complete runtime's own calls pay)
 *   libc-clock, vdso-clock
 *              clock_gettime(CLOCK_MONOTONIC) through the C library, and
 *              straight into the vDSO (found from /proc/self/auxv, so also
 *              when a --vdso runtime hid it from the C library)
 * native, floor, floor-ind and the copies run for several system call
 * numbers (a patched build is later compared per number); the clock
 * mechanisms run clock_gettime only, the others getpid only.
 *
 * Every (mechanism, number) pair is one "item".  Items are calibrated once to
 * last about -t ms, then run round-robin for -r repetitions, the start of the
 * round rotating each time, so that the noise of a shared machine falls on
 * all of them alike.  The output is one line per item: median, min and max
 * ns/call over the repetitions, and the median of the per-repetition ratio and
 * difference against native for the same number (paired within a repetition,
 * so slow phases of the machine cancel out).  -a also writes every single
 * repetition, for pairings across items or processes done by bench/report.py.
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o mech mech.c mech_loops.S
 * See bench/README.md for how to read the table.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define BENCH_NAME "mech"
#include "benchutil.h"

/* Older headers lack these; the values are the kernel ABI. */
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
/* si_code values of SIGSYS (glibc does not export them by these names). */
#define ZPB_SYS_SECCOMP 1
#define ZPB_SYS_USER_DISPATCH 2

/* mech_loops.S */
typedef long loop_fn(long nr, long a1, long a2, long a3, unsigned long n);
extern loop_fn zpb_loop_native, zpb_loop_floor, zpb_loop_floor_ind,
	zpb_loop_cached, zpb_loop_libc_syscall, zpb_loop_libc_getpid, zpb_loop_fault,
	zpb_loop_fncall;
extern long zpb_cached_value;
extern void *zpb_call_target; /* what zpb_loop_fncall calls */
/* The same kernel loops as a byte image in .rodata (see mech_loops.S). */
extern const unsigned char zpb_jit_image[], zpb_jit_image_end[];
extern const unsigned char zpb_jit_loop_native[], zpb_jit_loop_floor[],
	zpb_jit_loop_floor_ind[];

/* ---- system calls measured ---------------------------------------------- */

struct sysc {
	long nr;
	const char *name;
	long a1, a2, a3;
	long expect; /* what the kernel returns for these arguments */
};

static char scratch[64];
static struct timespec scratch_ts;

/*
 * Each one returns at once without side effects, so the loop measures the
 * entry/exit path plus a trivial body.  exit_group (231) is replaced by
 * getrandom of 0 bytes; 500 is above every real number (-ENOSYS), the case
 * a slide-based trampoline must still survive; 4000 is as well, far into a
 * trampoline but still inside zprewrite's (0..8187); 100000 is outside it,
 * where a rewritten program takes its fault path (SIGSEGV, then the call).
 * clock_gettime(CLOCK_MONOTONIC) is the call the vDSO answers without the
 * kernel, made here as a real system call (the clock mechanisms use it).
 */
static struct sysc sysc_tab[] = {
	{ 0, "read", -1, 0, 1, -EBADF },
	{ 1, "write", -1, 0, 1, -EBADF },
	{ 39, "getpid", 0, 0, 0, 0 },
	{ 110, "getppid", 0, 0, 0, 0 },
	{ 318, "getrandom", 0, 0, 0, 0 },
	{ 500, "nosys", 0, 0, 0, -ENOSYS },
	{ 4000, "nosys-hi", 0, 0, 0, -ENOSYS },
	{ 100000, "nosys-far", 0, 0, 0, -ENOSYS },
	{ 228, "clock_gettime", CLOCK_MONOTONIC, 0, 0, 0 },
};
#define NSYSC (sizeof sysc_tab / sizeof sysc_tab[0])
#define GETPID_IDX 2
#define CLOCK_IDX 8

static void sysc_init(void)
{
	sysc_tab[0].a2 = (long)scratch;
	sysc_tab[1].a2 = (long)scratch;
	sysc_tab[2].expect = getpid();
	sysc_tab[3].expect = getppid();
	sysc_tab[4].a1 = (long)scratch;
	sysc_tab[CLOCK_IDX].a2 = (long)&scratch_ts;
	zpb_cached_value = getpid();
}

/* ---- helpers (and benchutil.h) -------------------------------------------- */

/*
 * The clock of every measurement, read with clock_ns(clock_id).  Wall time by
 * default.  -c: the thread's CPU time, which leaves out the time the thread
 * spends descheduled while other jobs run on a shared machine (it still
 * counts the kernel's work done for the thread).
 */
static clockid_t clock_id = CLOCK_MONOTONIC;

/* A result a child process sends back through a pipe. */
struct child_res {
	double ns;
	long last;             /* value of the last call */
	long want;             /* what it should be, as the child sees it */
	unsigned long handled; /* SIGSYS handler invocations */
	int err;               /* nonzero: what went wrong in the child */
};

static void write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(20);
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

static int read_res(int fd, struct child_res *r)
{
	size_t got = 0;
	while (got < sizeof *r) {
		ssize_t n = read(fd, (char *)r + got, sizeof *r - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void wait_child_ok(pid_t pid, const char *what)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("%s: waitpid: %s", what, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("%s: child failed (status %#x)", what, st);
}

static void check_last(const char *mech, const struct sysc *s, long got, long want)
{
	if (got != want)
		die("%s %s: last call returned %ld, expected %ld", mech, s->name, got, want);
}

/* ---- 1-3: loops in the measuring process --------------------------------- */

/* The timed part of every loop mechanism (the loop is called through fn:
 * the one in .text and its run-time copy are reached the same way). */
static double time_loop(loop_fn *fn, const struct sysc *s, unsigned long n, long *last)
{
	double t0 = clock_ns(clock_id);
	*last = fn(s->nr, s->a1, s->a2, s->a3, n);
	return clock_ns(clock_id) - t0;
}

/* ---- 3b: the same loops copied at run time ---------------------------------- */

/*
 * The jit-* mechanisms run copies of the kernel loops made at run time in an
 * anonymous mapping, so that no rewriter ever sees their `syscall`
 * instructions; file-native runs a copy in a mapping of a file (a memfd,
 * which /proc/self/maps shows with a path), read and execute only: a
 * --complete runtime catches its calls but never writes over them.  The
 * image is copied whole (its calls are relative, inside it) to the same
 * offset in its page as zpb_loop_native has in .text, so the copies and the
 * originals share their low 12 address bits and alignment.
 */
static unsigned char *jit_copy;  /* where zpb_jit_image was copied to */
static unsigned char *file_copy; /* the same, in the memfd's mapping */

/* fd < 0: an anonymous copy; else a copy mapped from the file fd. */
static unsigned char *image_copy(int fd)
{
	size_t len = (size_t)(zpb_jit_image_end - zpb_jit_image);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t off = (uintptr_t)zpb_loop_native & (page - 1);
	size_t map = (off + len + page - 1) / page * page;
	if (fd >= 0 && ftruncate(fd, (off_t)map))
		die("copy: ftruncate: %s", strerror(errno));
	unsigned char *m = mmap(NULL, map, PROT_READ | PROT_WRITE,
				fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("copy: mmap: %s", strerror(errno));
	memcpy(m + off, zpb_jit_image, len);
	if (fd < 0) {
		if (mprotect(m, map, PROT_READ | PROT_EXEC))
			die("copy: mprotect: %s", strerror(errno));
		return m + off;
	}
	/* Written through a shared mapping, executed through a private
	 * read-only one: nothing writable is left over the code. */
	if (munmap(m, map))
		die("copy: munmap: %s", strerror(errno));
	m = mmap(NULL, map, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		die("copy: mmap of the file: %s", strerror(errno));
	return m + off;
}

static void jit_setup(void)
{
	jit_copy = image_copy(-1);
}

static void file_setup(void)
{
	int fd = memfd_create("zpb-file-loops", MFD_CLOEXEC);
	if (fd < 0)
		die("file copy: memfd_create: %s", strerror(errno));
	file_copy = image_copy(fd);
	close(fd);
}

/* The copy of the loop at `in_image` (one of zpb_jit_loop_*) in `copy`. */
static loop_fn *copied_loop(unsigned char *copy, const unsigned char *in_image)
{
	/* Object pointer to function pointer: fine on every target of this file. */
	return (loop_fn *)(void *)(copy + (in_image - zpb_jit_image));
}

/* ---- 4: ptrace ----------------------------------------------------------- */

/*
 * A fresh child per repetition: it asks to be traced, stops itself so that
 * the tracer can set its options, then times its own native loop (the clock
 * is read through the vDSO, so the timing makes no stops of its own).  The
 * tracer resumes it with PTRACE_SYSCALL at every stop, as strace does, so
 * each call costs two round trips through the tracer.
 */
static double run_ptrace(const struct sysc *s, unsigned long n)
{
	int p[2];
	if (pipe(p))
		die("ptrace: pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("ptrace: fork: %s", strerror(errno));
	if (pid == 0) {
		struct child_res r = { 0 };
		close(p[0]);
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(10);
		r.want = getpid();
		/* The cost is mostly the tracer's work: always wall time. */
		clock_id = CLOCK_MONOTONIC;
		raise(SIGSTOP);
		r.ns = time_loop(zpb_loop_native, s, n, &r.last);
		write_all(p[1], &r, sizeof r);
		_exit(0);
	}
	close(p[1]);

	unsigned long stops = 0;
	int st, sig = 0;
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
		die("ptrace: child did not stop (status %#x)", st);
	/* EXITKILL: a tracer killed by ^C does not leave a stopped child. */
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL))
		die("ptrace: PTRACE_SETOPTIONS: %s", strerror(errno));
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, 0, sig))
			die("ptrace: PTRACE_SYSCALL: %s", strerror(errno));
		sig = 0;
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				die("ptrace: waitpid: %s", strerror(errno));
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			stops++;
		else
			sig = WSTOPSIG(st); /* a real signal: deliver it */
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("ptrace: child failed (status %#x)", st);

	struct child_res r;
	if (read_res(p[0], &r))
		die("ptrace: no result from child");
	close(p[0]);
	check_last("ptrace", s, r.last, s->nr == SYS_getpid ? r.want : s->expect);
	/* Entry and exit of every loop call, plus the write of the result. */
	if (stops < 2 * n)
		die("ptrace: only %lu syscall stops for %lu calls", stops, n);
	return r.ns;
}

/* ---- 5: seccomp-bpf SECCOMP_RET_TRAP -------------------------------------- */

static volatile unsigned long sigsys_count;
static volatile unsigned long sigsys_bad;
/* The si_code the trap must have: ZPB_SYS_SECCOMP in a seccomp child,
 * ZPB_SYS_USER_DISPATCH for sud. */
static volatile int sigsys_code;

/* Syscall User Dispatch's selector (section 6); sud-real's handler makes
 * the real call with it set to allow. */
static volatile char sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile int sigsys_real;

/* The kernel's getpid, made here (no libc function around it). */
static long raw_getpid(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getpid) : "rcx", "r11", "memory");
	return r;
}

/* The filter or the dispatch skipped the system call: make it look as if
 * getpid answered (seccomp and sud share this handler), with a stored
 * value, or (sud-real) with the kernel's, asked with dispatch allowed. */
static void sigsys_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	(void)sig;
	if (si->si_code == sigsys_code && si->si_syscall == SYS_getpid) {
		if (sigsys_real) {
			sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
			uc->uc_mcontext.gregs[REG_RAX] = raw_getpid();
			sud_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
		} else {
			uc->uc_mcontext.gregs[REG_RAX] = zpb_cached_value;
		}
		sigsys_count++;
	} else {
		uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
		sigsys_bad++;
	}
}

/*
 * A seccomp filter cannot be removed once installed, and it would slow down
 * (and trap) every later measurement, so it is installed in a fresh child
 * for each repetition.  The filter traps getpid only: the handler's own
 * rt_sigreturn and the child's write of its result pass.
 */
static double run_seccomp(const struct sysc *s, unsigned long n)
{
	int p[2];
	if (pipe(p))
		die("seccomp: pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("seccomp: fork: %s", strerror(errno));
	if (pid == 0) {
		struct child_res r = { 0 };
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)s->nr, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { sizeof f / sizeof f[0], f };
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = sigsys_handler;
		sa.sa_flags = SA_SIGINFO;
		close(p[0]);
		/* The handler answers with the child's own pid. */
		zpb_cached_value = r.want = getpid();
		sigsys_count = sigsys_bad = 0; /* copied from the parent's sud runs */
		sigsys_code = ZPB_SYS_SECCOMP;
		sigsys_real = 0; /* a getpid in the handler would be trapped again */
		if (sigaction(SIGSYS, &sa, NULL))
			r.err = 1;
		else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			r.err = 2;
		else if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			r.err = 3;
		else {
			r.ns = time_loop(zpb_loop_native, s, n, &r.last);
			r.handled = sigsys_count;
			if (sigsys_bad)
				r.err = 4;
		}
		write_all(p[1], &r, sizeof r);
		_exit(0);
	}
	close(p[1]);
	struct child_res r;
	if (read_res(p[0], &r))
		die("seccomp: no result from child");
	close(p[0]);
	wait_child_ok(pid, "seccomp");
	if (r.err)
		die("seccomp: setup or handler failed in the child (step %d)", r.err);
	check_last("seccomp", s, r.last, r.want);
	if (r.handled != n)
		die("seccomp: %lu of %lu calls trapped", r.handled, n);
	return r.ns;
}

/* ---- 6: Syscall User Dispatch ------------------------------------------------ */

/*
 * How the handler's own return gets past the dispatch: a SIGSYS handler
 * returns through libc's restorer, whose rt_sigreturn is a system call like
 * any other and would be trapped again (forever) while the selector says
 * BLOCK.  Flipping the selector to ALLOW inside the handler would need the
 * loop to set BLOCK again before every call, which changes the loop being
 * measured.  Instead the restorer itself is the region that
 * PR_SET_SYSCALL_USER_DISPATCH always allows: sigaction() reports the
 * restorer glibc installed (sa_restorer), and the region runs from its
 * start to just past its `syscall` instruction, because the kernel tests
 * the address *after* the instruction (the saved rip).  The handler makes no
 * system call itself, so nothing else needs to pass.
 *
 * The selector is BLOCK only around the timed loop (the clock is read outside,
 * in case it ever falls back to a system call), and dispatch is switched off
 * between repetitions because merely having it on sends every system call of
 * the process through the slow entry path, which would tax the other items.
 */
static unsigned long sud_start, sud_len;

static void sud_setup(void)
{
	struct sigaction sa, cur;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) || sigaction(SIGSYS, NULL, &cur))
		die("sud: sigaction: %s", strerror(errno));
	const unsigned char *r = (const unsigned char *)cur.sa_restorer;
	if (!r)
		die("sud: libc reports no signal restorer");
	for (unsigned i = 0; i + 1 < 32; i++)
		if (r[i] == 0x0f && r[i + 1] == 0x05) {
			sud_start = (unsigned long)r;
			sud_len = i + 2 + 1; /* saved rip = r + i + 2 must be inside */
			return;
		}
	die("sud: no syscall instruction in the restorer at %p", (const void *)r);
}

enum sud_mode {
	SUD_CACHED, /* sud: every call trapped, the handler answers a stored value */
	SUD_REAL,   /* sud-real: trapped, the handler makes the real getpid */
	SUD_PASS,   /* sud-pass: the loop is in the allowed region: nothing trapped */
};

static double run_sud_mode(const struct sysc *s, unsigned long n, enum sud_mode mode)
{
	unsigned long start, len;
	if (!sud_len)
		sud_setup();
	if (mode == SUD_PASS) {
		/* native's code ends where floor's starts (mech_loops.S). */
		start = (unsigned long)zpb_loop_native;
		len = (unsigned long)zpb_loop_floor - start;
	} else {
		start = sud_start;
		len = sud_len;
	}
	sigsys_count = sigsys_bad = 0;
	sigsys_code = ZPB_SYS_USER_DISPATCH;
	sigsys_real = mode == SUD_REAL;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, start, len, &sud_selector))
		die("sud: PR_SET_SYSCALL_USER_DISPATCH: %s (Linux >= 5.11 needed)",
		    strerror(errno));
	double t0 = clock_ns(clock_id);
	sud_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	/* The loop is an external call: the store above is done before it. */
	long last = zpb_loop_native(s->nr, s->a1, s->a2, s->a3, n);
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	double ns = clock_ns(clock_id) - t0;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0))
		die("sud: switching dispatch off: %s", strerror(errno));
	check_last("sud", s, last, mode == SUD_CACHED ? zpb_cached_value : s->expect);
	unsigned long want = mode == SUD_PASS ? 0 : n;
	if (sigsys_bad || sigsys_count != want)
		die("sud: %lu of %lu calls trapped (%lu expected), %lu unexpected", sigsys_count,
		    n, want, sigsys_bad);
	return ns;
}

static double run_sud(const struct sysc *s, unsigned long n)
{
	return run_sud_mode(s, n, SUD_CACHED);
}

static double run_sud_real(const struct sysc *s, unsigned long n)
{
	return run_sud_mode(s, n, SUD_REAL);
}

static double run_sud_pass(const struct sysc *s, unsigned long n)
{
	return run_sud_mode(s, n, SUD_PASS);
}

/* ---- 7: the floor of a fault-based path ----------------------------------------- */

/*
 * Is anything mapped at address a?  mincore fails with ENOMEM for an
 * unmapped page, whatever the protection of a mapped one (page 0 of a
 * rewritten program is execute-only where it can be).
 */
static int mapped_at(uintptr_t a)
{
	unsigned char v;
	long page = sysconf(_SC_PAGESIZE);
	return mincore((void *)(a & ~(uintptr_t)(page - 1)), 1, &v) == 0 || errno != ENOMEM;
}

static volatile unsigned long segv_count;
static volatile int segv_real;  /* fault: make the real getpid; fault-cached: no */

/*
 * What a fault-based interceptor must do at the least: see that the fault is
 * a `call *%rax` to the number (rip = rax = the fault address, the return
 * address on top of the stack), answer, and resume after the call.  Any
 * other fault is a real one: back to the default action, which the
 * faulting instruction then meets again.
 */
static void segv_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	(void)sig;
	if (g[REG_RIP] != SYS_getpid || g[REG_RAX] != SYS_getpid ||
	    si->si_addr != (void *)SYS_getpid) {
		signal(SIGSEGV, SIG_DFL);
		return;
	}
	g[REG_RAX] = segv_real ? raw_getpid() : zpb_cached_value;
	g[REG_RIP] = *(greg_t *)g[REG_RSP]; /* the return address ... */
	g[REG_RSP] += 8;                     /* ... popped, as `ret` would */
	segv_count++;
}

static double run_fault_with(const struct sysc *s, unsigned long n, int real)
{
	static int ready;
	if (!ready) {
		struct sigaction sa;
		if (mapped_at(SYS_getpid))
			die("fault: something is mapped at address %d (run an unrewritten mech)",
			    SYS_getpid);
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = segv_handler;
		sa.sa_flags = SA_SIGINFO;
		if (sigaction(SIGSEGV, &sa, NULL))
			die("fault: sigaction: %s", strerror(errno));
		ready = 1;
	}
	long last;
	segv_count = 0;
	segv_real = real;
	double ns = time_loop(zpb_loop_fault, s, n, &last);
	check_last(real ? "fault" : "fault-cached", s, last, s->expect);
	if (segv_count != n)
		die("fault: %lu of %lu calls faulted", segv_count, n);
	return ns;
}

static double run_fault(const struct sysc *s, unsigned long n)
{
	return run_fault_with(s, n, 1);
}

static double run_fault_cached(const struct sysc *s, unsigned long n)
{
	return run_fault_with(s, n, 0);
}

/* ---- 8: clock_gettime, in the C library and in the vDSO ------------------------- */

/*
 * Where the vDSO is: from /proc/self/auxv, the auxiliary vector the kernel
 * gave the process, which a --vdso runtime leaves as it is (it hides the
 * vDSO in the process's own copy, which getauxval() reads).
 */
static uintptr_t vdso_base(void)
{
	unsigned long kv[2];
	uintptr_t base = 0;
	FILE *f = fopen("/proc/self/auxv", "r");
	if (!f)
		die("vdso: /proc/self/auxv: %s", strerror(errno));
	while (fread(kv, sizeof kv, 1, f) == 1)
		if (kv[0] == AT_SYSINFO_EHDR)
			base = kv[1];
	fclose(f);
	if (!base)
		die("vdso: no vDSO in the auxiliary vector");
	return base;
}

/* The address of the vDSO's function `name`, from its dynamic symbol table
 * (the vDSO is mapped whole, section headers included). */
static void *vdso_sym(const char *name)
{
	uintptr_t base = vdso_base(), bias = base;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		die("vdso: not a 64-bit ELF image at %#lx", (unsigned long)base);
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			bias = base - ph[i].p_vaddr + ph[i].p_offset;
			break;
		}
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		const Elf64_Sym *sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
		const char *str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++)
			if (sym[k].st_shndx != SHN_UNDEF && !strcmp(str + sym[k].st_name, name))
				return (void *)(bias + sym[k].st_value);
	}
	die("vdso: no %s", name);
}

/* n calls of fn(a1, a2, a3) through the same loop (zpb_loop_fncall). */
static double run_fncall(const char *what, void *fn, const struct sysc *s, unsigned long n)
{
	long last;
	zpb_call_target = fn;
	double ns = time_loop(zpb_loop_fncall, s, n, &last);
	check_last(what, s, last, s->expect);
	return ns;
}

static double run_libc_clock(const struct sysc *s, unsigned long n)
{
	return run_fncall("libc-clock", (void *)clock_gettime, s, n);
}

static double run_vdso_clock(const struct sysc *s, unsigned long n)
{
	static void *fn;
	if (!fn)
		fn = vdso_sym("__vdso_clock_gettime");
	return run_fncall("vdso-clock", fn, s, n);
}

/* ---- mechanisms and items ------------------------------------------------------- */

/*
 * A mechanism is either a loop of mech_loops.S (`loop`, or `jit`: the loop's
 * place in the image, whose run-time copy is run), timed by run_mech, or a
 * function `run` that sets up and times its own measurement.
 */
struct mech {
	const char *name;
	loop_fn *loop;
	const unsigned char *jit;
	double (*run)(const struct sysc *, unsigned long n);
	int file;             /* jit: run the copy in the file-backed mapping */
	int cached;           /* the loop returns zpb_cached_value, not the call's result */
	int all_nrs;          /* every number in sysc_tab, or one: */
	const struct sysc *only; /* that one (NULL: getpid) */
	unsigned long probe;  /* calls in a calibration run */
	const char *what;
};

static const struct mech mechs[] = {
	{ "native", .loop = zpb_loop_native, .all_nrs = 1, .probe = 20000,
	  .what = "raw syscall instruction in a loop" },
	{ "floor", .loop = zpb_loop_floor, .all_nrs = 1, .probe = 20000,
	  .what = "syscall inside a directly called function" },
	{ "floor-ind", .loop = zpb_loop_floor_ind, .all_nrs = 1, .probe = 20000,
	  .what = "the same, via an indirect call" },
	{ "cached", .loop = zpb_loop_cached, .cached = 1, .probe = 200000,
	  .what = "plain call returning a cached value" },
	{ "ptrace", .run = run_ptrace, .probe = 300,
	  .what = "PTRACE_SYSCALL tracer, stop at entry and exit" },
	{ "seccomp", .run = run_seccomp, .probe = 5000,
	  .what = "SECCOMP_RET_TRAP + SIGSYS handler" },
	{ "sud", .run = run_sud, .probe = 5000, .what = "Syscall User Dispatch + SIGSYS handler" },
	{ "fault", .run = run_fault, .probe = 5000,
	  .what = "call *%rax faults at the number; SIGSEGV handler makes the call" },
	{ "fault-cached", .run = run_fault_cached, .probe = 5000,
	  .what = "the same; the handler answers a stored value" },
	{ "jit-native", .jit = zpb_jit_loop_native, .all_nrs = 1, .probe = 20000,
	  .what = "native, copied at run time (never rewritten)" },
	{ "jit-floor", .jit = zpb_jit_loop_floor, .all_nrs = 1, .probe = 20000,
	  .what = "floor, copied at run time (never rewritten)" },
	{ "jit-floor-ind", .jit = zpb_jit_loop_floor_ind, .all_nrs = 1, .probe = 20000,
	  .what = "floor-ind, copied at run time (never rewritten)" },
	{ "file-native", .jit = zpb_jit_loop_native, .file = 1, .all_nrs = 1, .probe = 20000,
	  .what = "native, copied at run time into a file-backed mapping (a memfd)" },
	{ "sud-real", .run = run_sud_real, .probe = 5000,
	  .what = "Syscall User Dispatch; the SIGSYS handler makes the real call" },
	{ "sud-pass", .run = run_sud_pass, .probe = 20000,
	  .what = "native with Syscall User Dispatch on, the loop in the allowed region" },
	{ "libc-clock", .run = run_libc_clock, .only = &sysc_tab[CLOCK_IDX], .probe = 200000,
	  .what = "the C library's clock_gettime(CLOCK_MONOTONIC)" },
	{ "vdso-clock", .run = run_vdso_clock, .only = &sysc_tab[CLOCK_IDX], .probe = 200000,
	  .what = "the vDSO's clock_gettime(CLOCK_MONOTONIC), called directly" },
	{ "libc-syscall", .loop = zpb_loop_libc_syscall, .probe = 20000,
	  .what = "the C library's syscall(SYS_getpid)" },
	{ "libc-getpid", .loop = zpb_loop_libc_getpid, .probe = 20000,
	  .what = "the C library's getpid()" },
};
#define NMECH (sizeof mechs / sizeof mechs[0])

/* The one number a mechanism without all_nrs runs for. */
static const struct sysc *only_nr(const struct mech *m)
{
	return m->only ? m->only : &sysc_tab[GETPID_IDX];
}

/* One measurement of n calls: total ns. */
static double run_mech(const struct mech *m, const struct sysc *s, unsigned long n)
{
	if (m->run)
		return m->run(s, n);
	long last;
	if (m->file && !file_copy)
		file_setup();
	loop_fn *fn = m->loop;
	if (m->jit)
		fn = copied_loop(m->file ? file_copy : jit_copy, m->jit);
	double ns = time_loop(fn, s, n, &last);
	check_last(m->name, s, last, m->cached ? zpb_cached_value : s->expect);
	return ns;
}

struct item {
	const struct mech *m;
	const struct sysc *s;
	unsigned long calls;
	double *ns;        /* ns per call, one per repetition */
	struct item *base; /* native item for the same number, or NULL */
};

/*
 * Run the item twice briefly (the first run warms it up) and size it.  A
 * first run that already took longer than the target is enough, and a
 * shorter run before it (a 64th of the probe) shrinks the probe to about the
 * target: items that cost microseconds per call (fault-based paths) would
 * otherwise spend most of the run calibrating.
 */
static unsigned long calibrate(struct item *it, double target_ns, double scale)
{
	unsigned long n = it->m->probe, n0 = n / 64 > 10 ? n / 64 : 10;
	double est = run_mech(it->m, it->s, n0) / n0;
	if (est * n > target_ns)
		n = target_ns / est > n0 ? (unsigned long)(target_ns / est) : n0;
	double best = 0;
	for (int i = 0; i < 2; i++) {
		double t = run_mech(it->m, it->s, n);
		double per = t / n;
		if (i == 0 || per < best)
			best = per;
		if (t > target_ns)
			break;
	}
	double calls = target_ns / best * scale;
	if (calls < 10)
		calls = 10;
	if (calls > 4e9)
		calls = 4e9;
	return (unsigned long)calls;
}

static int parse_list(const char *arg, const char *what, int (*find)(const char *),
		      unsigned char *sel)
{
	char *copy = strdup(arg), *save = NULL;
	if (!copy)
		die("out of memory");
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int i = find(w);
		if (i < 0)
			die("unknown %s '%s' (try -l)", what, w);
		sel[i] = 1;
	}
	free(copy);
	return 0;
}

static int find_mech(const char *name)
{
	for (unsigned i = 0; i < NMECH; i++)
		if (!strcmp(name, mechs[i].name))
			return i;
	return -1;
}

static int find_sysc(const char *w)
{
	char *end;
	long nr = strtol(w, &end, 10);
	for (unsigned i = 0; i < NSYSC; i++)
		if ((*end == 0 && end != w && nr == sysc_tab[i].nr) ||
		    !strcmp(w, sysc_tab[i].name))
			return i;
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mech [-r REPS] [-n SCALE] [-t MS] [-s NRS] [-m MECHS] [-o FILE] [-a FILE]\n"
		"            [MECH...]\n"
		"  -r REPS   repetitions, run round-robin over all items (default 11)\n"
		"  -n SCALE  multiply every item's calibrated call count (default 1)\n"
		"  -t MS     calibrate each item to last about MS ms per repetition (default 100)\n"
		"  -s NRS    system calls, by number or name, comma-separated (default all)\n"
		"  -m MECHS  mechanisms, comma-separated, or as arguments (default all)\n"
		"  -o FILE   write the table to FILE instead of stdout\n"
		"  -a FILE   also write every repetition to FILE: mech nr syscall rep ns\n"
		"  -c        time with the thread's CPU clock, not wall time (ptrace: wall)\n"
		"  -l        list mechanisms and system calls\n");
}

int main(int argc, char **argv)
{
	int reps = 11;
	double scale = 1, target_ms = 100;
	const char *out_path = NULL, *all_path = NULL;
	unsigned char msel[NMECH] = { 0 }, ssel[NSYSC] = { 0 };
	int any_m = 0, any_s = 0, opt;

	while ((opt = getopt(argc, argv, "r:n:t:s:m:o:a:clh")) != -1) {
		switch (opt) {
		case 'r': reps = atoi(optarg); break;
		case 'n': scale = atof(optarg); break;
		case 't': target_ms = atof(optarg); break;
		case 's': parse_list(optarg, "system call", find_sysc, ssel); any_s = 1; break;
		case 'm': parse_list(optarg, "mechanism", find_mech, msel); any_m = 1; break;
		case 'o': out_path = optarg; break;
		case 'a': all_path = optarg; break;
		case 'c': clock_id = CLOCK_THREAD_CPUTIME_ID; break;
		case 'l':
			for (unsigned i = 0; i < NMECH; i++)
				printf("mech %-13s %s%s%s%s\n", mechs[i].name, mechs[i].what,
				       mechs[i].all_nrs ? "" : " (",
				       mechs[i].all_nrs ? "" : only_nr(&mechs[i])->name,
				       mechs[i].all_nrs ? "" : " only)");
			for (unsigned i = 0; i < NSYSC; i++)
				printf("nr   %-13ld %s\n", sysc_tab[i].nr, sysc_tab[i].name);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (int i = optind; i < argc; i++) {
		parse_list(argv[i], "mechanism", find_mech, msel);
		any_m = 1;
	}
	if (reps < 1 || !(scale > 0) || !(target_ms > 0))
		die("-r, -n and -t must be positive");
	for (unsigned i = 0; i < NMECH; i++)
		msel[i] |= !any_m;
	for (unsigned i = 0; i < NSYSC; i++)
		ssel[i] |= !any_s;

	FILE *out = stdout;
	if (out_path && !(out = fopen(out_path, "w")))
		die("%s: %s", out_path, strerror(errno));
	sysc_init();
	jit_setup();

	/* Items in output order: by mechanism, then by number. */
	struct item items[NMECH * NSYSC];
	int nitems = 0;
	for (unsigned m = 0; m < NMECH; m++) {
		if (!msel[m])
			continue;
		for (unsigned s = 0; s < NSYSC; s++) {
			if (!mechs[m].all_nrs && &sysc_tab[s] != only_nr(&mechs[m]))
				continue;
			if (!ssel[s])
				continue;
			struct item *it = &items[nitems++];
			it->m = &mechs[m];
			it->s = &sysc_tab[s];
			it->ns = calloc(reps, sizeof *it->ns);
			it->base = NULL;
			if (!it->ns)
				die("out of memory");
		}
	}
	if (!nitems)
		die("nothing selected (some mechanisms run for one number only: see -l)");
	for (int i = 0; i < nitems; i++)
		for (int j = 0; j < nitems; j++)
			if (items[j].m == &mechs[0] && items[j].s == items[i].s)
				items[i].base = &items[j];

	fprintf(stderr, "mech: calibrating %d items to %.0f ms each\n", nitems, target_ms);
	for (int i = 0; i < nitems; i++)
		items[i].calls = calibrate(&items[i], target_ms * 1e6, scale);

	int tty = isatty(2);
	for (int r = 0; r < reps; r++) {
		if (tty)
			fprintf(stderr, "\rmech: repetition %d/%d", r + 1, reps);
		for (int k = 0; k < nitems; k++) {
			struct item *it = &items[(k + r) % nitems];
			it->ns[r] = run_mech(it->m, it->s, it->calls) / it->calls;
		}
	}
	if (tty)
		fputc('\n', stderr);

	struct utsname u;
	uname(&u);
	/* In a rewritten mech: which path its patched loops took (bench/run.sh
	 * and report.py check it against the ZP_PAGE0 they asked for). */
	const char *page0 = mapped_at(0) ? "mapped" : "unmapped";
	fprintf(out,
		"# zprewrite bench/mech: ns per system call, %d repetitions round-robin\n"
		"# clock: %s\n"
		"# kernel %s %s, %ld cpus online\n"
		"# page 0: %s\n"
		"# ratio, delta_ns: median over repetitions of (this / native) and\n"
		"#   (this - native) for the same number, paired within each repetition\n"
		"# mech            nr  syscall         calls reps  median_ns     min_ns     max_ns   ratio  delta_ns\n",
		reps,
		clock_id == CLOCK_MONOTONIC ? "wall (CLOCK_MONOTONIC)"
					    : "thread CPU time (CLOCK_THREAD_CPUTIME_ID), ptrace: wall",
		u.release, u.machine, sysconf(_SC_NPROCESSORS_ONLN), page0);
	double *tmp = calloc(reps, sizeof *tmp);
	if (!tmp)
		die("out of memory");
	for (int i = 0; i < nitems; i++) {
		struct item *it = &items[i];
		double lo = it->ns[0], hi = it->ns[0];
		for (int r = 1; r < reps; r++) {
			lo = it->ns[r] < lo ? it->ns[r] : lo;
			hi = it->ns[r] > hi ? it->ns[r] : hi;
		}
		fprintf(out, "%-13s %6ld  %-10s %10lu %4d %10.2f %10.2f %10.2f", it->m->name,
			it->s->nr, it->s->name, it->calls, reps, median(it->ns, reps), lo, hi);
		if (it->base) {
			for (int r = 0; r < reps; r++)
				tmp[r] = it->ns[r] / it->base->ns[r];
			fprintf(out, " %7.3f", median(tmp, reps));
			for (int r = 0; r < reps; r++)
				tmp[r] = it->ns[r] - it->base->ns[r];
			fprintf(out, " %9.2f\n", median(tmp, reps));
		} else {
			fprintf(out, " %7s %9s\n", "-", "-");
		}
	}
	free(tmp);
	if (all_path) {
		FILE *all = fopen(all_path, "w");
		if (!all)
			die("%s: %s", all_path, strerror(errno));
		fprintf(all, "# zprewrite bench/mech: ns per call, every repetition\n"
			     "# page0 %s\n"
			     "# mech nr syscall rep ns\n", page0);
		for (int i = 0; i < nitems; i++)
			for (int r = 0; r < reps; r++)
				fprintf(all, "%s %ld %s %d %.3f\n", items[i].m->name,
					items[i].s->nr, items[i].s->name, r, items[i].ns[r]);
		if (fclose(all))
			die("%s: %s", all_path, strerror(errno));
	}
	for (int i = 0; i < nitems; i++)
		free(items[i].ns);
	if (out != stdout && fclose(out))
		die("%s: %s", out_path, strerror(errno));
	return 0;
}
