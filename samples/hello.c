/*
 * hello.c - a small program to rewrite: a few system calls, each visible in
 * the trace hook's output.
 *
 * `make` builds it (static) into build/samples/hello; `make demo` rewrites it
 * with the trace hook and runs it.  By hand:
 *
 *   build/zprewrite --list build/samples/hello        # its system-call sites
 *   build/zprewrite --hook build/samples/trace.so build/samples/hello hello.traced
 *   ./hello.traced                                     # (as root: page 0)
 *
 * Every call below is made through libc, whose wrappers each end in a
 * `syscall` instruction: those are the sites zprewrite patches.  The program
 * itself neither knows nor cares that it was rewritten.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	const char *msg = "hello from a rewritten program\n";
	char buf[64] = "";
	ssize_t n;
	int fd;

	/* write(2): the message, straight to standard output. */
	if (write(STDOUT_FILENO, msg, strlen(msg)) < 0)
		return 1;

	/* getpid(2): a call without arguments. */
	printf("my pid is %d\n", (int)getpid());

	/* openat(2), read(2), close(2): the first line of a file every Linux
	 * system has.  A failed call is traced too (with its errno). */
	fd = open("/proc/self/comm", O_RDONLY);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("my name is %s", n > 0 ? buf : "?\n");
	if (open("/nonexistent", O_RDONLY) < 0)
		printf("/nonexistent cannot be opened, as expected\n");

	/* exit_group(2), through exit() after stdio's final write. */
	return 0;
}
