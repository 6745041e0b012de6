/*
 * runtime.h - the runtime's internal interfaces, in the order a call meets them:
 *
 *   start.S       zp_start: e_entry points here; saves the registers, runs zp_init
 *   init.c        zp_init: finds this object's descriptor, chooses the path
 *                 (page 0 or the trap path), registers the sites, starts the hook
 *   trampoline.c  page 0: the code at address 0 that `call *%rax` lands in,
 *                 and the jump pages that lead from it to zp_entry
 *   segv.c        the trap path: without page 0, `call *%rax` faults; the
 *                 runtime's SIGSEGV handler sends such calls to zp_entry, and
 *                 makes every other fault look as it would without the runtime
 *   entry.S       zp_entry: the pass-through fast path; otherwise it moves to
 *                 the thread's own runtime stack, calls zp_dispatch, and makes
 *                 the calls that change the stack (clone, vfork, sigreturn)
 *   thread.c      the per-thread block (found through %gs) and runtime stacks
 *   dispatch.c    zp_dispatch: runs the hook, makes the real call
 *   classify.c    which calls entry.S must make itself
 *   process.c     fork, vfork slots, clone3, exec, exit: the process life cycle
 *   xsave.c       vector state around a hook that uses it
 *   sigaction.c   the application's SIGSEGV disposition, kept by the runtime
 *   sigmask.c     trap path: SIGSEGV is never blocked for real (virtual mask)
 *   sitetable.c   the table of patched sites (read by entry.S's fast path)
 *   objects.c     finding rewritten objects loaded later (dlopen, bundles)
 *   appmem.c      reading and writing the application's memory without faults
 *   util.c        formatting, strings, messages: helpers for hooks too
 *   hookapi.c     the rest of what hook.h promises
 *
 * Everything here is freestanding (no libc) and position-independent with no
 * relocations: it runs before anything could apply them.  Offsets and
 * constants that entry.S needs come from asm-offsets.c, never from copies.
 */
#ifndef ZP_RUNTIME_H
#define ZP_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include <asm/sigcontext.h>

#include "zp_abi.h"
#include "zprewrite/hook.h"

#define ZP_HIDDEN __attribute__((visibility("hidden")))
#define ZP_NORETURN __attribute__((noreturn))

/* ---- the entry frame ---------------------------------------------------- */

/*
 * What zp_entry saved, on the thread's runtime stack (see entry.S): the
 * call's number and arguments as the application passed them, the address
 * of the site, the application's flags, its stack pointer at the site (S:
 * the return address is at S - 8), and what the thread block's stack_free
 * goes back to when the call is done.
 */
struct zp_frame {
	unsigned long rbx;      /* the application's (entry.S uses rbx for the frame) */
	long nr;
	long args[6];           /* rdi, rsi, rdx, r10, r8, r9 */
	uintptr_t site;
	unsigned long flags;
	uintptr_t free_restore;
	uintptr_t app_sp;       /* S */
	uintptr_t child;        /* clone with a new stack: the child's thread block;
	                         * vfork-like and munmap of the stack: the vfork slot */
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
	ZP_ACT_EXIT_THREAD, /* exit of one thread: its block goes back to the pool */
};

struct zp_action {
	long result;
	long act;           /* enum zp_act */
};

/* entry.S */
void zp_entry(void) ZP_HIDDEN;
void zp_entry_fault(void) ZP_HIDDEN;   /* where a call from outside any site faults */
void zp_restore_rt(void) ZP_HIDDEN;    /* rt_sigreturn for the runtime's own handler */

/* The kernel's struct sigaction for rt_sigaction on x86-64. */
struct zp_ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};
#define ZP_SA_RESTORER 0x04000000

/* The dispositions the runtime keeps on the application's behalf: SIGSEGV
 * (always) and SIGSYS (with --complete), as the application set them. */
enum { ZP_KEPT_SEGV, ZP_KEPT_SYS, ZP_KEPT_N };
struct zp_kept {
	struct zp_ksigaction act[ZP_KEPT_N];
};

/* What the application asked of Syscall User Dispatch itself (Wine does):
 * emulated on top of the runtime's (net.c). */
struct zp_app_sud {
	int on;
	uintptr_t start, len;       /* its always-allowed region */
	uintptr_t selector;         /* address of its selector byte */
};

/* The kernel's ucontext on x86-64 (asm/ucontext.h's layout, with the
 * 64-bit signal mask the runtime reads): what a signal handler gets. */
struct zp_ucontext {
	unsigned long uc_flags;
	void *uc_link;
	struct { void *sp; int flags; unsigned long size; } uc_stack;
	struct sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

/* The kernel's stack_t (sigaltstack). */
struct zp_stack {
	uintptr_t sp;
	int flags;
	size_t size;
};
#define ZP_SS_DISABLE 2
#define ZP_SS_AUTODISARM (1u << 31)

/* ---- the per-thread block (thread.c) ---------------------------------- */

/*
 * Every thread that has run rewritten code has one, and %gs points at it
 * (x86-64 user space leaves gs to whoever wants it; the C libraries use
 * fs).  It holds the thread's runtime stack, on which hooks and the
 * runtime's C code run, never on the application's stack: goroutine stacks,
 * tiny thread stacks and small signal stacks then keep their room.
 *
 * The stack is taken by chunks: an entry from the application's stack
 * takes the chunk below stack_free (normally the top) and gives it back on
 * the way out; an entry while the thread is already on its runtime stack (a
 * signal handler that interrupted a hook) goes on below its stack pointer.
 * A handler on the application's signal stack that interrupted a hook gets
 * the next chunk down; one that leaves by longjmp leaves its chunk taken
 * until the next entry from an ordinary stack, which starts from the top.
 */
struct zp_thread {
	struct zp_thread *self;     /* %gs:0, for C: zp_thread_self() */
	uintptr_t stack_lo;         /* the runtime stack: [stack_lo, stack_lo + ZP_RT_STACK_SIZE) */
	uintptr_t stack_hi;         /* where entries start (the top, or lower in a vfork child) */
	uintptr_t stack_free;       /* top of the part no entry holds */
	uintptr_t alt_lo;           /* the kernel's signal stack for this thread */
	uintptr_t alt_size;         /* (sigaltstack), 0 if none */
	uintptr_t alt_cut;          /* while a call from it is dispatched: the size the
	                             * kernel has for it, below the caller (zp_alt_cut) */
	uint64_t vblocked;          /* trap path: signals blocked only virtually (sigmask.c) */
	int sent_pending;           /* a signal of zp_unblockable sent while virtually blocked */
	unsigned char sent_info[128];   /* its siginfo, queued again when unblocked */
	struct zp_frame *frame;     /* the call being dispatched (zp_forward) */
	struct zp_kept *kept;       /* the dispositions the runtime keeps for this thread's
	                             * process (sigaction.c) */
	struct zp_kept own_kept;    /* those of a process that shares its parent's
	                             * memory (vfork, posix_spawn) */
	unsigned char selector;     /* --complete: Syscall User Dispatch's selector */
	struct zp_app_sud app_sud;  /* --complete: the application's own SUD (net.c) */
	struct zp_thread *pending_child;  /* a clone in flight: the child's block (process.c) */
	struct zp_thread *pending_borrowed;  /* a vfork in flight: the pool block lent to the child */
	unsigned long scratch[5];   /* entry.S: a new thread's registers around arch_prctl
	                             * and prctl (NET_ON) */
	struct zp_stack app_alt;    /* the signal stack the application set (flags
	                             * SS_DISABLE: none) */
	struct zp_stack rt_alt;     /* the runtime's own signal stack (thread.c) */
	int rt_alt_wanted;          /* entry.S: install rt_alt in a new thread */
	int pid;                    /* this thread's process id, 0 until asked (appmem.c) */
	int own_memory;             /* a new thread that is a new process (clone without CLONE_VM) */
	int shares_memory;          /* a vfork-like child: shares its parent's memory */
	int traceme;                /* ptrace(PTRACE_TRACEME) put off until exec (process.c) */
	int busy;                   /* taken (pool) */
	int pooled;                 /* allocated by the pool (else static) */
	struct zp_thread *next;     /* the pool's chain */
};

/* The runtime stack of each thread, and the chunk an entry from the
 * application's stack takes: the hook's budget (hook.h), the entry frame,
 * zp_dispatch, a saved vector state and room for the application's signal
 * handlers that interrupt a hook and run on it. */
#define ZP_RT_STACK_SIZE (256 * 1024)
/* Below the chunks, a signal stack of the runtime's own (thread.c): the
 * kernel's signal stack of every thread for which the application set
 * none, when calls raise signals (the trap path, --complete). */
#define ZP_RT_ALT_SIZE (32 * 1024)
#define ZP_RT_CHUNK (64 * 1024)
_Static_assert(ZP_RT_CHUNK >= ZP_HOOK_STACK_BUDGET + 8192, "a chunk holds the hook's budget");
_Static_assert(ZP_RT_STACK_SIZE % ZP_RT_CHUNK == 0, "whole chunks");

/* The block %gs points at. */
static inline struct zp_thread *zp_thread_self(void)
{
	struct zp_thread *t;
	__asm__("mov %%gs:0, %0" : "=r"(t));
	return t;
}

int zp_thread_init_main(void) ZP_HIDDEN;             /* 0, or -errno */
struct zp_thread *zp_thread_new(uint64_t clone_flags) ZP_HIDDEN;   /* for a new thread, or NULL */
void zp_thread_release(struct zp_thread *t) ZP_HIDDEN;      /* never ran, or exiting */
long zp_sigaltstack_call(const struct zp_syscall *c) ZP_HIDDEN;
uintptr_t zp_alt_cut(uintptr_t app_sp) ZP_HIDDEN;
void zp_alt_uncut(uintptr_t size) ZP_HIDDEN;
void zp_alt_sigreturn(uintptr_t app_sp) ZP_HIDDEN;
void zp_thread_alt_start(void) ZP_HIDDEN;   /* the first thread, once the path is known */
long zp_arch_prctl_call(const struct zp_syscall *c) ZP_HIDDEN;
int zp_thread_vfork_child(struct zp_thread *child, struct zp_thread **borrowed, uintptr_t below) ZP_HIDDEN;

/* ---- dispatch ------------------------------------------------------------ */

/* dispatch.c */
struct zp_action zp_dispatch(struct zp_frame *f) ZP_HIDDEN;
long zp_dispatch_leave(struct zp_frame *f, long result) ZP_HIDDEN;
/* Make one call for the application (also for zp_forward): the real system
 * call, or the runtime's answer for the few it keeps. */
long zp_make_call(const struct zp_syscall *c) ZP_HIDDEN;

/* classify.c: what kind of call; app_sp is the application's stack pointer
 * at the site (to see whether a munmap removes the stack under the call). */
enum zp_act zp_classify(uintptr_t app_sp, long nr, const long *args) ZP_HIDDEN;

/* process.c: the process life cycle */
long zp_fork_call(const struct zp_syscall *c) ZP_HIDDEN;   /* fork, clone, clone3 without a new stack */
long zp_exec_call(const struct zp_syscall *c) ZP_HIDDEN;
long zp_ptrace_call(const struct zp_syscall *c) ZP_HIDDEN;
void zp_traceme_now(void) ZP_HIDDEN;
void *zp_clone3_prepare(struct zp_frame *f, void *buf, uintptr_t ret) ZP_HIDDEN;
struct zp_vfork_slot *zp_vfork_claim(struct zp_frame *f, int child) ZP_HIDDEN;
void zp_clone_done(struct zp_frame *f, long result) ZP_HIDDEN;

/* Slots that carry a vfork parent's return address past the child, which
 * shares (and overwrites) the parent's stack, and the child's own thread
 * block.  Layout known to entry.S through asm-offsets.c. */
struct zp_vfork_slot {
	uintptr_t ret;              /* the return address (the site + 2) */
	unsigned long rbx;          /* the application's rbx */
	long nr;
	uintptr_t app_sp;           /* S: the call is made with this stack pointer */
	uintptr_t free_restore;     /* the parent's stack_free to put back before it */
	unsigned long scratch[2];   /* the child's rdi and rsi around arch_prctl */
	int busy;
	int pad;
	struct zp_thread child;     /* the child's thread block */
	struct zp_thread *borrowed; /* the pool block whose stack the child uses */
};
#define ZP_VFORK_SLOTS 64

/* xsave.c: the hook entry points of this process (from the first object
 * with a hook), called with the vector state saved when the hook uses it. */
struct zp_hooks {
	int  (*init)(const struct zp_process *);
	long (*enter)(struct zp_syscall *);
	long (*leave)(const struct zp_syscall *, long);
	void (*exit)(int);
	int xsave;              /* save vector state around hook calls */
};
extern struct zp_hooks zp_hooks ZP_HIDDEN;
int zp_hook_call_init(const struct zp_process *p) ZP_HIDDEN;
long zp_hook_call_enter(struct zp_syscall *c) ZP_HIDDEN;
long zp_hook_call_leave(const struct zp_syscall *c, long result) ZP_HIDDEN;
void zp_hook_call_exit(int status) ZP_HIDDEN;
void zp_xsave_init(void) ZP_HIDDEN;

/* Which numbers entry.S passes straight to the kernel (0) and which go to
 * zp_dispatch (1); the last byte stands for the numbers above the table. */
#define ZP_SLOW_NR_SIZE 512
extern unsigned char zp_slow_nr[ZP_SLOW_NR_SIZE] ZP_HIDDEN;
void zp_slow_nr_init(int hooked) ZP_HIDDEN;

/* ---- sites ----------------------------------------------------------------- */

/* sitetable.c: the process's table of patched sites, read by entry.S's fast
 * path: open addressing over absolute site addresses, slot =
 * (site * ZP_SITE_HASH_MULT) >> shift, next slot on collision, 0 = empty.
 * Published whole (the pointer changes, the table never does). */
struct zp_site_table {
	uint32_t shift;      /* 64 - log2(slots) */
	uint32_t used;       /* sites in it */
	uint64_t mask;       /* slots - 1 */
	uint64_t slots[];
};
extern const struct zp_site_table *zp_site_table ZP_HIDDEN;
void zp_sites_init(void) ZP_HIDDEN;
/* Add an object's sites (own: the runtime's own object at start, whose
 * list is read directly, without the lock); 0, or -1 if no table could be
 * made. */
int zp_sites_add(const struct zp_desc *d, uintptr_t bias, int own) ZP_HIDDEN;
int zp_site_in_table(uintptr_t site) ZP_HIDDEN;
int zp_sites_add_one(uintptr_t site) ZP_HIDDEN;
/* Is site a patched site: in the table, or in an object found now. */
int zp_site_known(uintptr_t site) ZP_HIDDEN;

/* objects.c: find and register the rewritten object that holds `site`. */
int zp_site_discover(uintptr_t site) ZP_HIDDEN;
void zp_objects_set_loader(uintptr_t r_debug) ZP_HIDDEN;

/* ---- the two paths ----------------------------------------------------------- */

/* trampoline.c: the low region at address 0 (every entry reaches zp_entry). */
#define ZP_TRAMP_LOW_SIZE 8192
enum zp_tramp_status {
	ZP_TRAMP_OK = 0,
	ZP_TRAMP_SHARED,           /* another rewritten object set up the process already */
	ZP_TRAMP_PAGE0_DENIED,     /* mmap at 0 refused: mmap_min_addr or an LSM */
	ZP_TRAMP_PAGE0_TAKEN,      /* something is already mapped at address 0 */
	ZP_TRAMP_FAILED,           /* another mmap/mprotect error */
};
struct zp_tramp_result {
	enum zp_tramp_status status;
	long err;                  /* -errno of the failing call */
	uintptr_t addr;            /* the address that could not be mapped */
	int readable;              /* mapped, but execute-only does not work here */
};
/* Claim the process (the fixed jump-page range); SHARED if another
 * rewritten object of this process did first. */
struct zp_tramp_result zp_trampoline_claim(void) ZP_HIDDEN;
/* Map page 0 and the jump pages leading to entry (after the claim). */
struct zp_tramp_result zp_trampoline_install(void (*entry)(void)) ZP_HIDDEN;
void zp_trampoline_remove(void) ZP_HIDDEN;      /* back to the claim only */
int zp_trampoline_contains(uintptr_t addr) ZP_HIDDEN;
extern int zp_trap_path ZP_HIDDEN;              /* 1: no page 0, calls fault */

/* segv.c: the runtime's SIGSEGV handler */
void zp_segv_handler(int sig, void *info, void *uc) ZP_HIDDEN;
/* Hand a signal the runtime keeps to the application's disposition, as the
 * kernel would have delivered it (segv.c; also for SIGSYS, net.c). */
void zp_to_application(int sig, void *info, void *uc) ZP_HIDDEN;

/* sigaction.c: the application's SIGSEGV disposition (the kernel's is
 * always the runtime's handler, with the application's flags and mask). */
void zp_signals_init(void) ZP_HIDDEN;
void zp_signals_path(void) ZP_HIDDEN;                    /* once the path is chosen */
int zp_kept_index(int sig) ZP_HIDDEN;                    /* ZP_KEPT_*, or -1 */
long zp_sigaction(const long *args) ZP_HIDDEN;           /* rt_sigaction of a kept signal */
long zp_sigaction_other(const long *args) ZP_HIDDEN;     /* trap path: another signal's mask */
int zp_signals_before_exec(void) ZP_HIDDEN;     /* 1: SIGSEGV set to SIG_IGN for it */
void zp_signals_after_exec(int ignored) ZP_HIDDEN;
/* The disposition a kept signal of this thread goes to, copied to *out
 * (with SA_RESETHAND's reset done, under the lock). */
void zp_kept_disposition(int sig, struct zp_ksigaction *out) ZP_HIDDEN;
long zp_install(int sig, void *handler, unsigned long flags, unsigned long mask) ZP_HIDDEN;
void zp_sigsys_start(void) ZP_HIDDEN;                    /* --complete: the SIGSYS handler */

/* sigmask.c: the signals the kernel must never block: SIGSEGV on the trap
 * path, SIGSYS with --complete (0: none) */
extern uint64_t zp_unblockable ZP_HIDDEN;
void zp_sigmask_init(void) ZP_HIDDEN;
long zp_sigmask_call(const struct zp_syscall *c) ZP_HIDDEN;   /* -1: not one of them */
uint64_t zp_sigmask_strip(uint64_t mask) ZP_HIDDEN;
void zp_sigmask_sigreturn(uintptr_t app_sp) ZP_HIDDEN;
#define ZP_SIGBIT(sig) (1ull << ((sig) - 1))

/* net.c: --complete and --vdso */
extern int zp_complete ZP_HIDDEN;              /* Syscall User Dispatch is on */
extern uintptr_t zp_text_len ZP_HIDDEN;         /* its allowed region: the runtime's code */
void zp_net_start(void) ZP_HIDDEN;             /* at start, in the first thread */
long zp_net_enable(struct zp_thread *t) ZP_HIDDEN;   /* this thread (a fork child) */
void zp_net_rearm(void) ZP_HIDDEN;             /* after a call let through natively */
long zp_prctl_call(const struct zp_syscall *c) ZP_HIDDEN;
void zp_vdso_hide(const unsigned long *auxv, int hide) ZP_HIDDEN;   /* (or only note it) */
extern uintptr_t zp_vdso_base ZP_HIDDEN;        /* AT_SYSINFO_EHDR, also when hidden */

/* thread.c: run fn(arg) on the thread's runtime stack (from a handler) */
long zp_run_on_stack(long (*fn)(void *), void *arg) ZP_HIDDEN;

/* ---- memory and the rest -------------------------------------------------------- */

/* appmem.c: the application's memory, through the kernel (no fault on a
 * bad pointer): 0 or -EFAULT. */
long zp_app_read(void *dst, const void *src, size_t len) ZP_HIDDEN;
long zp_app_write(void *dst, const void *src, size_t len) ZP_HIDDEN;
/* safemem.S: one 8-byte load or store that returns -EFAULT instead of
 * faulting (segv.c recognizes the instructions): no system call, for the
 * trap path's handler. */
long zp_safe_read8(const void *addr, uint64_t *out) ZP_HIDDEN;
long zp_safe_write8(void *addr, uint64_t value) ZP_HIDDEN;
/* An atomic compare-and-exchange of 2 bytes: 0 if *addr was old (now new),
 * 1 if it was not, -EFAULT if it cannot be written. */
long zp_safe_cmpxchg16(void *addr, uint16_t old, uint16_t new) ZP_HIDDEN;
extern const char zp_safe_read8_insn[] ZP_HIDDEN, zp_safe_write8_insn[] ZP_HIDDEN,
	zp_safe_cmpxchg16_insn[] ZP_HIDDEN;
extern const char zp_safe_fixup[] ZP_HIDDEN;

/* init.c */
extern uintptr_t zp_orig_entry ZP_HIDDEN;
/* The process whose copy of memory the runtime's variables are in: set at
 * start, and in the child of each fork (process.c, entry.S).  A process
 * with another pid shares its parent's memory (a vfork, posix_spawn or
 * CLONE_VM child): it must not change what is the parent's (sigaction.c)
 * nor take over its locks (lock.h). */
extern int zp_owner_pid ZP_HIDDEN;
extern char **zp_environ ZP_HIDDEN;
extern const char *zp_progname ZP_HIDDEN;
void zp_init(unsigned long *sp) ZP_HIDDEN;

/* util.c (the hook helpers of hook.h are defined there too) */
void zp_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2))) ZP_HIDDEN;
ZP_NORETURN void zp_fatal_exit(int status) ZP_HIDDEN;

/* The C compiler may emit calls to these for struct copies and zeroing. */
void *memcpy(void *dst, const void *src, size_t n) ZP_HIDDEN;
void *memset(void *dst, int c, size_t n) ZP_HIDDEN;
void *memmove(void *dst, const void *src, size_t n) ZP_HIDDEN;
int memcmp(const void *a, const void *b, size_t n) ZP_HIDDEN;

#endif /* ZP_RUNTIME_H */
