/*
 * stub.h - the stubs that red-zone sites jump to.
 *
 * A site whose function keeps data in the red zone cannot become `call
 * *%rax` in place: the call would store its return address over that data.
 * Instead the site and whole instructions next to it (at least 5 bytes, see
 * decide.c) are replaced by `jmp stub`, and the stub runs
 *
 *     <the instructions moved from before the site>
 *     lea  -128(%rsp), %rsp      step over the red zone (lea: flags intact)
 *     call *%rax                 the site, as the runtime knows it
 *     lea  128(%rsp), %rsp
 *     <the instructions moved from after the site>
 *     jmp  <back after the window>
 *
 * (patch.c writes the jump; the rest of the window is filled with int3:
 * nothing jumps there.)
 *
 * A thread's exit after it unmapped its own stack (decide.c) has no stack for
 * the call: its stub takes one of the runtime's exit stacks first (picked
 * round-robin with an atomic counter; the exit never comes back), then
 * `call *%rax`.
 */
#ifndef ZP_STUB_H
#define ZP_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "findsites.h"

/* Where the runtime's exit stacks are (link-time addresses in the output). */
struct zp_stub_env {
	uint64_t exit_counter;     /* uint64_t zp_exit_counter */
	uint64_t exit_stacks;      /* ZP_EXIT_STACKS stacks of ZP_EXIT_STACK_SIZE bytes */
};

/* Bytes the stub for s takes. */
size_t zp_stub_size(const struct zp_site *s);

/* Where the parts of s's stub at vaddr begin (for its unwind tables,
 * stubcfi.c): the lea down (or, stackless, the switch to an exit stack),
 * the call, the lea up, the instructions moved from after the site, the
 * jump back. */
struct zp_stub_parts {
	uint64_t down, call, up, post, jmp;
};
void zp_stub_parts(const struct zp_site *s, uint64_t vaddr, struct zp_stub_parts *p);

/* Write the stub for s, to be placed at `vaddr`, into out; `window` holds the
 * original bytes of s's window.  Returns the address of its call *%rax. */
uint64_t zp_stub_emit(const struct zp_site *s, const unsigned char *window, uint64_t vaddr,
		      const struct zp_stub_env *env, unsigned char *out);

#endif /* ZP_STUB_H */
