/*
 * startmimic.c - a static program that does, at start, only what the
 * zprewrite runtime's initializer does, to tell that work's cost apart from
 * the rest of a rewritten program's start-up (bench/run.sh, item 4).
 *
 *   startmimic 0   nothing: the baseline (the same file, the same exec)
 *   startmimic 1   map 8 KiB at address 0 and 12 KiB near 0x2e2e2e2e (the
 *                  trampoline and its landing pages), fill them, make them
 *                  execute-only, as runtime/trampoline.c does
 *   startmimic 3   and fill a 4 KiB table in .bss (the first site table,
 *                  runtime/sitetable.c; larger ones are mapped, but a program's
 *                  own sites fit)
 *   startmimic 7   and install a SIGSEGV handler (runtime/sigaction.c) and ask
 *                  for the thread id (the objects lock, runtime/lock.h)
 * (The runtime executes cpuid only for a hook that needs its vector
 * registers saved: not here, where there is no hook.)
 * Needs what the runtime needs to map page 0: root (CAP_SYS_RAWIO) or
 * vm.mmap_min_addr=0.  Exits 1 if a mapping fails.
 *
 * The runtime does this before the C library starts; here it runs in main(),
 * after it, which is why the landing pages are not asked for at a fixed
 * address (the heap may already be there).
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o startmimic bench/startmimic.c
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void on_segv(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	int what = argc > 1 ? atoi(argv[1]) : 7;

	if (what & 1) {
		char *z = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		char *l = mmap((void *)0x2e2e2000, 12288, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (z != NULL || l == MAP_FAILED)
			return 1;
		/* z is address 0 by design: hide that from the compiler. */
		__asm__("" : "+r"(z));
		memset(l, 0x90, 12288);
		mprotect(l, 12288, PROT_EXEC);
		memset(z, 0x90, 8192);
		mprotect(z, 8192, PROT_EXEC);
	}
	if (what & 2) {
		static unsigned long table[512];
		for (int i = 0; i < 512; i += 4)
			table[i] = (unsigned long)i;
		__asm__("" : : "r"(table) : "memory");
	}
	if (what & 4) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_segv;
		sigaction(SIGSEGV, &sa, NULL);
		gettid();
	}
	return 0;
}
