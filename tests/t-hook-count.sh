#!/usr/bin/env bash
# t-hook-count.sh - the count sample hook (samples/hooks/count.c), embedded
# with `zprewrite --hook`, counts exactly the calls a program made.
#
#  1. A static program (built here; glibc, and musl if installed) makes
#     exactly N=1000 raw getppid calls (syscall 110, one inline `syscall`
#     site in a loop) and checks each result: the table (ZP_COUNT_FILE)
#     says 1000 calls for getppid, its total row adds up, and for glibc
#     every row's call count equals what `strace -f -c` counts for the
#     unpatched program (less execve, which happens before the hook exists).
#  2. The same with 8 threads x 1000 getppid (and none in main): 8000,
#     with no lost update (the hook's atomic counters) and no thread lost.
#  3. busybox rewritten with count.so: for a few commands, stdout and exit
#     status equal the original's, and a count table (with a total row, and
#     a write row when a single process printed; one more table per rewritten
#     busybox a pipeline executes afresh) lands in ZP_COUNT_FILE, not
#     in the workload's output; `ls /proc/self/fd` lists the same
#     descriptors (the hook opens its file only to write the table).
#
# How it fails: a runtime that misses calls, enters the hook twice for one
# call, loses calls from threads, or does not call zp_hook_exit (no table)
# gives wrong numbers or no table; a hook that breaks the calls it forwards
# with zp_forward() changes the program's results (the program checks them)
# or busybox's output.
# 1 to 3 run in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534; strace runs once, on the original, as root).
source "$TESTS/harness.sh"

COUNT_SO=$BUILD/samples/count.so
[ -f "$COUNT_SO" ] || fail "missing $COUNT_SO (run make)"

cat > getppid.c <<'EOF'
/* getppid N [THREADS]: exactly N raw getppid calls in each of THREADS threads
 * (or in main if THREADS is 0), each result checked. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long n, ppid, bad;

static long raw_getppid(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(110L) : "rcx", "r11", "memory");
	return r;
}

static void *loop(void *arg)
{
	(void)arg;
	for (long i = 0; i < n; i++)
		if (raw_getppid() != ppid)
			__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 0;
	pthread_t t[64];

	n = argc > 1 ? atol(argv[1]) : 1000;
	ppid = getppid();          /* libc's wrapper: another site, counted too */
	if (threads == 0)
		loop(NULL);
	for (int i = 0; i < threads && i < 64; i++)
		if (pthread_create(&t[i], NULL, loop, NULL))
			return 2;
	for (int i = 0; i < threads && i < 64; i++)
		pthread_join(t[i], NULL);
	printf("done, %ld bad\n", bad);
	return bad != 0;
}
EOF

# count_of TABLE NAME: the "calls" column of NAME's row (empty if none).
count_of() { awk -v n="$2" '$NF == n { print ($(NF-1) ~ /^[0-9]+$/ && NF == 6) ? $(NF-2) : $(NF-1); exit }' "$1"; }
# rows TABLE: "name calls" for every row but total, sorted.
rows() { awk 'NF >= 5 && $1 ~ /^[0-9]+\.[0-9]+$/ && $NF != "total" { print $NF, (NF == 6 ? $(NF-2) : $(NF-1)) }' "$1" | LC_ALL=C sort; }

# tables_add_up FILE: FILE holds one or more tables (a rewritten program that
# a child executes prints its own); in each, the total row is the sum of the
# others.  The number of tables goes to tables.out.
tables_add_up() {
	awk '
		/^% time/ { if (open) bad = bad " table " t " has no total row;"; open = 1; t++; sum = 0; next }
		NF >= 5 && $1 ~ /^[0-9]+\.[0-9]+$/ {
			c = (NF == 6) ? $(NF-2) : $(NF-1)
			if ($NF == "total") { if (c != sum) bad = bad " table " t ": rows add up to " sum ", total says " c ";"; open = 0 }
			else sum += c
		}
		END { if (open) bad = bad " table " t " has no total row;"; if (t == 0) bad = " no table;"
		      if (bad != "") { print bad; exit 1 } print t }' "$1" > tables.out ||
		{ zph_diag "$1:$(cat tables.out)"; zph_diag "$(cat "$1")"; return 1; }
}
# one_table FILE: exactly one table, which adds up.
one_table() { tables_add_up "$1" && [ "$(cat tables.out)" = 1 ]; }
# counted FILE NAME N: NAME's row says N calls.
counted() {
	local c; c=$(count_of "$1" "$2")
	[ "$c" = "$3" ] || { note "  $2 counted ${c:-0} times, expected $3"; zph_diag "$(cat "$1")"; return 1; }
}

# Built and rewritten once; strace -f -c of the unpatched glibc program once.
flavours=(static)
command -v musl-gcc >/dev/null && flavours+=(musl)
fls=()
for fl in "${flavours[@]}"; do
	cc=gcc; [ $fl = musl ] && cc=musl-gcc
	$cc -O2 -static -pthread -o getppid.$fl getppid.c || fail "cannot build the test program ($cc)"
	rewrite getppid.$fl getppid.$fl.z --hook "$COUNT_SO" || continue
	fls+=("$fl")
done
STRACE_ROWS=""
if [[ " ${fls[*]} " == *" static "* ]]; then
	if strace_ok strace.err -f -c -o strace.c ./getppid.static 1000 0 > out1.strace; then
		check "static: strace -f -c wrote a table" [ -s strace.c ]
		rows strace.c | grep -v '^execve ' > strace.rows
		STRACE_ROWS=strace.rows
	else
		STRACE_WHY_ONCE=$STRACE_WHY
	fi
fi

# count_run FL N THREADS WHAT: run getppid.FL.z with THREADS threads of 1000
# raw calls into countN.FL, and check it ran and counted WHAT+1 getppid (the
# raw ones and libc's one) in one table that adds up.
count_run() {
	local fl=$1 n=$2 threads=$3 what=$4 total
	total=$(( (threads > 0 ? threads : 1) * 1000 + 1 ))
	rm -f count$n.$fl
	# (stdout to a file in both runs: glibc's stdio makes different calls for
	# a pipe, a file and a terminal)
	ZP_COUNT_FILE=count$n.$fl run_t out$n ./getppid.$fl.z 1000 "$threads"
	check "$fl: $what: the patched program runs" [ "$RUN_RC" = 0 ]
	check "$fl: $what: the patched program says 'done, 0 bad'" [ "$(cat out$n.out)" = "done, 0 bad" ]
	check "$fl: $what: one count table (not one per thread), adding up" one_table count$n.$fl
	check "$fl: $what: getppid counted $total times" counted count$n.$fl getppid $total
}

getppid_checks() {
	local fl
	for fl in "${fls[@]}"; do
		count_run "$fl" 1 0 "1 thread"         # 1000 raw calls + libc's one
		if [ $fl = static ]; then
			if [ -n "$STRACE_ROWS" ]; then
				rows count1.$fl > count.rows
				check "$fl: every row equals strace -f -c's (- strace, + hook)" diff -u "$STRACE_ROWS" count.rows
			else
				skip_check "$fl: every row equals strace -f -c's" "$STRACE_WHY_ONCE"
			fi
		fi
		count_run "$fl" 8 8 "8 threads x 1000"
	done
}

# ---- busybox ------------------------------------------------------------------

BB=$(command -v busybox || true)
if [ -n "$BB" ] && file -L "$BB" | grep -q 'statically linked'; then
	mkdir -p bb
	rewrite "$BB" bb/busybox --hook "$COUNT_SO" || BB=""
else
	BB="" BB_WHY="no static busybox installed"
fi
printf 'banana\napple\ncherry\napple\n' > fruit
# write_counted: count.so counted a write in bb.count.
write_counted() { [ "$(rows bb.count | awk '$1 == "write" { s += $2 } END { print s + 0 }')" -ge 1 ]; }
busybox_checks() {
	local cmd
	[ -n "$BB" ] || { [ -z "${BB_WHY:-}" ] || skip_check "busybox with count.so" "$BB_WHY"; return 0; }
	while IFS= read -r cmd; do
		rm -f bb.count
		ZPT_EXPECT_RC='' ZP_COUNT_FILE=$PWD/bb.count check_same "busybox sh -c '$cmd': output unchanged" \
			"$BB" bb/busybox sh -c "$cmd"
		check "busybox sh -c '$cmd': count tables that add up" tables_add_up bb.count
		# (in a pipeline the writing may be done by a forked child, whose calls
		# count.c leaves out by design, as strace -c without -f does)
		if [ -s orig.out ] && [[ $cmd != *'|'* ]]; then
			check "busybox sh -c '$cmd': a write counted" write_counted
		fi
	done <<'EOF'
echo hi
sort fruit | uniq -c
ls -la / > /dev/null; cat fruit | wc -l
cat /nonexistent
for i in 1 2 3; do echo $i; done | md5sum
ls /proc/self/fd
EOF
}

all_checks() { getppid_checks; busybox_checks; }
in_paths all_checks
