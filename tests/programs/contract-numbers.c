/*
 * contract-numbers.c - system call numbers the kernel does not know.
 *
 * Used by tests/t-contract-nosys.sh (numbers inside page 0) and
 * tests/t-contract-numbers.sh (the rest).  A rewritten site is `call *%rax`:
 * the number is the address called.  The kernel answers an unknown number
 * with -ENOSYS, so the rewritten program must too, whatever rax holds; it
 * must not crash or jump somewhere else.  Every mode makes raw calls from
 * one inline `syscall` site and prints the results (deterministic), so the
 * scripts compare the runs.
 *   nosys       every number from 512 to 4095 (page 0 of the trampoline),
 *               and the unassigned gap 387-423; 512, 1000, 4095 named
 *   page1       4096 to 8191: beyond page 0
 *   big         8192, 65536, 2^31-1, 2^32-1
 *   negative    -1, -2, -1000, INT_MIN (the kernel takes the low 32 bits
 *               as a signed int: all -ENOSYS)
 *   noncanonical  rax that is no canonical address: LONG_MIN (the kernel
 *               sees 0: read(-1), EBADF), getpid with bit 63 or bit 47 set
 *               (the kernel sees getpid); `call *%rax` to such an address
 *               faults on the call itself, not at the target
 *   x32         the x32 bit 0x40000000 with getpid's x32 number and with 512
 *               (the kernel runs them only if x32 support is enabled)
 *   high32      getpid with bit 32 set: the kernel ignores the upper half of
 *               rax, so this is getpid
 *   with-segv-handler  -1, an x32 number and 65536 after the program set a
 *               SIGSEGV handler of its own (the runtime answers such numbers
 *               from its own SIGSEGV handler)
 */
#include <limits.h>
#include <signal.h>
#include <stdint.h>

#include "ptest.h"

static void app_segv(int sig)
{
	(void)sig;
	say("the program's SIGSEGV handler ran\n");
	_exit(3);
}

static __attribute__((noinline)) long call_nr(long nr)
{
	/* Arguments that make no known call do harm. */
	return raw_syscall6(nr, -1, 0, 0, 0, 0, 0);
}

static void show(const char *what, long nr)
{
	char rb[32];
	long r = call_nr(nr);
	if (r == getpid())
		say("%s (rax %#lx): the pid\n", what, (unsigned long)nr);
	else
		say("%s (rax %#lx): %s\n", what, (unsigned long)nr, rawres(r, rb, sizeof rb));
}

static void range(long lo, long hi)
{
	long nosys = 0, other = 0;
	char rb[32];
	for (long nr = lo; nr <= hi; nr++) {
		long r = call_nr(nr);
		if (r == -ENOSYS) {
			nosys++;
		} else {
			other++;
			if (other <= 5)
				say("  number %ld: %s\n", nr, rawres(r, rb, sizeof rb));
		}
	}
	say("numbers %ld..%ld: %ld -ENOSYS, %ld other\n", lo, hi, nosys, other);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: %s MODE", argv[0]);
	const char *m = argv[1];
	if (!strcmp(m, "nosys")) {
		show("512", 512);
		show("1000", 1000);
		show("4095", 4095);
		range(387, 423);
		range(512, 4095);
	} else if (!strcmp(m, "page1")) {
		show("4096", 4096);
		range(4096, 8191);
	} else if (!strcmp(m, "big")) {
		show("8192", 8192);
		show("65536", 65536);
		show("2^31-1", INT_MAX);
		show("2^32-1", 0xffffffffL);
	} else if (!strcmp(m, "negative")) {
		show("-1", -1);
		show("-2", -2);
		show("-1000", -1000);
		show("INT_MIN", INT_MIN);
	} else if (!strcmp(m, "noncanonical")) {
		show("LONG_MIN", LONG_MIN);
		show("getpid with bit 63", LONG_MIN | SYS_getpid);
		show("getpid with bit 47", (1L << 47) | SYS_getpid);
	} else if (!strcmp(m, "with-segv-handler")) {
		/* The program has its own SIGSEGV handler (as many do): the
		 * numbers are still answered, not turned into its SIGSEGV, and
		 * the handler it reads back first is the default one. */
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = app_segv;
		CHECK(sigaction(SIGSEGV, &sa, &old) == 0, "sigaction");
		say("SIGSEGV before: %s\n", old.sa_handler == SIG_DFL ? "default" : "not the default");
		show("-1", -1);
		show("x32 getpid", 0x40000000L | 39);
		show("65536", 65536);
	} else if (!strcmp(m, "x32")) {
		show("x32 getpid", 0x40000000L | 39);
		show("x32 512", 0x40000000L | 512);
	} else if (!strcmp(m, "high32")) {
		show("getpid with bit 32", (1L << 32) | SYS_getpid);
	} else {
		die("unknown mode %s", m);
	}
	say("%s: done\n", m);
	return 0;
}
