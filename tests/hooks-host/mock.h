/*
 * mock.h - controls of the host-side mock of the zprewrite runtime helpers
 * (mock.c), and small test utilities shared by the hook tests.
 *
 * The sample hooks are freestanding code that only calls the zp_* helpers of
 * hook.h; mock.c implements those over the C library so that a hook can be
 * linked into an ordinary program and driven with crafted system calls.
 */
#ifndef MOCK_H
#define MOCK_H

#include <stdint.h>
#include <zprewrite/hook.h>

/* Number of zp_syscall6()/zp_forward() calls that reached the kernel, in
 * all and by number (0..511). */
extern long mock_kernel_calls;
extern long mock_kernel_calls_nr[512];

/* A fake clock: when mock_clock_fake is set, zp_clock_ns() returns
 * mock_clock_now and then advances it by mock_clock_step. */
extern int mock_clock_fake;
extern uint64_t mock_clock_now, mock_clock_step;

/* If set, zp_forward() returns this function's answer instead of making the
 * call (for results that cannot be produced for real in a test). */
extern long (*mock_forward_fn)(const struct zp_syscall *call);

/* The entry points a hook may leave undefined. */
int  zp_hook_init(const struct zp_process *proc) __attribute__((weak));
long zp_hook_leave(const struct zp_syscall *call, long result) __attribute__((weak));
void zp_hook_exit(int status) __attribute__((weak));

/* Run the hook's init with this process's (real) arguments. */
int mock_init(void);

/* A call through the hook as the runtime would make it: enter, then (if it
 * passed) the real system call and leave.  Returns what the application sees. */
long mock_call(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/* The same, but if the hook passes the call, `result` stands for what the
 * kernel answered: nothing is executed. */
long mock_fake(long result, long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/* ---- checking output ---- */

extern int test_failures;
extern int test_log_fd;     /* where failures are reported (default 2) */

/* Everything appended to `path` since the previous call (malloc'd). */
char *take_output(const char *path);

/* Compare and report; returns 1 if equal. */
int expect_str(const char *what, const char *got, const char *want);
int expect_long(const char *what, long got, long want);

#endif
