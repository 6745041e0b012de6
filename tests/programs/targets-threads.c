/*
 * targets-threads.c - a multithreaded static program, as a rewriting target.
 *
 * Used by tests/t-targets-static.sh (glibc -static, -static-pie, musl).  Eight
 * threads each make a few thousand system calls of different kinds (pipe
 * write/read round trips, getpid, open/close, sched_yield, nanosleep,
 * futex waits and wakes through a mutex and condition variable shared with the
 * other threads, malloc in per-thread arenas) and check every result; the
 * main thread joins them and prints totals, which are deterministic.  Thread
 * creation is clone (glibc may try clone3 first) with a new stack; thread exit
 * and join go through exit and futex: all of it must behave as without the
 * rewrite.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "ptest.h"

#define NTHREADS 8
#define ROUNDS   400

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long turn;          /* the cond var passes a token around the threads */
static long shared_total;

struct result { long calls; long bytes; };

static void *worker(void *arg)
{
	long id = (long)arg;
	struct result *res = calloc(1, sizeof *res);
	int p[2];
	char buf[64];

	CHECK(pipe(p) == 0, "pipe in thread %ld", id);
	for (int i = 0; i < ROUNDS; i++) {
		int n = snprintf(buf, sizeof buf, "t%ld-r%d", id, i);
		CHECK(write(p[1], buf, (size_t)n) == n, "write");
		char back[64];
		CHECK(read(p[0], back, sizeof back) == n && memcmp(back, buf, (size_t)n) == 0, "read back");
		res->bytes += n;
		CHECK(getpid() == (pid_t)raw_syscall0(SYS_getpid), "getpid");
		int fd = open("/dev/null", O_WRONLY);
		CHECK(fd >= 0, "open");
		CHECK(write(fd, buf, 3) == 3, "write /dev/null");
		close(fd);
		sched_yield();
		if (i % 50 == 0) {
			struct timespec ts = { 0, 10000 };
			nanosleep(&ts, NULL);
		}
		void *blk = malloc(1000 + (size_t)i * 10);
		memset(blk, i, 1000);
		free(blk);
		res->calls += 7;
		/* Every 40 rounds, wait for this thread's turn: real futex waits. */
		if (i % 40 == 0) {
			pthread_mutex_lock(&mu);
			while (turn % NTHREADS != id)
				pthread_cond_wait(&cv, &mu);
			turn++;
			shared_total += i;
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&mu);
		}
	}
	close(p[0]);
	close(p[1]);
	return res;
}

int main(void)
{
	pthread_t th[NTHREADS];
	long calls = 0, bytes = 0;

	for (long i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0, "pthread_create");
	for (int i = 0; i < NTHREADS; i++) {
		struct result *r;
		CHECK(pthread_join(th[i], (void **)&r) == 0, "pthread_join");
		calls += r->calls;
		bytes += r->bytes;
		free(r);
	}
	printf("threads %d calls %ld bytes %ld turns %ld total %ld\n",
	       NTHREADS, calls, bytes, turn, shared_total);
	return 0;
}
