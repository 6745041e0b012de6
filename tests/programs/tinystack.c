/*
 * tinystack.c - system calls near the bottom of small stacks, as goroutines
 * make them (tests/t-hook-stack.sh).
 *
 * A goroutine leaves only Go's stack guard (about 900 bytes) below a system
 * call, and a thread may run on a 16 KiB stack: a hook that ran on the
 * application's stack would write over what lies below.  Here:
 *   coroutines  200 user-level stacks of 8 KiB (makecontext), carved one
 *               after the other out of one block, each filled with a
 *               pattern; each coroutine descends until about 900 bytes are
 *               left, makes system calls there (write to /dev/null, getpid,
 *               getppid), and yields; after the run the test looks how far
 *               below each stack's lowest frame the pattern was disturbed.
 *   threads     8 threads with 16 KiB stacks (PTHREAD_STACK_MIN), the same
 *               descent and calls.
 * Output: whether every call succeeded, and whether every stack kept its
 * pattern more than 160 bytes below the lowest system call's stack pointer
 * (natively nothing is written there; the runtime's pass-through uses 152
 * bytes below the stack pointer: the return address, the red zone, three
 * words; a hook none, nor the trap path's signal frames, which go on a
 * signal stack).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#ifdef __GLIBC__                /* (musl has no makecontext) */
#include <ucontext.h>
#endif

#include "ptest.h"

#define NCO 200
#define CO_STACK 8192
#define LEFT 900              /* what a goroutine keeps below a call */
#define MARGIN 160            /* the runtime's pass-through uses 152 bytes below */
#define PATTERN 0x5a

#ifdef __GLIBC__
static ucontext_t main_ctx, co_ctx[NCO];
#endif
static unsigned char *block;
static int devnull;
static volatile long calls_bad;
static uintptr_t lowest_sp[NCO + 16];

static void calls_here(int who)
{
	uintptr_t sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));   /* the calls' stack pointer */
	if (!lowest_sp[who] || sp < lowest_sp[who])
		lowest_sp[who] = sp;
	for (int i = 0; i < 20; i++) {
		if (raw_syscall3(SYS_write, devnull, (long)"x", 1) != 1 ||
		    raw_syscall0(SYS_getpid) != getpid() || raw_syscall0(SYS_getppid) != getppid())
			calls_bad++;
	}
}

/* Go down the stack until about LEFT bytes are left above base. */
static void __attribute__((noinline)) descend(int who, uintptr_t base)
{
	volatile char pad[128];
	pad[0] = 0;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (sp - base > LEFT + 256)
		descend(who, base);
	else
		calls_here(who);
	pad[127] = pad[0];
}

#ifdef __GLIBC__
static void co_body(int who)
{
	uintptr_t base = (uintptr_t)(block + (size_t)who * CO_STACK);
	for (int round = 0; round < 3; round++) {
		descend(who, base);
		swapcontext(&co_ctx[who], &main_ctx);
	}
}

/* How many bytes below `sp`, down to `base`, kept the pattern (from the
 * bottom up: the first byte that changed, counted from sp). */
static int intact_below(uintptr_t base, uintptr_t sp)
{
	uintptr_t p = base;
	while (p < sp && *(unsigned char *)p == PATTERN)
		p++;
	return (int)(sp - p);   /* bytes below sp that were written */
}

static void coroutines(void)
{
	block = calloc(NCO, CO_STACK);
	CHECK(block, "calloc");
	memset(block, PATTERN, (size_t)NCO * CO_STACK);
	for (int i = 0; i < NCO; i++) {
		getcontext(&co_ctx[i]);
		co_ctx[i].uc_stack.ss_sp = block + (size_t)i * CO_STACK;
		co_ctx[i].uc_stack.ss_size = CO_STACK;
		co_ctx[i].uc_link = &main_ctx;
		makecontext(&co_ctx[i], (void (*)(void))co_body, 1, i);
	}
	for (int round = 0; round < 4; round++)
		for (int i = 0; i < NCO; i++)
			swapcontext(&main_ctx, &co_ctx[i]);
	int worst = 0;
	for (int i = 0; i < NCO; i++) {
		int w = intact_below((uintptr_t)(block + (size_t)i * CO_STACK), lowest_sp[i]);
		if (w > worst)
			worst = w;
	}
	say("coroutines: %d stacks, calls %s, below the lowest call: %s\n", NCO,
	    calls_bad ? "FAILED" : "ok", worst <= MARGIN ? "kept" : "WRITTEN OVER");
	if (worst > MARGIN)
		say("  (%d bytes written below the lowest stack pointer)\n", worst);
}
#else
static void coroutines(void)
{
	(void)block;
	say("coroutines: not with this C library\n");
}
#endif

static void *thread_body(void *arg)
{
	int who = NCO + (int)(intptr_t)arg;
	pthread_attr_t a;
	void *lo;
	size_t size;
	pthread_getattr_np(pthread_self(), &a);
	pthread_attr_getstack(&a, &lo, &size);
	pthread_attr_destroy(&a);
	for (int round = 0; round < 50; round++)
		descend(who, (uintptr_t)lo);
	return NULL;
}

static void threads(void)
{
	pthread_t t[8];
	pthread_attr_t a;
	pthread_attr_init(&a);
	CHECK(pthread_attr_setstacksize(&a, 16384) == 0, "stack size");
	for (int i = 0; i < 8; i++)
		CHECK(pthread_create(&t[i], &a, thread_body, (void *)(intptr_t)i) == 0, "pthread_create");
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	say("threads: 8 on 16 KiB stacks, calls %s\n", calls_bad ? "FAILED" : "ok");
}

int main(void)
{
	/* (Resolved now: a dynamic program's first call of a function goes
	 * through the loader's resolver, which needs more stack than a
	 * coroutine has left.) */
	if (getpid() <= 0 || getppid() < 0)
		die("getpid");
	devnull = open("/dev/null", O_WRONLY);
	CHECK(devnull >= 0, "open");
	coroutines();
	threads();
	return 0;
}
