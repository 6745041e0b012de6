/*
 * hook-getppid.c - a program with a known number of one system call.
 *
 * Used by tests/t-hook-runs.sh to prove that an embedded hook really sees the
 * calls: it makes exactly N (argv[1], default 1000) raw getppid calls from
 * one inline `syscall` site, plus whatever libc's start-up and exit make, and
 * no other getppid.  The test compares the hook's count of getppid with N and
 * with what `strace -f -c` counts for the unpatched program, and the hook's
 * count of every other call with strace's.  The results are checked too: a
 * hook that answered getppid itself with a wrong value would be caught.
 */
#include "ptest.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	long ppid = raw_syscall0(SYS_getppid), bad = 0;

	for (long i = 1; i < n; i++)
		if (raw_syscall0(SYS_getppid) != ppid)
			bad++;
	CHECK(bad == 0, "getppid changed %ld times", bad);
	printf("made %ld getppid calls\n", n);
	return 0;
}
