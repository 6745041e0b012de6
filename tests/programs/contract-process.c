/*
 * contract-process.c - the runtime contract for calls that create, replace or
 * end tasks.
 *
 * Used by tests/t-contract-process.sh, built with glibc -static, -static-pie
 * and musl -static, and run unpatched, rewritten, and rewritten with a hook:
 * every mode prints deterministic lines and exits 0 when all its checks hold,
 * so the script compares the runs (stdout, stderr, exit status).
 *
 * Why each is hard for a `call *%rax` rewrite (the call pushes a return
 * address below the application's stack pointer, and the runtime runs on
 * that stack):
 *   vfork         the child runs on the parent's stack and overwrites it,
 *                 return address included, before the parent resumes;
 *   spawn         posix_spawn: clone(CLONE_VM|CLONE_VFORK) with a new stack
 *                 (glibc tries clone3 first), the child starts on a stack
 *                 with nothing of the runtime's on it; failure (ENOENT) is
 *                 reported by the child through shared memory;
 *   clone3        raw clone3 with and without a stack, thread-like,
 *                 vfork-like, fork-like and failing;
 *   clone3-bigsize  clone3 with a struct size larger than the kernel's
 *                 struct clone_args (the tail is zero, which the kernel
 *                 accepts);
 *   clone         raw legacy clone with and without a stack;
 *   threads-exit  threads that exit while others keep making calls;
 *   fork-mt       fork from a multithreaded process;
 *   exec PATH     replace the (patched) program by PATH (patched or not);
 *   exec-thread PATH  the same from a second thread while others run;
 *   exit-threads  exit_group while other threads are in system calls;
 *   exit-from-thread  exit_group made by a non-main thread;
 *   exec-segv-ign [PATH ARGS]  SIGSEGV set to SIG_IGN, then exec PATH (or
 *                 this program in mode segv-disposition): an ignored signal
 *                 must stay ignored across exec;
 *   spawn-segv    the program's SIGSEGV handler survives children that
 *                 share its memory and set SIGSEGV for themselves:
 *                 posix_spawn (its child resets handled signals to
 *                 SIG_DFL), system(), vfork children that set SIG_DFL or
 *                 SIG_IGN (then exec: SIG_IGN stays); with SIGSEGV ignored,
 *                 a spawned program sees it ignored (or default with
 *                 POSIX_SPAWN_SETSIGDEF); and fork-like clone children with
 *                 a stack of their own keep their own handler apart;
 *   hook-changes  (only with the hswap hook of t-contract-process.sh, which
 *                 changes the calls marked for it) a vfork-like clone the
 *                 hook makes fork-like is made as such; a clone with a stack
 *                 whose flags it changes, and a getppid it makes vfork, are
 *                 refused (-EINVAL: calls the runtime makes itself cannot be
 *                 changed); a clone3 it answers is not made;
 *   dlopen LIB... (dynamic build) each LIB in turn loaded, its function
 *                 cp_dl_getppid (a system call of its own) called, and
 *                 unloaded: a rewritten library loaded where another was
 *                 unloaded must be found and work (the runtime's table of
 *                 sites grows from its previous one).
 * Helper modes used by the others: "exitcode N", "say TEXT".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "ptest.h"

extern char **environ;

/* The kernel's struct clone_args (linux/sched.h), spelt out for musl. */
struct clone_args_k {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88

long raw_clone3_run(void *args, size_t size, int (*fn)(void *), void *arg);
long raw_clone_run(unsigned long flags, void *newsp, int (*fn)(void *), void *arg);

static const char *self;   /* argv[0]: the program itself, for exec and spawn */

static void *map_stack(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	CHECK(p != MAP_FAILED, "mmap stack");
	return p;
}

static int wait_status(pid_t pid)
{
	int st;
	pid_t r;

	do
		r = waitpid(pid, &st, __WALL);
	while (r < 0 && errno == EINTR);
	CHECK(r == pid, "waitpid(%d): %s", (int)pid, strerror(errno));
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 1000 + WTERMSIG(st);
}

/* ---- vfork ---------------------------------------------------------------- */

static volatile long vshared;

/* Uses a lot of the (shared) stack, as a vfork child calling functions would. */
static __attribute__((noinline)) long scribble(int depth)
{
	volatile char junk[512];
	memset((char *)junk, 0xa5 ^ depth, sizeof junk);
	if (depth > 0)
		return scribble(depth - 1) + junk[depth];
	return junk[7];
}

static __attribute__((noinline)) void vfork_many(void)
{
	long canary1 = 0x1111222233334444L;
	for (int i = 0; i < 200; i++) {
		volatile long before = i * 17L;
		pid_t pid = vfork();
		if (pid == 0) {
			/* The child: system calls of its own, the stack scribbled. */
			vshared = raw_syscall0(SYS_getpid) > 0 ? i : -1;
			scribble(8);
			raw_syscall0(SYS_getppid);
			_exit(i & 0x7f);
		}
		CHECK(pid > 0, "vfork: %s", strerror(errno));
		CHECK(before == i * 17L, "parent's local changed by vfork");
		CHECK(vshared == i, "child's store not seen (%ld, %d)", vshared, i);
		int st = wait_status(pid);
		CHECK(st == (i & 0x7f), "vfork child %d: status %d", i, st);
	}
	CHECK(canary1 == 0x1111222233334444L, "canary");
	say("vfork: 200 children ok\n");

	/* vfork + exec: the usual use. */
	pid_t pid = vfork();
	if (pid == 0) {
		execl(self, self, "exitcode", "33", (char *)NULL);
		_exit(99);
	}
	say("vfork+exec: status %d\n", wait_status(pid));

	/* vfork + exec of a missing file, then _exit. */
	pid = vfork();
	if (pid == 0) {
		execl("/nonexistent/program", "x", (char *)NULL);
		vshared = errno;
		_exit(98);
	}
	say("vfork+exec missing: status %d, errno %s\n", wait_status(pid), errname((int)vshared));

	/* vfork inside a vfork child. */
	pid = vfork();
	if (pid == 0) {
		pid_t inner = vfork();
		if (inner == 0) {
			scribble(4);
			_exit(21);
		}
		int st = inner > 0 ? wait_status(inner) : 200;
		_exit(st + 1);
	}
	say("nested vfork: status %d\n", wait_status(pid));
}

/* vfork from several threads at once. */
static void *vfork_thread(void *arg)
{
	long id = (long)arg;
	volatile long bad = 0;          /* volatile: live across vfork */
	for (volatile int i = 0; i < 50; i++) {
		pid_t pid = vfork();
		if (pid == 0) {
			scribble(2);
			_exit((int)(id + i) & 0x3f);
		}
		if (pid < 0 || wait_status(pid) != ((int)(id + i) & 0x3f))
			bad++;
	}
	return (void *)bad;
}

static void mode_vfork(void)
{
	vfork_many();
	pthread_t th[6];
	long bad = 0;
	for (long i = 0; i < 6; i++)
		CHECK(pthread_create(&th[i], NULL, vfork_thread, (void *)i) == 0, "pthread_create");
	for (int i = 0; i < 6; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	say("vfork from 6 threads: %ld bad\n", bad);
	CHECK(bad == 0, "vfork from threads");
}

/* ---- posix_spawn ------------------------------------------------------------ */

static void mode_spawn(void)
{
	pid_t pid;
	char *argv_ok[] = { (char *)self, "exitcode", "9", NULL };
	char *argv_missing[] = { "missing", NULL };

	int r = posix_spawn(&pid, self, NULL, NULL, argv_ok, environ);
	CHECK(r == 0, "posix_spawn: %s", errname(r));
	say("spawn self: %s, status %d\n", errname(r), wait_status(pid));

	r = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, argv_missing, environ);
	say("spawn missing: %s\n", errname(r));
	CHECK(r == ENOENT, "posix_spawn of a missing file gave %d", r);

	r = posix_spawnp(&pid, "no-such-program-zp", NULL, NULL, argv_missing, environ);
	say("spawnp missing: %s\n", errname(r));

	/* With file actions: the child makes more calls on its own stack. */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "spawn-out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	char *argv_say[] = { (char *)self, "say", "hello-from-spawn", NULL };
	r = posix_spawn(&pid, self, &fa, NULL, argv_say, environ);
	CHECK(r == 0, "posix_spawn with actions: %s", errname(r));
	int st = wait_status(pid);
	posix_spawn_file_actions_destroy(&fa);
	char buf[64] = { 0 };
	int fd = open("spawn-out.txt", O_RDONLY);
	CHECK(fd >= 0, "open spawn-out.txt");
	CHECK(read(fd, buf, sizeof buf - 1) > 0, "read spawn-out.txt");
	close(fd);
	unlink("spawn-out.txt");
	say("spawn with file actions: status %d, output %s", st, buf);

	/* Many in a row. */
	int bad = 0;
	for (int i = 0; i < 50; i++) {
		char code[8];
		snprintf(code, sizeof code, "%d", i);
		char *a[] = { (char *)self, "exitcode", code, NULL };
		if (posix_spawn(&pid, self, NULL, NULL, a, environ) != 0 || wait_status(pid) != i)
			bad++;
	}
	say("spawn 50: %d bad\n", bad);
}

/* ---- raw clone3 and clone ------------------------------------------------------ */

static volatile long cshared;

static int child_store(void *arg)
{
	cshared = (long)arg;
	raw_syscall0(SYS_getppid);
	return (int)(long)arg & 0x7f;
}

/* A child on the parent's stack (vfork-like) that scribbles over it. */
static int child_scribble(void *arg)
{
	cshared = (long)arg;
	scribble(6);
	return 44;
}

static long clone3_call(uint64_t flags, int sig, void *stack, size_t stack_size,
			size_t struct_size, int (*fn)(void *), long arg)
{
	char buf[512] __attribute__((aligned(8)));
	struct clone_args_k *ca = (struct clone_args_k *)buf;

	memset(buf, 0, sizeof buf);
	ca->flags = flags;
	ca->exit_signal = (uint64_t)sig;
	ca->stack = (uint64_t)(uintptr_t)stack;
	ca->stack_size = stack_size;
	return raw_clone3_run(ca, struct_size, fn, (void *)arg);
}

static void report_child(const char *what, long pid)
{
	char rb[32];
	if (pid < 0) {
		say("%s: %s\n", what, rawres(pid, rb, sizeof rb));
		return;
	}
	int st = wait_status((pid_t)pid);
	say("%s: status %d, shared %ld\n", what, st, cshared);
	cshared = 0;
}

static void mode_clone3(void)
{
	size_t ss = 64 << 10;
	char *stack = map_stack(ss);
	volatile long local = 1234;

	/* With a stack: vfork-like (posix_spawn's way), then a plain CLONE_VM child. */
	report_child("clone3 stack vm|vfork",
		     clone3_call(CLONE_VM | CLONE_VFORK, SIGCHLD, stack, ss, CLONE_ARGS_SIZE_VER2, child_store, 5));
	report_child("clone3 stack vm|vfork size64",
		     clone3_call(CLONE_VM | CLONE_VFORK, SIGCHLD, stack, ss, CLONE_ARGS_SIZE_VER0, child_store, 6));
	report_child("clone3 stack vm",
		     clone3_call(CLONE_VM, SIGCHLD, stack, ss, CLONE_ARGS_SIZE_VER2, child_store, 7));
	/* With a stack, no shared memory: the child has a copy. */
	report_child("clone3 stack fork-like",
		     clone3_call(0, SIGCHLD, stack, ss, CLONE_ARGS_SIZE_VER2, child_store, 8));
	/* Without a stack: fork-like, and vfork-like on the parent's stack. */
	report_child("clone3 nostack fork-like",
		     clone3_call(0, SIGCHLD, NULL, 0, CLONE_ARGS_SIZE_VER2, child_store, 9));
	report_child("clone3 nostack vm|vfork",
		     clone3_call(CLONE_VM | CLONE_VFORK, SIGCHLD, NULL, 0, CLONE_ARGS_SIZE_VER2, child_scribble, 10));
	CHECK(local == 1234, "local changed");
	/* Failures: the kernel refuses, the parent carries on. */
	report_child("clone3 bad flags with stack",
		     clone3_call(CLONE_THREAD, SIGCHLD, stack, ss, CLONE_ARGS_SIZE_VER2, child_store, 11));
	report_child("clone3 bad flags no stack",
		     clone3_call(CLONE_SIGHAND, SIGCHLD, NULL, 0, CLONE_ARGS_SIZE_VER2, child_store, 12));
	report_child("clone3 size too small",
		     clone3_call(CLONE_VM | CLONE_VFORK, SIGCHLD, stack, ss, 32, child_store, 13));
	report_child("clone3 bad pointer",
		     raw_clone3_run((void *)16, CLONE_ARGS_SIZE_VER2, child_store, (void *)14));
	/* A thread-like child (shares memory, no exit signal), waited through
	 * CLONE_CHILD_CLEARTID and a futex, many times. */
	int bad = 0;
	for (int i = 0; i < 100; i++) {
		char buf[128] __attribute__((aligned(8)));
		struct clone_args_k *ca = (struct clone_args_k *)buf;
		volatile int ctid = 1;
		memset(buf, 0, sizeof buf);
		ca->flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			    CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
		ca->child_tid = (uint64_t)(uintptr_t)&ctid;
		ca->stack = (uint64_t)(uintptr_t)stack;
		ca->stack_size = ss;
		cshared = 0;
		long tid = raw_clone3_run(ca, CLONE_ARGS_SIZE_VER2, child_store, (void *)(long)(i + 1));
		if (tid <= 0) {
			bad++;
			continue;
		}
		while (ctid != 0)
			raw_syscall6(SYS_futex, (long)&ctid, 0 /* FUTEX_WAIT */, ctid, 0, 0, 0);
		if (cshared != i + 1)
			bad++;
	}
	say("clone3 threads: 100 runs, %d bad\n", bad);
	CHECK(bad == 0, "clone3 threads");
	munmap(stack, ss);
}

/* clone3 with a struct larger than the kernel's, zero-filled: accepted. */
static void mode_clone3_bigsize(void)
{
	size_t ss = 64 << 10;
	/* A used stack (not fresh zeros) with an inaccessible page above it:
	 * nothing but the new task may read what lies beyond its stack. */
	char *stack = map_stack(ss + 4096);
	memset(stack, 0xa5, ss);
	CHECK(mprotect(stack + ss, 4096, PROT_NONE) == 0, "mprotect");
	report_child("clone3 size512 stack vm|vfork",
		     clone3_call(CLONE_VM | CLONE_VFORK, SIGCHLD, stack, ss, 512, child_store, 15));
	report_child("clone3 size512 stack vm",
		     clone3_call(CLONE_VM, SIGCHLD, stack, ss, 512, child_store, 17));
	report_child("clone3 size512 nostack fork-like",
		     clone3_call(0, SIGCHLD, NULL, 0, 512, child_store, 16));
	munmap(stack, ss + 4096);
}

static void mode_clone(void)
{
	size_t ss = 64 << 10;
	char *stack = map_stack(ss);

	report_child("clone stack vm|vfork",
		     raw_clone_run(CLONE_VM | CLONE_VFORK | SIGCHLD, stack + ss, child_store, (void *)21));
	report_child("clone stack vm",
		     raw_clone_run(CLONE_VM | SIGCHLD, stack + ss, child_store, (void *)22));
	report_child("clone nostack fork-like",
		     raw_clone_run(SIGCHLD, NULL, child_store, (void *)23));
	report_child("clone nostack vm|vfork",
		     raw_clone_run(CLONE_VM | CLONE_VFORK | SIGCHLD, NULL, child_scribble, (void *)24));
	report_child("clone bad flags with stack",
		     raw_clone_run(CLONE_THREAD | SIGCHLD, stack + ss, child_store, (void *)25));
	munmap(stack, ss);
}

/* ---- threads --------------------------------------------------------------- */

static volatile int stop;

static void *busy(void *arg)
{
	long n = 0;
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		raw_syscall0(SYS_getppid);
		n++;
	}
	return (void *)n;
}

static void *short_lived(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < 10; i++)
		CHECK(raw_syscall0(SYS_getpid) == getpid(), "getpid in short thread");
	if (id % 3 == 0)
		pthread_exit((void *)(id * 2));
	return (void *)(id * 2);
}

static void start_busy(pthread_t *th, int n)
{
	stop = 0;
	for (int i = 0; i < n; i++)
		CHECK(pthread_create(&th[i], NULL, busy, NULL) == 0, "pthread_create busy");
}

static void stop_busy(pthread_t *th, int n)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static void mode_threads_exit(void)
{
	pthread_t busy_th[3];
	start_busy(busy_th, 3);
	long sum = 0;
	for (long i = 0; i < 300; i++) {
		pthread_t t;
		CHECK(pthread_create(&t, NULL, short_lived, (void *)i) == 0, "pthread_create");
		if (i % 4 == 3) {
			pthread_detach(t);
			sum += i * 2;
			continue;
		}
		void *r;
		pthread_join(t, &r);
		sum += (long)r;
	}
	stop_busy(busy_th, 3);
	say("threads-exit: 300 threads, sum %ld\n", sum);
}

static void mode_fork_mt(void)
{
	pthread_t busy_th[3];
	start_busy(busy_th, 3);
	int bad = 0;
	for (int i = 0; i < 60; i++) {
		int p[2];
		CHECK(pipe(p) == 0, "pipe");
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			char msg[32];
			int n = snprintf(msg, sizeof msg, "child %d", i);
			for (int k = 0; k < 20; k++)
				raw_syscall0(SYS_getppid);
			if (write(p[1], msg, (size_t)n) != n)
				_exit(90);
			/* A thread in the child, too. */
			if (i % 10 == 0) {
				pthread_t t;
				void *r;
				if (pthread_create(&t, NULL, short_lived, (void *)1L) || pthread_join(t, &r))
					_exit(91);
			}
			_exit(i % 50);
		}
		CHECK(pid > 0, "fork");
		close(p[1]);
		char buf[32] = { 0 }, want[32];
		snprintf(want, sizeof want, "child %d", i);
		if (read(p[0], buf, sizeof buf) <= 0 || strcmp(buf, want) != 0) {
			say("fork-mt: child %d said \"%s\"\n", i, buf);
			bad++;
		}
		close(p[0]);
		int st = wait_status(pid);
		if (st != i % 50) {
			say("fork-mt: child %d ended with %d, not %d\n", i, st, i % 50);
			bad++;
		}
	}
	stop_busy(busy_th, 3);
	say("fork-mt: 60 forks, %d bad\n", bad);
	CHECK(bad == 0, "fork-mt");
}

/* ---- exec ------------------------------------------------------------------ */

static void mode_exec(char **argv)
{
	say("before exec of %s\n", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
	execv(argv[0], argv);
	die("execv %s: %s", argv[0], strerror(errno));
}

static char **exec_argv;
static void *exec_thread(void *arg)
{
	(void)arg;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	execv(exec_argv[0], exec_argv);
	die("execv from thread: %s", strerror(errno));
}

static void mode_exec_thread(char **argv)
{
	pthread_t busy_th[3], t;
	start_busy(busy_th, 3);
	exec_argv = argv;
	say("exec from a thread\n");
	CHECK(pthread_create(&t, NULL, exec_thread, NULL) == 0, "pthread_create");
	pthread_join(t, NULL);
	die("exec thread returned");
}

/* SIGSEGV ignored across exec: an ignored signal stays ignored in the new
 * program, a handled one is reset to the default.  (The runtime keeps a
 * SIGSEGV handler of its own on the program's behalf.) */
static void mode_exec_segv_ign(int argc, char **argv)
{
	signal(SIGSEGV, SIG_IGN);
	if (argc > 0) {
		execv(argv[0], argv);
		die("execv %s: %s", argv[0], strerror(errno));
	}
	execl(self, self, "segv-disposition", (char *)NULL);
	die("execl %s: %s", self, strerror(errno));
}

static void mode_segv_disposition(void)
{
	struct sigaction sa;
	CHECK(sigaction(SIGSEGV, NULL, &sa) == 0, "sigaction");
	say("SIGSEGV disposition: %s\n", sa.sa_handler == SIG_IGN ? "ignored" :
	    sa.sa_handler == SIG_DFL ? "default" : "a handler");
}

/* ---- SIGSEGV around children that share memory ------------------------------- */

static sigjmp_buf segv_jb;

static void segv_handler(int sig)
{
	(void)sig;
	siglongjmp(segv_jb, 1);
}

/* SIGSEGV's disposition, as sigaction reads it back. */
static const char *segv_state(void)
{
	struct sigaction cur;
	CHECK(sigaction(SIGSEGV, NULL, &cur) == 0, "sigaction");
	return cur.sa_handler == segv_handler ? "the handler" : cur.sa_handler == SIG_IGN ? "ignored" :
	       cur.sa_handler == SIG_DFL ? "default" : "another handler";
}

/* Does a fault reach the handler?  (Without it the process dies here.) */
static const char *fault_caught(void)
{
	static char *page;
	if (!page)
		page = map_stack(4096);
	CHECK(mprotect(page, 4096, PROT_NONE) == 0, "mprotect");
	if (sigsetjmp(segv_jb, 1) == 0) {
		*(volatile char *)page = 1;
		return "not caught";
	}
	return "caught";
}

static volatile int vfork_saw_handler, vfork_reads_back;

static void exit92(int sig)
{
	(void)sig;
	_exit(92);
}

/* A child with its own memory but a new stack (clone without CLONE_VM): its
 * SIGSEGV handler is its own business, and a system call number that
 * faults must still give -ENOSYS, not a SIGSEGV. */
static int child_own_segv(void *arg)
{
	struct sigaction sa;
	(void)arg;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = exit92;
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		return 90;
	return raw_syscall0(-1) == -ENOSYS ? 0 : 91;
}

static void mode_spawn_segv(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = segv_handler;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
	pid_t pid;
	char *argv_disp[] = { (char *)self, "segv-disposition", NULL };

	/* posix_spawn's child resets the handler (shared memory, own dispositions). */
	int r = posix_spawn(&pid, self, NULL, NULL, argv_disp, environ);
	CHECK(r == 0, "posix_spawn: %s", errname(r));
	int st = wait_status(pid);
	say("spawn: status %d; SIGSEGV: %s, a fault %s\n", st, segv_state(), fault_caught());
	st = system("exit 4");
	say("system: status %d; SIGSEGV: %s, a fault %s\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	    segv_state(), fault_caught());

	/* vfork children setting SIGSEGV for themselves. */
	pid = vfork();
	if (pid == 0) {
		struct sigaction cur;
		vfork_saw_handler = sigaction(SIGSEGV, NULL, &cur) == 0 && cur.sa_handler == segv_handler;
		signal(SIGSEGV, SIG_DFL);
		vfork_reads_back = sigaction(SIGSEGV, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL;
		_exit(7);
	}
	st = wait_status(pid);
	say("vfork child, SIG_DFL: status %d, it saw the handler: %s, read back SIG_DFL: %s; "
	    "SIGSEGV: %s, a fault %s\n", st, vfork_saw_handler ? "yes" : "no",
	    vfork_reads_back ? "yes" : "no", segv_state(), fault_caught());
	pid = vfork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_IGN);
		execl(self, self, "segv-disposition", (char *)NULL);
		_exit(99);
	}
	st = wait_status(pid);
	say("vfork child, SIG_IGN, exec: status %d; SIGSEGV: %s, a fault %s\n", st, segv_state(),
	    fault_caught());

	/* Ignored in the parent: ignored in a spawned program too, unless the
	 * spawn sets it to the default. */
	signal(SIGSEGV, SIG_IGN);
	r = posix_spawn(&pid, self, NULL, NULL, argv_disp, environ);
	CHECK(r == 0, "posix_spawn: %s", errname(r));
	st = wait_status(pid);
	posix_spawnattr_t attr;
	sigset_t def;
	sigemptyset(&def);
	sigaddset(&def, SIGSEGV);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, self, NULL, &attr, argv_disp, environ);
	CHECK(r == 0, "posix_spawn: %s", errname(r));
	int st2 = wait_status(pid);
	posix_spawnattr_destroy(&attr);
	say("ignored: spawn status %d, with SETSIGDEF %d; SIGSEGV: %s\n", st, st2, segv_state());

	size_t ss = 64 << 10;
	char *stack = map_stack(ss);
	report_child("fork-like clone with a stack, handler and number -1",
		     raw_clone_run(SIGCHLD, stack + ss, child_own_segv, NULL));
	report_child("fork-like clone3 with a stack, handler and number -1",
		     clone3_call(0, SIGCHLD, stack, ss, CLONE_ARGS_SIZE_VER2, child_own_segv, 0));
	munmap(stack, ss);
}

/* ---- hook-changes ------------------------------------------------------------ */

/* The marks the hswap hook looks for in an argument the kernel ignores
 * (clone's sixth, r9, which raw_clone_run also passes to the child). */
#define HOOK_MARK(n) (0x5a9e1100L + (n))

static void mode_hook_changes(void)
{
	size_t ss = 64 << 10;
	char *stack = map_stack(ss);
	char rb[32];

	report_child("vfork-like clone, made fork-like by the hook",
		     raw_clone_run(CLONE_VM | CLONE_VFORK | SIGCHLD, NULL, child_store, (void *)HOOK_MARK(1)));
	report_child("clone with a stack, flags changed by the hook",
		     raw_clone_run(CLONE_VM | CLONE_VFORK | SIGCHLD, stack + ss, child_store, (void *)HOOK_MARK(2)));
	say("getppid made vfork by the hook: %s\n",
	    rawres(raw_syscall6(SYS_getppid, 0, 0, 0, 0, 0, HOOK_MARK(3)), rb, sizeof rb));
	say("clone3 with a stack, answered by the hook: %s\n",
	    rawres(clone3_call(CLONE_VM | CLONE_VFORK, SIGCHLD, stack, ss, CLONE_ARGS_SIZE_VER2,
			       child_store, HOOK_MARK(4)), rb, sizeof rb));
	munmap(stack, ss);
}

/* ---- dlopen ---------------------------------------------------------------- */

/* Weak, and dlopen looked up at run time: a static build must neither pull
 * in a loader nor name dlopen (glibc's static link warns about it). */
extern void *dlsym(void *handle, const char *name) __attribute__((weak));
extern int dlclose(void *handle) __attribute__((weak));
extern char *dlerror(void) __attribute__((weak));
#define CP_RTLD_DEFAULT ((void *)0)
#define CP_RTLD_NOW 2

static void mode_dlopen(int argc, char **argv)
{
	void *(*dlopen)(const char *, int) = NULL;
	if (dlsym && dlclose)
		dlopen = (void *(*)(const char *, int))(uintptr_t)dlsym(CP_RTLD_DEFAULT, "dlopen");
	if (!dlopen) {
		say("dlopen: not in this build\n");
		return;
	}
	for (int i = 0; i < argc; i++) {
		void *h = dlopen(argv[i], CP_RTLD_NOW);
		CHECK(h, "dlopen %s: %s", argv[i], dlerror());
		long (*fn)(void) = (long (*)(void))(uintptr_t)dlsym(h, "cp_dl_getppid");
		CHECK(fn, "dlsym cp_dl_getppid in %s", argv[i]);
		long r = fn();
		say("%s: getppid from the library %s\n", argv[i], r == getppid() ? "right" : "WRONG");
		CHECK(dlclose(h) == 0, "dlclose %s", argv[i]);
	}
}

/* ---- exit_group with threads --------------------------------------------------- */

static int exit_pipe[2];

static void *blocked_reader(void *arg)
{
	char c;
	(void)arg;
	if (read(exit_pipe[0], &c, 1) >= 0)
		die("read returned");
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	struct timespec ts = { 100, 0 };
	nanosleep(&ts, NULL);
	die("sleep returned");
}

static void start_exit_crowd(void)
{
	pthread_t t;
	CHECK(pipe(exit_pipe) == 0, "pipe");
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t, NULL, busy, NULL) == 0, "pthread_create");
	CHECK(pthread_create(&t, NULL, blocked_reader, NULL) == 0, "pthread_create");
	CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0, "pthread_create");
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	nanosleep(&ts, NULL);
}

static void *exiter(void *arg)
{
	(void)arg;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	say("thread calls exit(4)\n");
	exit(4);
}

/* ---- ptrace(PTRACE_TRACEME) --------------------------------------------------- */

/* A child that asks to be traced and execs /bin/true, at once (after fork,
 * or vfork as Go's StartProcess does) or after stopping itself: this
 * tracer sees the stops the kernel gives (SIGTRAP at the exec, the
 * SIGSTOP) and nothing else.  On the trap path a traced process stops at
 * every call's SIGSEGV, so the runtime puts the request off until the exec
 * or a signal the child sends: before that, a stop at each call would hang
 * a tracer that waits for the exec only.  After a SIGSTOP the child's
 * calls stop with SIGSEGV there (docs/runtime.md): such stops are passed
 * on and left out of what is printed. */
static const char *sig_name(int sig)
{
	static char buf[16];
	switch (sig) {
	case SIGTRAP: return "SIGTRAP";
	case SIGSTOP: return "SIGSTOP";
	case SIGKILL: return "SIGKILL";
	case SIGSEGV: return "SIGSEGV";
	}
	snprintf(buf, sizeof buf, "signal %d", sig);
	return buf;
}

static void ptrace_case(const char *name, int how)
{
	pid_t pid = how == 1 ? vfork() : fork();
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(120);
		if (how == 2)
			raise(SIGSTOP);
		execl("/bin/true", "true", (char *)NULL);
		_exit(121);
	}
	CHECK(pid > 0, "fork");
	char seq[256] = "";
	int status;
	for (;;) {
		CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
		size_t n = strlen(seq);
		if (WIFEXITED(status)) {
			snprintf(seq + n, sizeof seq - n, "exit %d", WEXITSTATUS(status));
			break;
		}
		if (WIFSIGNALED(status)) {
			snprintf(seq + n, sizeof seq - n, "killed by %s", sig_name(WTERMSIG(status)));
			break;
		}
		int sig = WSTOPSIG(status);
		if (sig != SIGSEGV && n < sizeof seq - 32)
			snprintf(seq + n, sizeof seq - n, "%s, ", sig_name(sig));
		/* (SIGTRAP and SIGSTOP are the tracer's; others go on) */
		ptrace(PTRACE_CONT, pid, 0, sig == SIGTRAP || sig == SIGSTOP ? 0 : sig);
	}
	say("ptrace %s: %s\n", name, seq);
}

static void mode_ptrace(void)
{
	ptrace_case("traceme, exec", 0);
	ptrace_case("vfork, traceme, exec", 1);
	ptrace_case("traceme, SIGSTOP, exec", 2);
}

static void mode_exit_threads(void)
{
	start_exit_crowd();
	say("main calls exit(3) with 5 threads running\n");
	exit(3);
}

static void mode_exit_from_thread(void)
{
	pthread_t t;
	start_exit_crowd();
	CHECK(pthread_create(&t, NULL, exiter, NULL) == 0, "pthread_create");
	pthread_join(t, NULL);
	die("joined a thread that called exit");
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc < 2)
		die("usage: %s MODE [ARGS]", argv[0]);
	const char *m = argv[1];
	if (!strcmp(m, "exitcode") && argc > 2)
		return atoi(argv[2]);
	if (!strcmp(m, "say") && argc > 2) {
		say("%s\n", argv[2]);
		return 0;
	}
	if (!strcmp(m, "vfork"))
		mode_vfork();
	else if (!strcmp(m, "spawn"))
		mode_spawn();
	else if (!strcmp(m, "clone3"))
		mode_clone3();
	else if (!strcmp(m, "clone3-bigsize"))
		mode_clone3_bigsize();
	else if (!strcmp(m, "clone"))
		mode_clone();
	else if (!strcmp(m, "threads-exit"))
		mode_threads_exit();
	else if (!strcmp(m, "fork-mt"))
		mode_fork_mt();
	else if (!strcmp(m, "exec") && argc > 2)
		mode_exec(argv + 2);
	else if (!strcmp(m, "exec-thread") && argc > 2)
		mode_exec_thread(argv + 2);
	else if (!strcmp(m, "exec-segv-ign"))
		mode_exec_segv_ign(argc - 2, argv + 2);
	else if (!strcmp(m, "spawn-segv"))
		mode_spawn_segv();
	else if (!strcmp(m, "hook-changes"))
		mode_hook_changes();
	else if (!strcmp(m, "dlopen"))
		mode_dlopen(argc - 2, argv + 2);
	else if (!strcmp(m, "segv-disposition"))
		mode_segv_disposition();
	else if (!strcmp(m, "ptrace"))
		mode_ptrace();
	else if (!strcmp(m, "exit-threads"))
		mode_exit_threads();
	else if (!strcmp(m, "exit-from-thread"))
		mode_exit_from_thread();
	else
		die("unknown mode %s", m);
	say("%s: done\n", m);
	return 0;
}
