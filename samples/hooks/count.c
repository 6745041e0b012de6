/*
 * count.c - a sample zprewrite hook: count system calls like `strace -c`.
 *
 *   zprewrite --hook build/samples/count.so PROG PROG.counted
 *   ZP_COUNT_FILE=summary.txt ./PROG.counted
 *
 * When the process ends, prints strace -c's table (% time, seconds,
 * usecs/call, calls, errors, syscall), busiest first, to stderr or to the
 * file named by ZP_COUNT_FILE (appended to).
 *
 * Times are wall-clock latencies of the real call (what strace -c -w shows;
 * plain strace -c shows system CPU time).  With no thread-local storage to
 * carry a start time from zp_hook_enter to zp_hook_leave, the hook makes the
 * call itself with zp_forward() between two clock readings, all in one frame,
 * and returns its result.  Calls that must not be made from inside the hook
 * (they change the stack or the process: clone, fork, vfork, rt_sigreturn,
 * execve) are passed to the runtime and counted with no time; their errors
 * are counted in zp_hook_leave.  exit and exit_group never return and, as in
 * strace -c, are not counted.
 *
 * Only the process that started with the hook prints the table, as strace -c
 * without -f summarises only the process it started: a forked child inherits
 * a copy of the counters made before the fork, so its own table would count
 * its parent's calls again.  A rewritten program that a child executes starts
 * afresh and prints its own table.  Nor are a child's calls counted in the
 * parent's table when the child shares its memory (vfork, posix_spawn): it
 * leaves the counters alone (hu_in_shared_child).
 */
#include "hookutil.h"

#define NSLOTS 513          /* numbers 0..511, and one slot for anything else */
#define OTHER  512

/* Updated with atomic adds from every thread (and from signal handlers that
 * interrupt the hook), read once at exit. */
static uint64_t calls[NSLOTS];
static uint64_t errors[NSLOTS];
static uint64_t time_ns[NSLOTS];

static long owner_pid;

/* Used only by zp_hook_exit, which runs once: static rather than on the stack. */
static uint16_t order[NSLOTS];
static char table[NSLOTS * 80 + 512];

static int slot_of(long nr)
{
	return nr >= 0 && nr < OTHER ? (int)nr : OTHER;
}

static int passed_through(long nr)
{
	switch (nr) {
	case __NR_clone:
	case __NR_clone3:
	case __NR_fork:
	case __NR_vfork:
	case __NR_rt_sigreturn:
	case __NR_execve:
	case __NR_execveat:
		return 1;
	}
	return 0;
}

static void add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	(void)proc;
	owner_pid = zp_getpid();
	hu_out_init("ZP_COUNT_FILE", "zprewrite-count", 1);
	return 0;
}

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	long nr = call->nr, r;
	int slot = slot_of(nr);
	uint64_t t0, t1;

	r = hu_out_guard(call);
	if (hu_in_shared_child())
		return r;   /* a vfork child's calls are its own, not its parent's */
	if (r != ZP_PASS) {
		/* The application touched our descriptor: answered here. */
		add(&calls[slot], 1);
		if (hu_is_error(r))
			add(&errors[slot], 1);
		return r;
	}
	if (nr == __NR_exit || nr == __NR_exit_group)
		return ZP_PASS;
	if (passed_through(nr)) {
		add(&calls[slot], 1);
		return ZP_PASS;
	}
	t0 = zp_clock_ns();
	r = zp_forward(call);
	t1 = zp_clock_ns();
	add(&calls[slot], 1);
	if (r == ZP_PASS)
		return r;   /* one only the runtime can make: its errors are counted in leave */
	add(&time_ns[slot], t1 - t0);
	if (hu_is_error(r))
		add(&errors[slot], 1);
	return r;
}

ZP_HOOK_EXPORT long zp_hook_leave(const struct zp_syscall *call, long result)
{
	/* Only calls passed through above get here; checking again keeps the
	 * errors exact whatever the runtime does with calls the hook answered
	 * (and a fork's child, if it gets here, has a result of 0). */
	if (passed_through(call->nr) && hu_is_error(result) && !hu_in_shared_child())
		add(&errors[slot_of(call->nr)], 1);
	return result;
}

/* Order: most time first, then most calls, then by number. */
static int before(int a, int b)
{
	if (time_ns[a] != time_ns[b])
		return time_ns[a] > time_ns[b];
	if (calls[a] != calls[b])
		return calls[a] > calls[b];
	return a < b;
}

/* "12.34": hundredths of a percent, rounded, in integers only. */
static void put_percent(struct hu_sb *sb, uint64_t part, uint64_t whole)
{
	uint64_t p = 0;

	/* Keep part * 20000 from overflowing (only past ~10 days of calls). */
	while (whole > (UINT64_MAX / 20000)) {
		part >>= 1;
		whole >>= 1;
	}
	if (whole)
		p = (part * 20000 + whole) / (2 * whole);
	hu_sb_printf(sb, "%3lu.%02lu", (unsigned long)(p / 100), (unsigned long)(p % 100));
}

static void put_row(struct hu_sb *sb, const char *pct_or_null, uint64_t t,
		    uint64_t total, uint64_t n, uint64_t errs, const char *name)
{
	uint64_t us = (t + 500) / 1000;
	char secs[32], errbuf[24];

	if (pct_or_null)
		hu_sb_puts(sb, pct_or_null);
	else
		put_percent(sb, t, total);
	zp_snprintf(secs, sizeof(secs), "%lu.%06lu", (unsigned long)(us / 1000000),
		    (unsigned long)(us % 1000000));
	errbuf[0] = '\0';
	if (errs)
		zp_snprintf(errbuf, sizeof(errbuf), "%lu", (unsigned long)errs);
	hu_sb_printf(sb, " %11s %11lu %9lu %9s %s\n", secs,
		     (unsigned long)(n ? t / n / 1000 : 0), (unsigned long)n, errbuf, name);
}

ZP_HOOK_EXPORT void zp_hook_exit(int status)
{
	static const char rule[] =
		"------ ----------- ----------- --------- --------- ----------------\n";
	uint64_t total_t = 0, total_n = 0, total_e = 0;
	struct hu_sb sb;
	int i, j, n = 0;

	(void)status;
	if (zp_getpid() != owner_pid)
		return;
	for (i = 0; i < NSLOTS; i++) {
		uint64_t c = __atomic_load_n(&calls[i], __ATOMIC_RELAXED);

		if (!c)
			continue;
		total_n += c;
		total_t += __atomic_load_n(&time_ns[i], __ATOMIC_RELAXED);
		total_e += __atomic_load_n(&errors[i], __ATOMIC_RELAXED);
		/* insertion sort: a few dozen distinct calls in practice */
		for (j = n; j > 0 && before(i, order[j - 1]); j--)
			order[j] = order[j - 1];
		order[j] = (uint16_t)i;
		n++;
	}

	hu_sb_init(&sb, table, sizeof(table));
	hu_sb_puts(&sb, "% time     seconds  usecs/call     calls    errors syscall\n");
	hu_sb_puts(&sb, rule);
	for (j = 0; j < n; j++) {
		int s = order[j];
		const char *name = s == OTHER ? 0 : zp_syscall_name(s);
		char unknown[24];

		if (!name) {
			if (s == OTHER)
				zp_snprintf(unknown, sizeof(unknown), "syscall_other");
			else
				zp_snprintf(unknown, sizeof(unknown), "syscall_0x%x", s);
			name = unknown;
		}
		put_row(&sb, 0, time_ns[s], total_t, calls[s], errors[s], name);
	}
	hu_sb_puts(&sb, rule);
	put_row(&sb, "100.00", total_t, total_t, total_n, total_e, "total");
	hu_out_write(table, sb.len);
}
