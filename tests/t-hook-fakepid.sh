#!/usr/bin/env bash
# t-hook-fakepid.sh - the fakepid sample hook (samples/hooks/fakepid.c),
# embedded with `zprewrite --hook`, answers getpid() itself, and the answer
# is always the true pid.
#
# A static program (built here; glibc, and musl if installed) compares
# getpid() - libc's wrapper and a raw inline `syscall`, both of which the
# hook answers - with what the kernel says through calls the hook does not
# answer: gettid() in a main thread, the first field of /proc/self/stat, the
# return value of fork/vfork/posix_spawn in the parent, and getppid() in a
# child of a child.  Checked in: the main process (before and after each
# child), a thread, a fork child (and its own fork child), a vfork child
# (glibc's and musl's vfork(), which share memory with the parent), and a
# program started with posix_spawn (clone with CLONE_VM|CLONE_VFORK, then
# execve of the same rewritten program).  Every failed comparison prints a
# line and makes the exit status non-zero.
# Then `strace -f -e trace=getpid` of the rewritten program making 10000 raw
# getpid calls must show far fewer than 10000 real getpid system calls
# (< 100), while strace of the unpatched program shows all 10000: the hook
# really answers without the kernel.
#
# How it fails: a stale cache (a child seeing its parent's pid, or the
# parent seeing a vfork child's pid after the child wrote into the shared
# memory), a runtime that calls zp_hook_leave in a child or not at all in
# the parent (the cache stays off: the strace count catches it), or a
# runtime that ignores the hook's answer (the strace count again).
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534; strace of the unpatched program once, as root).
source "$TESTS/harness.sh"

FAKEPID_SO=$BUILD/samples/fakepid.so
[ -f "$FAKEPID_SO" ] || fail "missing $FAKEPID_SO (run make)"

cat > prog.c <<'EOF'
/* getpid() against the kernel's other ways of telling the pid; see
 * t-hook-fakepid.sh.  Usage: prog check | prog child | prog loop N */
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;
static int bad;

static long raw_getpid(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_getpid) : "rcx", "r11", "memory");
	return r;
}

static long raw_gettid(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_gettid) : "rcx", "r11", "memory");
	return r;
}

static long stat_pid(void)
{
	char buf[64] = "";
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f || !fgets(buf, sizeof buf, f))
		return -1;
	fclose(f);
	return atol(buf);
}

/* Report on stdout with one write (stdio buffers would be copied by fork). */
static void report(const char *where, long got, long want)
{
	char line[160];
	int n;

	if (got == want)
		return;
	n = snprintf(line, sizeof line, "WRONG %s: getpid %ld, kernel says %ld\n", where, got, want);
	if (write(1, line, n) < 0)
		_exit(9);
	bad = 1;
}

/* In a single-threaded process: everything about the pid must agree. */
static int check_self(const char *where, long want)
{
	int before = bad;
	char w[96];
	long tid = raw_gettid();

	snprintf(w, sizeof w, "%s (gettid)", where);
	report(w, tid, want);
	snprintf(w, sizeof w, "%s (libc getpid)", where);
	report(w, getpid(), want);
	snprintf(w, sizeof w, "%s (raw getpid)", where);
	report(w, raw_getpid(), want);
	snprintf(w, sizeof w, "%s (/proc/self/stat)", where);
	report(w, stat_pid(), want);
	return bad != before;
}

static void *thread(void *pid)
{
	report("thread (raw getpid)", raw_getpid(), (long)pid);
	report("thread (libc getpid)", getpid(), (long)pid);
	return NULL;
}

static volatile long vchild_getpid, vchild_tid;

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "check";
	long pid, child, n;
	int st, fds[2];
	pthread_t t;

	if (!strcmp(mode, "loop")) {
		n = argc > 2 ? atol(argv[2]) : 10000;
		pid = raw_gettid();
		for (long i = 0; i < n; i++)
			if (raw_getpid() != pid)
				bad = 1;
		return bad;
	}
	if (!strcmp(mode, "child"))       /* started by posix_spawn */
		return check_self("posix_spawn child", raw_gettid()) ? 1 : 0;

	pid = raw_gettid();
	check_self("main", pid);

	/* a thread */
	if (pthread_create(&t, NULL, thread, (void *)pid) || pthread_join(t, NULL))
		return 8;
	check_self("main after a thread", pid);

	/* fork: the child's getpid is its own; the parent knows it too */
	if (pipe(fds))
		return 8;
	child = fork();
	if (child == 0) {
		long me = raw_gettid(), grandchild;
		int cst;

		check_self("fork child", me);
		if (write(fds[1], &me, sizeof me) != sizeof me)
			_exit(9);
		grandchild = fork();
		if (grandchild == 0) {
			check_self("fork grandchild", raw_gettid());
			report("fork grandchild (getppid vs parent's getpid)", syscall(SYS_getppid), me);
			_exit(bad);
		}
		waitpid(grandchild, &cst, 0);
		if (!WIFEXITED(cst) || WEXITSTATUS(cst))
			bad = 1;
		report("fork child after its own fork", getpid(), me);
		_exit(bad);
	}
	if (read(fds[0], &n, sizeof n) != sizeof n)
		return 8;
	report("fork: parent's fork() result vs child's gettid", child, n);
	waitpid(child, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		bad = 1;
	check_self("main after fork", pid);

	/* vfork: the child runs in the parent's memory until it exits */
	child = vfork();
	if (child == 0) {
		vchild_getpid = raw_getpid();
		vchild_tid = raw_gettid();
		_exit(0);
	}
	waitpid(child, &st, 0);
	report("vfork child (raw getpid vs gettid)", vchild_getpid, vchild_tid);
	report("vfork child (raw getpid vs vfork() result)", vchild_getpid, child);
	check_self("main after vfork", pid);

	/* a second vfork, whose child asks through libc's getpid */
	child = vfork();
	if (child == 0) {
		vchild_getpid = getpid();
		_exit(0);
	}
	waitpid(child, &st, 0);
	report("vfork child (libc getpid vs vfork() result)", vchild_getpid, child);
	check_self("main after the second vfork", pid);

	/* posix_spawn of this same (rewritten) program */
	{
		pid_t sp;
		char *av[] = { argv[0], "child", NULL };

		if (posix_spawn(&sp, "/proc/self/exe", NULL, NULL, av, environ))
			return 8;
		waitpid(sp, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad = 1;
		check_self("main after posix_spawn", pid);
	}
	printf("%s\n", bad ? "pid checks FAILED" : "pid checks passed");
	return bad;
}
EOF

# Built and rewritten once; strace of the unpatched glibc program once.
flavours=(static)
command -v musl-gcc >/dev/null && flavours+=(musl)
fls=()
for fl in "${flavours[@]}"; do
	cc=gcc; [ $fl = musl ] && cc=musl-gcc
	$cc -O2 -static -pthread -o prog.$fl prog.c || fail "cannot build the test program ($cc)"
	rewrite prog.$fl prog.$fl.z --hook "$FAKEPID_SO" || continue
	fls+=("$fl")
done
STRACE_WHY_ONCE=""
if strace_ok strace.err -f -qq -e trace=getpid -o strace.orig ./prog.static loop 10000; then
	orig=$(grep -c 'getpid()' strace.orig || true)
	check "static: strace sees the unpatched program's 10000 getpid calls" [ "$orig" -ge 10000 ]
else
	STRACE_WHY_ONCE=$STRACE_WHY
fi

fakepid_checks() {
	local fl patched
	for fl in "${fls[@]}"; do
		run_t orig ./prog.$fl check
		check "$fl: the unpatched program passes its own checks" [ "$RUN_RC" = 0 ]
		last_ok || zph_diag "$(cat orig.out)"
		run_t patched ./prog.$fl.z check
		cat patched.err >>patched.out
		check "$fl: with fakepid.so, the program passes its own checks" [ "$RUN_RC" = 0 ]
		check "$fl: with fakepid.so, getpid is right in main, a thread, fork children, vfork children, a posix_spawn child" \
			[ "$(cat patched.out)" = "pid checks passed" ]
		last_ok || zph_diag "$(cat patched.out)"

		# Does the hook answer without the kernel?  Count real getpid calls
		# (strace as root, the program as the mode runs it).
		[ $fl = static ] || continue
		if [ -n "$STRACE_WHY_ONCE" ]; then
			skip_check "$fl: the hook answers getpid without the kernel" "$STRACE_WHY_ONCE"
			continue
		fi
		# shellcheck disable=SC2086
		check "$fl: the rewritten program runs under strace" \
			timeout -k 5 "$RUN_TIMEOUT" strace -f -qq -e trace=getpid -o strace.z ${ZPT_RUN_AS:-} ./prog.$fl.z loop 10000
		patched=$(grep -c 'getpid()' strace.z || true)
		check "$fl: the hook answers getpid without the kernel (strace sees under 100 of 10000)" [ "$patched" -lt 100 ]
		note "$fl: 10000 getpid calls: strace sees $orig unpatched, $patched with fakepid.so"
	done
}
in_paths fakepid_checks
