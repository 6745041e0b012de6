/*
 * runtime.h - the runtime's internal interfaces, in the order a call meets them:
 *
 *   init.c        zp_init: runs from e_entry before the program, finds this
 *                 object's descriptor, installs the trampoline, registers the
 *                 object's sites, starts the hook
 *   trampoline.c  the code at address 0 that `call *%rax` lands in, and the
 *                 jump page that leads from it to zp_entry
 *   entry.S       zp_entry: saves what the kernel's `syscall` preserves, calls
 *                 zp_dispatch, and performs the calls that change the stack
 *                 (clone with a new stack, vfork, rt_sigreturn) itself
 *   dispatch.c    zp_dispatch: checks the call comes from a patched site,
 *                 runs the hook, makes the real call
 *   sites.c       the table of patched sites and the lookup of a site
 *   util.c        formatting, strings, environment: helpers for hooks too
 *
 * Everything here is freestanding (no libc) and position-independent with no
 * relocations: it runs before anything could apply them.
 */
#ifndef ZP_RUNTIME_H
#define ZP_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "zp_abi.h"
#include "zprewrite/hook.h"

#define ZP_HIDDEN __attribute__((visibility("hidden")))
#define ZP_NORETURN __attribute__((noreturn))

/*
 * What zp_entry saved, as it lies on the stack (see entry.S): the call's
 * number and arguments as the application passed them, the address of the
 * site, and the application's flags.  The application's return address sits
 * 128 bytes above the end of this structure, beyond its red zone.
 */
struct zp_frame {
	long nr;
	long args[6];       /* rdi, rsi, rdx, r10, r8, r9 */
	uintptr_t site;
	unsigned long flags;
};

/* What zp_dispatch tells entry.S to do next (returned in rax:rdx). */
enum zp_act {
	ZP_ACT_DONE = 0,    /* return `result` to the application */
	ZP_ACT_SIGRETURN,   /* rt_sigreturn from the application's stack */
	ZP_ACT_CLONE_STACK, /* clone with a new stack: the child returns from it */
	ZP_ACT_CLONE3_STACK,/* clone3 with a new stack */
	ZP_ACT_VFORK,       /* vfork, or clone/clone3 sharing memory and stack */
	ZP_ACT_FAULT,       /* not from a patched site: fault like a bad call */
	ZP_ACT_NOSTACK,     /* munmap of the stack under the call (a thread ending) */
};

struct zp_action {
	long result;
	long act;           /* enum zp_act */
};

/* entry.S */
void zp_entry(void) ZP_HIDDEN;

/* dispatch.c */
struct zp_action zp_dispatch(struct zp_frame *f) ZP_HIDDEN;
long zp_dispatch_leave(struct zp_frame *f, long result) ZP_HIDDEN;
void *zp_clone3_prepare(struct zp_frame *f, void *buf, uintptr_t ret) ZP_HIDDEN;
void *zp_vfork_claim(struct zp_frame *f, uintptr_t ret, unsigned long app_rbx) ZP_HIDDEN;

/* Slots that carry a vfork parent's return address past the child, which
 * shares (and overwrites) the parent's stack.  Layout known to entry.S. */
struct zp_vfork_slot {
	uintptr_t ret;          /* +0 */
	unsigned long rbx;      /* +8 */
	long nr;                /* +16 */
	int busy;               /* +24 */
	int pad;
};
#define ZP_VFORK_SLOTS 64

/* The hook entry points of this process (from the first object with a hook). */
struct zp_hooks {
	int  (*init)(const struct zp_process *);
	long (*enter)(struct zp_syscall *);
	long (*leave)(const struct zp_syscall *, long);
	void (*exit)(int);
	int xsave;              /* save vector state around hook calls */
};
extern struct zp_hooks zp_hooks ZP_HIDDEN;

/* sites.c: the process's table of patched sites, read by entry.S's fast
 * path: open addressing over absolute site addresses, slot =
 * (site * 0x9e3779b97f4a7c15) >> shift, next slot on collision, 0 = empty.
 * Published whole (the pointer changes, the table never does). */
struct zp_site_table {
	uint32_t shift;      /* 64 - log2(slots) */
	uint32_t used;       /* sites in it */
	uint64_t mask;       /* slots - 1 */
	uint64_t slots[];
};
extern const struct zp_site_table *zp_site_table ZP_HIDDEN;
/* Add an object's sites (own: the runtime's own object at start, whose
 * list is read directly, without the lock); 0, or -1 if no table could be
 * made. */
int zp_sites_add(const struct zp_desc *d, uintptr_t bias, int own) ZP_HIDDEN;
/* Is site a patched site: in the table, or in an object found now. */
int zp_site_known(uintptr_t site) ZP_HIDDEN;
int zp_site_discover(uintptr_t site) ZP_HIDDEN;
void zp_sites_set_loader(uintptr_t r_debug) ZP_HIDDEN;
void zp_sites_init(void) ZP_HIDDEN;

/* dispatch.c: numbers entry.S must not pass straight through (1 = slow path) */
extern unsigned char zp_slow_nr[ZP_SLOW_NR_SIZE] ZP_HIDDEN;
void zp_slow_nr_init(int hooked) ZP_HIDDEN;

/* trampoline.c: the low region at address 0 (every entry reaches zp_entry). */
#define ZP_TRAMP_LOW_SIZE 8192
enum zp_tramp_status {
	ZP_TRAMP_OK = 0,
	ZP_TRAMP_SHARED,           /* another rewritten object installed it already */
	ZP_TRAMP_PAGE0_DENIED,     /* mmap at 0 refused: mmap_min_addr or an LSM */
	ZP_TRAMP_PAGE0_TAKEN,      /* something is already mapped at address 0 */
	ZP_TRAMP_JUMPS_TAKEN,      /* the jump pages' fixed address is in use */
	ZP_TRAMP_FAILED,           /* another mmap/mprotect error */
};
struct zp_tramp_result {
	enum zp_tramp_status status;
	long err;                  /* -errno of the failing call */
	uintptr_t addr;            /* the address that could not be mapped */
};
struct zp_tramp_result zp_trampoline_install(void (*entry)(void)) ZP_HIDDEN;
int zp_trampoline_contains(uintptr_t addr) ZP_HIDDEN;

/* signals.c: system calls whose number jumps outside the trampoline */
void zp_signals_init(void) ZP_HIDDEN;
long zp_sigaction(const long *args) ZP_HIDDEN;
int zp_signals_before_exec(void) ZP_HIDDEN;     /* 1: SIGSEGV set to SIG_IGN for it */
void zp_signals_after_exec(int ignored) ZP_HIDDEN;

/* dispatch.c: make one call for the application (also for zp_forward):
 * the real system call, or the runtime's answer for the few it keeps. */
long zp_make_call(const struct zp_syscall *c) ZP_HIDDEN;

/* init.c */
extern uintptr_t zp_orig_entry ZP_HIDDEN;
/* The process whose copy of memory the runtime's variables are in: set at
 * start, and in the child of each fork (dispatch.c, entry.S).  A process
 * with another pid shares its parent's memory (a vfork, posix_spawn or
 * CLONE_VM child): it must not change what is the parent's (app_segv in
 * signals.c) nor take over its locks (lock.h). */
extern int zp_owner_pid ZP_HIDDEN;
void zp_init(unsigned long *sp) ZP_HIDDEN;
ZP_NORETURN void zp_fatal_exit(int status) ZP_HIDDEN;

/* util.c (the hook helpers of hook.h are defined there too) */
void zp_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2))) ZP_HIDDEN;

/* The C compiler may emit calls to these for struct copies and zeroing. */
void *memcpy(void *dst, const void *src, size_t n) ZP_HIDDEN;
void *memset(void *dst, int c, size_t n) ZP_HIDDEN;
void *memmove(void *dst, const void *src, size_t n) ZP_HIDDEN;
int memcmp(const void *a, const void *b, size_t n) ZP_HIDDEN;

#endif /* ZP_RUNTIME_H */
