/*
 * tcount.c - test hook: counts the system calls it sees, using the runtime's
 * helpers, and reports at exit.
 *
 * Built by the test scripts (tests/zptest.sh: build_test_hook) and embedded
 * with `zprewrite --hook`.  It proves that the hook really runs and sees
 * exactly the calls the program makes:
 *   - counts every call per number (0..511, one slot for the rest), and
 *     separately the number $ZPT_COUNT_NR (default getppid, 110);
 *   - with $ZPT_FORWARD=1 it makes the calls itself with zp_forward()
 *     (except those that change the stack or the process, which it passes
 *     back to the runtime), so the helpers' path is the one exercised;
 *   - checks that every call has a site (call->site != 0);
 *   - at exit_group, in the process that started with it (not in forked or
 *     vforked children, which inherit or share the counters), appends
 *     "count N", "total N", "nosite N" and one "NAME N" line per number
 *     seen to the file $ZPT_COUNT_FILE.
 * Uses zp_getenv, zp_strtol, zp_snprintf, zp_syscall_name, zp_forward,
 * zp_getpid, zp_syscall6 and zp_write_all.  General registers only, atomic
 * counters, no TLS.
 */
#include <zprewrite/hook.h>
#include <asm/unistd.h>

#define SLOTS 513
static uint64_t per_nr[SLOTS];
static uint64_t nr_count, total, nosite;
static long count_nr = __NR_getppid;
static long owner;
static int forward;
static char path[400];

static void add(uint64_t *c) { __atomic_fetch_add(c, 1, __ATOMIC_RELAXED); }

ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	const char *v;
	(void)proc;
	owner = zp_getpid();
	v = zp_getenv("ZPT_COUNT_NR");
	if (v && *v)
		count_nr = zp_strtol(v, 0, 10);
	v = zp_getenv("ZPT_FORWARD");
	forward = v && v[0] == '1';
	v = zp_getenv("ZPT_COUNT_FILE");
	if (v && zp_strlen(v) < sizeof path)
		zp_memcpy(path, v, zp_strlen(v) + 1);
	return 0;
}

static int special(long nr)
{
	switch (nr) {
	case __NR_clone: case __NR_clone3: case __NR_fork: case __NR_vfork:
	case __NR_rt_sigreturn: case __NR_execve: case __NR_execveat:
	case __NR_exit: case __NR_exit_group:
		return 1;
	}
	return 0;
}

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	long nr = call->nr;
	add(&per_nr[nr >= 0 && nr < SLOTS - 1 ? nr : SLOTS - 1]);
	add(&total);
	if (nr == count_nr)
		add(&nr_count);
	if (!call->site)
		add(&nosite);
	if (forward && !special(nr))
		return zp_forward(call);
	return ZP_PASS;
}

ZP_HOOK_EXPORT void zp_hook_exit(int status)
{
	static char buf[SLOTS * 40 + 200];   /* static: runs once per process */
	size_t n = 0;
	(void)status;
	if (!path[0] || zp_getpid() != owner)
		return;
	n += (size_t)zp_snprintf(buf + n, sizeof buf - n, "count %lu\ntotal %lu\nnosite %lu\n",
				 (unsigned long)nr_count, (unsigned long)total, (unsigned long)nosite);
	for (int i = 0; i < SLOTS && n < sizeof buf - 64; i++) {
		if (!per_nr[i])
			continue;
		const char *name = i < SLOTS - 1 ? zp_syscall_name(i) : "other";
		if (name)
			n += (size_t)zp_snprintf(buf + n, sizeof buf - n, "%s %lu\n", name, (unsigned long)per_nr[i]);
		else
			n += (size_t)zp_snprintf(buf + n, sizeof buf - n, "syscall_%d %lu\n", i, (unsigned long)per_nr[i]);
	}
	long fd = zp_syscall6(__NR_open, (long)path, 02000 | 01 | 0100 | 02000000 /* APPEND WRONLY CREAT CLOEXEC */,
			      0644, 0, 0, 0);
	if (fd < 0)
		return;
	zp_write_all((int)fd, buf, n);
	zp_syscall6(__NR_close, fd, 0, 0, 0, 0, 0);
}
