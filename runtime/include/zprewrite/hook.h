/*
 * zprewrite/hook.h - the interface between a hook and the zprewrite runtime.
 *
 * A hook is a small position-independent object that `zprewrite --hook
 * HOOK.so IN OUT` embeds into a rewritten binary.  Every system call made
 * from a rewritten site of that binary reaches the hook first.  The runtime
 * also provides the few helpers a hook needs, because a hook runs without any
 * C library: it may be called before libc is initialised, inside libc while it
 * holds its own locks, in a signal handler, or in a vfork child.
 *
 * Build a hook with the flags `pkg-config --cflags --libs zprewrite-hook`
 * prints (or ZP_HOOK_CFLAGS of samples/hooks/hooks.mk, which has them all):
 *   -fPIC -shared -nostdlib -ffreestanding -fno-stack-protector
 *   -mgeneral-regs-only -fvisibility=hidden
 * and define at least zp_hook_enter().  See docs/hooks.md for a walk-through.
 *
 * What a hook may do
 *   - read and change `call->args` and `call->nr` before the call is made
 *     (not for the calls the runtime makes itself: see below);
 *   - answer a call itself (return a value other than ZP_PASS);
 *   - make real system calls with zp_syscall6() and friends: they go straight
 *     to the kernel and never come back into the hook;
 *   - use the helpers below (formatting, strings, environment, names).
 *
 * What a hook must not do
 *   - call anything from libc, or any function it does not define itself
 *     or get from this header (there is no libc in a hook);
 *   - use thread-local storage (__thread): fs belongs to the application;
 *   - use more than ZP_HOOK_STACK_BUDGET bytes of stack.  A hook runs on a
 *     stack of the runtime's own (one per thread), never on the
 *     application's, so this budget holds whatever the application's stack
 *     is (a goroutine's, a tiny thread's, a small sigaltstack);
 *   - block signals for long or take locks that a signal handler running on
 *     the same thread could also take: a signal can arrive while the hook
 *     runs, and its handler's system calls enter the hook again (the hook is
 *     re-entered on the same thread).  Counters should be updated with
 *     atomic operations (__atomic_fetch_add), not under a lock.
 *
 * Calls the runtime makes itself: rt_sigreturn, vfork, clone and clone3 with
 * a new stack or sharing memory without one (threads, posix_spawn), and a
 * munmap of the stack the call is made on.  They change the stack or the
 * process in ways C code cannot follow, so the runtime's entry code makes
 * them with the application's own registers.  A hook may answer them, or
 * pass them unchanged, but not change them: if the call as zp_hook_enter
 * leaves it is one of these and its number or any argument differs from the
 * application's, it is not made (nor is zp_hook_leave called), and the
 * application gets -EINVAL.  (That covers an ordinary call changed into one
 * of these, too.)  One of these changed into an ordinary call (vfork into
 * fork, say) is made as changed.
 *
 * Threads: the hook is called concurrently from every thread of the process.
 * Children that share memory: a vfork or posix_spawn child calls the hook
 * too, in its own process but in its parent's memory, while the parent
 * waits (its other threads run on).  There a hook may read, make calls and
 * write to its log, but must not change its static data: the parent would
 * find the child's changes as its own (zp_shares_parent_memory() tells).
 * Vector registers: if the compiler emits SSE/AVX/x87 instructions in a hook
 * (for instance because it was built without -mgeneral-regs-only), zprewrite
 * notices when embedding it and the runtime then saves and restores the
 * extended register state around every call into the hook.  That costs about
 * 100 ns a call, so build hooks with -mgeneral-regs-only.
 *
 * The interface is versioned by ZP_HOOK_ABI; zprewrite refuses a hook built
 * against another version.
 */
#ifndef ZPREWRITE_HOOK_H
#define ZPREWRITE_HOOK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZP_HOOK_ABI 1

/* Every object built with this header records the interface version it was
 * built against; zprewrite reads it to refuse a mismatched hook. */
__attribute__((used, section(".zp_hook_abi")))
static const uint32_t zp_hook_abi_version = ZP_HOOK_ABI;

/* Stack a hook may use, in bytes (see "What a hook must not do"); the
 * runtime's own stack has room for it and for the runtime around it. */
#define ZP_HOOK_STACK_BUDGET 32768

/* Returned by zp_hook_enter() to let the runtime make the real call. */
#define ZP_PASS ((long)(-0x7fffffffffffffffL - 1))

/* One system call, as the application made it. */
struct zp_syscall {
	long nr;            /* system call number (rax) */
	long args[6];       /* rdi, rsi, rdx, r10, r8, r9 */
	uintptr_t site;     /* address of the rewritten instruction that made it */
};

/* The process, as the kernel started it; given to zp_hook_init(). */
struct zp_process {
	int argc;
	char **argv;
	char **envp;
	const unsigned long *auxv;   /* pairs of (AT_* type, value), AT_NULL last */
};

/*
 * Entry points a hook defines (mark them ZP_HOOK_EXPORT).
 *
 * zp_hook_init   optional; called once per process before the program's own
 *                code runs (after the trampoline is in place).  A non-zero
 *                return makes the process exit with status 127.
 * zp_hook_enter  required; called before each system call.  Return ZP_PASS to
 *                have the (possibly changed) call made, or the result the
 *                application should see (a value >= 0, or -errno).
 * zp_hook_leave  optional; called after a call that was made, with its result,
 *                and returns the result the application sees.  It is not
 *                called for calls that do not return: rt_sigreturn, exit,
 *                exit_group, a successful execve; nor in the child of a
 *                fork/clone/vfork (only in the parent); nor for a call the
 *                hook answered itself (zp_hook_enter did not return ZP_PASS).
 * zp_hook_exit   optional; called when the process is about to end through
 *                exit_group (what exit() and a return from main use), with
 *                the exit status, before the call is made: the place to write
 *                a summary.  zp_hook_enter sees the exit_group call first,
 *                then zp_hook_exit runs (if enter returned ZP_PASS).
 */
#define ZP_HOOK_EXPORT __attribute__((visibility("default"), used))

int  zp_hook_init(const struct zp_process *proc);
long zp_hook_enter(struct zp_syscall *call);
long zp_hook_leave(const struct zp_syscall *call, long result);
void zp_hook_exit(int status);

/* ---- Helpers the runtime provides -------------------------------------- */

/* A real system call; never enters the hook. Returns the result or -errno. */
long zp_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

static inline long zp_syscall0(long nr)
{ return zp_syscall6(nr, 0, 0, 0, 0, 0, 0); }
static inline long zp_syscall1(long nr, long a1)
{ return zp_syscall6(nr, a1, 0, 0, 0, 0, 0); }
static inline long zp_syscall2(long nr, long a1, long a2)
{ return zp_syscall6(nr, a1, a2, 0, 0, 0, 0); }
static inline long zp_syscall3(long nr, long a1, long a2, long a3)
{ return zp_syscall6(nr, a1, a2, a3, 0, 0, 0); }
static inline long zp_syscall4(long nr, long a1, long a2, long a3, long a4)
{ return zp_syscall6(nr, a1, a2, a3, a4, 0, 0); }
static inline long zp_syscall5(long nr, long a1, long a2, long a3, long a4, long a5)
{ return zp_syscall6(nr, a1, a2, a3, a4, a5, 0); }

/* Copy len bytes of the application's memory at src into dst without
 * faulting on a bad pointer (through process_vm_readv: one system call).
 * Returns 0, or -EFAULT if any of it is not readable. */
long zp_read_app(void *dst, const void *src, size_t len);

/* Make the call as it stands in *call (for zp_hook_enter to forward a call
 * and look at the result itself).  The few calls only the runtime can make
 * (those that change the stack or the process: clone or clone3 with a new
 * stack or shared memory, vfork, rt_sigreturn, a munmap of the stack the
 * call is made on) are not made: zp_forward returns ZP_PASS for them, which
 * the hook returns so that the runtime makes them ("return zp_forward(c);"
 * is always right). */
long zp_forward(const struct zp_syscall *call);

/* Formatted output, a subset of printf: %d %i %u %x %X %o %c %s %p %%, the
 * length modifiers l, ll, z, h, hh, flags '-', '0', '#', ' ', '+', width and
 * precision (also '*').  %s of NULL prints "(null)".  No floating point.
 * zp_dprintf writes output of up to 512 bytes with a single write(2), so
 * lines from several threads do not mix; longer output takes several writes.
 * They return the number of characters of the whole output (like snprintf),
 * or -errno if writing failed. */
int zp_dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int zp_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int zp_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* Write all of buf to fd (retrying short writes and EINTR). */
long zp_write_all(int fd, const void *buf, size_t len);

size_t zp_strlen(const char *s);
int zp_strcmp(const char *a, const char *b);
int zp_strncmp(const char *a, const char *b, size_t n);
char *zp_strchr(const char *s, int c);
void *zp_memcpy(void *dst, const void *src, size_t n);
void *zp_memset(void *dst, int c, size_t n);
int zp_memcmp(const void *a, const void *b, size_t n);
/* strtol-like; *end (if not NULL) points past the digits. */
long zp_strtol(const char *s, const char **end, int base);

/* Value of an environment variable of the process, or NULL. */
const char *zp_getenv(const char *name);

/* Names from the kernel's tables of this build: "openat" for 257, NULL if
 * unknown; zp_syscall_number("openat") == 257, -1 if unknown. */
const char *zp_syscall_name(long nr);
long zp_syscall_number(const char *name);
/* "ENOENT" and "No such file or directory" for 2; NULL if unknown. */
const char *zp_errno_name(long err);
const char *zp_errno_text(long err);

/* Thread id and process id of the caller, from the kernel (not cached). */
long zp_gettid(void);
long zp_getpid(void);

/* 1 if the caller is a child that shares its parent's memory: a vfork
 * child, posix_spawn's child (clone with CLONE_VM|CLONE_VFORK), a child of
 * clone(CLONE_VM) without CLONE_THREAD, until it execs or exits.  0 in a
 * process with memory of its own: the program, its threads, fork children.
 * What such a child writes to the hook's static data, its parent sees:
 * ask before changing anything there (a recorded descriptor, a counter the
 * parent reports) in a call that may come from such a child.  Costs a
 * load (the runtime keeps it per thread).  Added without a change of ZP_HOOK_ABI: a hook that
 * uses it is refused by an older zprewrite (an unknown helper). */
int zp_shares_parent_memory(void);

/* Monotonic clock in nanoseconds (through the vDSO when available). */
uint64_t zp_clock_ns(void);

#ifdef __cplusplus
}
#endif
#endif /* ZPREWRITE_HOOK_H */
