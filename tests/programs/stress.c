/*
 * stress.c - everything at once, for a few seconds, with exact counts.
 *
 * Used by tests/t-stress.sh with a hook that counts getppid calls.  Worker
 * threads make raw getppid calls (each result checked) mixed with other
 * calls; a signaller thread keeps sending SIGUSR1 to the workers, whose
 * handler makes system calls too (getppid among them); a thread that is born
 * and exits again and again; and the main thread forks, vforks, clones
 * (raw clone3, vfork-like on the parent's stack) and posix_spawns children
 * that make calls of their own.  Children never call getppid (a vfork child
 * shares the parent's memory, and so the hook's counter).
 *
 * Every getppid made by this process is counted here, atomically; at the end
 * the total is written to the file named by $STRESS_COUNT_FILE (if set), for
 * the script to compare with the hook's count.  stdout only says "ok" lines,
 * identical unpatched and patched.  Runs for $STRESS_MS milliseconds (1500).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "ptest.h"

#define NWORKERS 4

extern char **environ;
long raw_clone3_run(void *args, size_t size, int (*fn)(void *), void *arg);

static long my_ppid;
static volatile int done;
static uint64_t getppid_calls;          /* every getppid of this process */
static volatile long bad;
static long worker_tid[NWORKERS];
static uint64_t signals_sent, signals_handled;

static void counted_getppid(void)
{
	if (raw_syscall0(SYS_getppid) != my_ppid)
		__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&getppid_calls, 1, __ATOMIC_RELAXED);
}

static void handler(int sig)
{
	(void)sig;
	int e = errno;
	counted_getppid();
	raw_syscall0(SYS_gettid);
	__atomic_fetch_add(&signals_handled, 1, __ATOMIC_RELAXED);
	errno = e;
}

static void *worker(void *arg)
{
	long id = (long)arg;
	char buf[128];
	int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
	__atomic_store_n(&worker_tid[id], raw_syscall0(SYS_gettid), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&done, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 50; i++)
			counted_getppid();
		if (read(zero, buf, sizeof buf) != sizeof buf || write(null, buf, 10) != 10)
			__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
		sched_yield();
	}
	close(zero);
	close(null);
	return NULL;
}

static void *signaller(void *arg)
{
	(void)arg;
	unsigned i = 0;
	while (!__atomic_load_n(&done, __ATOMIC_RELAXED)) {
		long tid = __atomic_load_n(&worker_tid[i++ % NWORKERS], __ATOMIC_ACQUIRE);
		if (tid && raw_syscall3(SYS_tgkill, getpid(), tid, SIGUSR1) == 0)
			signals_sent++;
		if (i % 8 == 0) {
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static void *short_thread(void *arg)
{
	(void)arg;
	counted_getppid();
	return NULL;
}

static void *churner(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&done, __ATOMIC_RELAXED)) {
		pthread_t t;
		if (pthread_create(&t, NULL, short_thread, NULL) == 0)
			pthread_join(t, NULL);
		else
			__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int clone_child(void *arg)
{
	(void)arg;
	raw_syscall0(SYS_getpid);
	return 3;
}

static int wait_child(pid_t pid)
{
	int st;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	return r == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "child"))
		return 4;
	my_ppid = getppid();
	__atomic_fetch_add(&getppid_calls, 1, __ATOMIC_RELAXED);
	const char *ms_s = getenv("STRESS_MS");
	long ms = ms_s ? atol(ms_s) : 1500;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	pthread_t th[NWORKERS + 2];
	for (long i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0, "pthread_create");
	CHECK(pthread_create(&th[NWORKERS], NULL, signaller, NULL) == 0, "pthread_create");
	CHECK(pthread_create(&th[NWORKERS + 1], NULL, churner, NULL) == 0, "pthread_create");

	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long forks = 0, children_bad = 0;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			break;
		pid_t pid;
		switch (forks++ % 4) {
		case 0:
			pid = fork();
			if (pid == 0) {
				raw_syscall0(SYS_getpid);
				_exit(1);
			}
			if (wait_child(pid) != 1)
				children_bad++;
			break;
		case 1:
			pid = vfork();
			if (pid == 0) {
				raw_syscall0(SYS_getpid);
				_exit(2);
			}
			if (wait_child(pid) != 2)
				children_bad++;
			break;
		case 2: {
			uint64_t ca[11] = { CLONE_VM | CLONE_VFORK, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0 };
			long r = raw_clone3_run(ca, 88, clone_child, NULL);
			if (r <= 0 || wait_child((pid_t)r) != 3)
				children_bad++;
			break;
		}
		case 3: {
			char *av[] = { argv[0], "child", NULL };
			if (posix_spawn(&pid, argv[0], NULL, NULL, av, environ) != 0 || wait_child(pid) != 4)
				children_bad++;
			break;
		}
		}
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NWORKERS + 2; i++)
		pthread_join(th[i], NULL);

	/* Signals still pending are handled before this point or never. */
	/* The count on the first line; then what happened (varies run to run). */
	const char *out = getenv("STRESS_COUNT_FILE");
	if (out) {
		FILE *f = fopen(out, "w");
		CHECK(f != NULL, "fopen %s", out);
		fprintf(f, "%llu\n", (unsigned long long)__atomic_load_n(&getppid_calls, __ATOMIC_SEQ_CST));
		fprintf(f, "%ld children, %llu signals sent, %llu handled\n", forks,
			(unsigned long long)signals_sent, (unsigned long long)signals_handled);
		fclose(f);
	}
	say("stress: bad results %ld, bad children %ld\n", bad, children_bad);
	say("stress: %s\n", signals_handled > 0 && forks > 8 ? "ok" : "too little happened");
	return bad || children_bad ? 1 : 0;
}
