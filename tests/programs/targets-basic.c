/*
 * targets-basic.c - an ordinary single-threaded C program, as a rewriting target.
 *
 * Used by tests/t-targets-static.sh, built with gcc -static, gcc -static-pie
 * and musl-gcc -static.  It goes through a broad range of libc paths that end
 * in system calls: stdio buffering on stdout and stderr, files (create, write,
 * seek, read back, stat, rename, unlink), directories (mkdir, readdir,
 * rmdir), pipes, fork + wait, malloc of small and large (mmap) blocks,
 * environment, time conversion of a fixed date, setjmp/longjmp, a signal
 * raised and handled, and exit through atexit handlers with a non-zero status.
 * Everything printed is deterministic, so the rewritten program's stdout,
 * stderr and exit status must equal the original's (same_run).  It works in
 * the current directory (the test's temporary directory).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ptest.h"

static jmp_buf jb;
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig) { (void)sig; got_usr1++; }
static void bye(void) { printf("atexit handler ran\n"); fprintf(stderr, "stderr at exit\n"); }

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static volatile int jump_depth;
#pragma GCC diagnostic ignored "-Winfinite-recursion"   /* gcc 12 misses that longjmp ends it */
static __attribute__((noinline)) void jump_deep(int n)
{
	jump_depth = n;
	if (n <= 0)
		longjmp(jb, 42);
	jump_deep(n - 1);
	jump_depth++;           /* not a tail call: the frames pile up */
}

int main(int argc, char **argv)
{
	(void)argc; (void)argv;
	atexit(bye);
	setvbuf(stdout, NULL, _IOFBF, 64);   /* many small writes */
	printf("hello from targets-basic\n");
	fprintf(stderr, "a line on stderr\n");

	/* Files. */
	int fd = open("data.txt", O_CREAT | O_TRUNC | O_RDWR, 0644);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	for (int i = 0; i < 100; i++)
		dprintf(fd, "line %03d\n", i);
	CHECK(lseek(fd, 9 * 50, SEEK_SET) == 450, "lseek");
	char buf[64] = { 0 };
	CHECK(read(fd, buf, 9) == 9, "read");
	printf("read back: %s", buf);
	struct stat st;
	CHECK(fstat(fd, &st) == 0, "fstat");
	printf("size %lld\n", (long long)st.st_size);
	close(fd);
	CHECK(rename("data.txt", "data2.txt") == 0, "rename");
	FILE *f = fopen("data2.txt", "r");
	CHECK(f != NULL, "fopen");
	int lines = 0;
	while (fgets(buf, sizeof buf, f))
		lines++;
	fclose(f);
	printf("lines %d\n", lines);
	CHECK(unlink("data2.txt") == 0, "unlink");
	CHECK(access("data2.txt", F_OK) == -1 && errno == ENOENT, "access after unlink");
	printf("open missing: %s\n", errname(open("no/such/file", O_RDONLY) < 0 ? errno : 0));

	/* Directories. */
	CHECK(mkdir("d", 0755) == 0, "mkdir");
	const char *names[] = { "c", "a", "b" };
	for (int i = 0; i < 3; i++) {
		char p[32];
		snprintf(p, sizeof p, "d/%s", names[i]);
		close(open(p, O_CREAT | O_WRONLY, 0600));
	}
	DIR *d = opendir("d");
	CHECK(d != NULL, "opendir");
	struct dirent *de;
	int count = 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			count++;
	closedir(d);
	printf("dir entries %d\n", count);
	for (int i = 0; i < 3; i++) {
		char p[32];
		snprintf(p, sizeof p, "d/%s", names[i]);
		unlink(p);
	}
	CHECK(rmdir("d") == 0, "rmdir");

	/* Memory: small, large (mmap'ed by malloc), explicit mmap. */
	int *v = malloc(1000 * sizeof *v);
	for (int i = 0; i < 1000; i++)
		v[i] = (i * 7919) % 1000;
	qsort(v, 1000, sizeof *v, cmp_int);
	printf("sorted %d %d %d\n", v[0], v[500], v[999]);
	free(v);
	char *big = malloc(8 << 20);
	memset(big, 'x', 8 << 20);
	printf("big %c\n", big[(8 << 20) - 1]);
	free(big);
	char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap");
	m[100] = 'q';
	CHECK(mprotect(m, 1 << 16, PROT_READ) == 0, "mprotect");
	printf("mmap %c\n", m[100]);
	munmap(m, 1 << 16);

	/* Pipe and a forked child. */
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		close(p[0]);
		const char msg[] = "message from the child";
		if (write(p[1], msg, sizeof msg) != sizeof msg)
			_exit(1);
		_exit(5);
	}
	close(p[1]);
	memset(buf, 0, sizeof buf);
	ssize_t n = read(p[0], buf, sizeof buf);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	printf("child said '%s' (%zd bytes), exit %d\n", buf, n, WEXITSTATUS(status));

	/* Environment, a fixed time, floating point formatting. */
	setenv("TARGETS_VAR", "value", 1);
	printf("env %s\n", getenv("TARGETS_VAR"));
	time_t t = 86400 * 365;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
	printf("time %s\n", buf);
	printf("float %.6f %g\n", 3.14159265358979 * 2, 1e-300 * 1e-10);

	/* A signal handled, and a longjmp. */
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	printf("usr1 %d\n", (int)got_usr1);
	int r = setjmp(jb);
	if (r == 0)
		jump_deep(50);
	printf("longjmp %d\n", r);

	struct timespec ts = { 0, 1000000 };
	nanosleep(&ts, NULL);
	printf("pid matches: %d\n", getpid() == (pid_t)syscall(SYS_getpid));
	return 7;
}
