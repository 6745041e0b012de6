/*
 * zp_abi.h - what the rewriter writes into a patched file for the runtime.
 *
 * This header is shared by rewriter/ (which fills these structures in) and
 * runtime/ (which reads them at start-up); it is the contract between the two
 * halves of zprewrite.  Everything here is fixed-size and little-endian, and
 * holds link-time virtual addresses of the patched object: the runtime adds
 * the object's load bias (its run-time address of `struct zp_desc` minus
 * `self_vaddr`), so the same file works wherever it is loaded.
 *
 * A rewritten file gains these loadable segments, above all the others:
 *
 *   R    .zprewrite        struct zp_desc, the new program header table, the
 *                          site list
 *   R+X  .zprewrite.text   the runtime (code and read-only data) and the
 *                          initializer that e_entry now points to
 *   RW   .zprewrite.data   the runtime's variables (.data and .bss)
 *   (and, with --hook, the hook's own R+X and RW segments)
 *
 * The R segment starts with struct zp_desc, whose magic is how zprewrite
 * recognizes a file it already rewrote.
 */
#ifndef ZP_ABI_H
#define ZP_ABI_H

#include <stdint.h>

#define ZP_MAGIC      "\177ZPREWR"   /* 8 bytes with the terminating NUL */
#define ZP_MAGIC_LEN  8
#define ZP_ABI_VERSION 2

/* zp_desc.flags */
#define ZP_DESC_ENTRY     0x1u  /* e_entry was redirected to the runtime's initializer */
#define ZP_DESC_HOOK      0x2u  /* a hook is embedded (hook_* fields are valid) */
#define ZP_DESC_HOOK_XSAVE 0x4u /* the hook uses vector registers: save them around it */
/* The page-0 policy fixed when rewriting (--page0=), 2 bits; the environment
 * variable ZP_PAGE0 overrides it at run time (docs/runtime.md):
 *   auto     page 0 when it can be mapped execute-only, else the trap path
 *   fast     page 0 whenever it can be mapped, even readable
 *   require  page 0 or a message and exit status 127
 *   never    always the trap path (no mapping at address 0) */
/* --complete: Syscall User Dispatch catches the system calls of code no
 * rewriter saw (runtime/net.c).  --vdso: the vDSO is hidden from the
 * program, so that its functions become system calls the hook sees. */
#define ZP_DESC_COMPLETE  0x20u
#define ZP_DESC_VDSO      0x40u
#define ZP_DESC_PAGE0_SHIFT 3
#define ZP_DESC_PAGE0_MASK  (0x3u << ZP_DESC_PAGE0_SHIFT)
enum zp_page0_policy {
	ZP_PAGE0_AUTO = 0,
	ZP_PAGE0_FAST = 1,
	ZP_PAGE0_REQUIRE = 2,
	ZP_PAGE0_NEVER = 3,
};

/*
 * Where the runtime finds a patched object's sites: `nsites` entries of
 * `sites_vaddr`, sorted, each the address of a patched instruction minus
 * `site_base` (the runtime builds its lookup table from them, for all the
 * rewritten objects of the process together).
 */
struct zp_desc {
	char     magic[ZP_MAGIC_LEN];
	uint32_t abi_version;
	uint32_t flags;
	uint64_t self_vaddr;      /* link-time address of this structure */
	uint64_t orig_entry;      /* the original e_entry (link-time), if ZP_DESC_ENTRY */
	uint64_t runtime_vaddr;   /* where the runtime's text starts (link-time) */
	uint64_t site_base;       /* lowest site address; offsets are relative to it */
	uint64_t site_end;        /* one past the highest site address */
	uint64_t sites_vaddr;     /* uint32_t[nsites] */
	uint32_t nsites;
	uint32_t reserved1;
	/* Embedded hook (ZP_DESC_HOOK): its entry points (0 if not defined) and
	 * the relocations the runtime applies before calling zp_hook_init. */
	uint64_t hook_init;
	uint64_t hook_enter;
	uint64_t hook_leave;
	uint64_t hook_exit;
	uint64_t hook_relocs_vaddr;  /* struct zp_reloc[hook_nrelocs] */
	uint32_t hook_nrelocs;
	uint32_t reserved0;
	/* The dynamic loader's `_r_debug` (link-time), if this object is a
	 * loader: the runtime finds the process's other objects through its
	 * list of loaded objects. */
	uint64_t loader_r_debug;
	uint64_t reserved[3];
};

/* The runtime's stacks for an exit after a thread unmapped its own stack
 * (rewriter/stub.c uses them from stubs; runtime/dispatch.c defines them as
 * zp_exit_stacks and zp_exit_counter).  The exit goes through the hook, so
 * one must hold the entry frame (about 224 bytes), zp_dispatch (about 112),
 * a saved vector state when the hook uses vector registers (up to 2.7 KiB,
 * with AVX-512) and the hook's own budget (2 KiB, hook.h): 8 KiB each. */
#define ZP_EXIT_STACKS 32
#define ZP_EXIT_STACK_SHIFT 13
#define ZP_EXIT_STACK_SIZE (1 << ZP_EXIT_STACK_SHIFT)

/* The red zone of the x86-64 System V ABI: leaf code may keep data in the
 * 128 bytes below the stack pointer, so the runtime's entry (entry.S) steps
 * below it before saving anything, and the rewriter's red-zone analysis
 * (decide.c) and stubs (stub.c) respect it. */
#define ZP_REDZONE 128

/* The site table's hash (runtime/sitetable.c, and entry.S's fast path):
 * slot = (site * ZP_SITE_HASH_MULT) >> shift, Fibonacci hashing. */
#define ZP_SITE_HASH_MULT 0x9e3779b97f4a7c15ull

/* Runtime symbols the rewriter looks up in the runtime blob by name. */
#define ZP_SYM_START        "zp_start"        /* the initializer e_entry points to */
#define ZP_SYM_DESC_OFFSET  "zp_desc_offset"  /* the runtime's link to zp_desc */
#define ZP_SYM_EXIT_STACKS  "zp_exit_stacks"  /* stacks for an exit after munmap of the stack */
#define ZP_SYM_EXIT_COUNTER "zp_exit_counter" /* their round-robin counter */

/* One relocation of an embedded hook: *(uint64_t *)(where + bias) = value + bias. */
struct zp_reloc {
	uint64_t where;
	uint64_t value;
};

#endif /* ZP_ABI_H */
