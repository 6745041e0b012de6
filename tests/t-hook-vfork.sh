#!/usr/bin/env bash
# t-hook-vfork.sh - the sample hooks keep out of the way of children that
# share the program's memory, and keep their own output whole.
#
# hook-vfork (tests/programs/) opens its own files (fds 3 and 4), runs
# CPython-style subprocess children (vfork, close_range from 3 up, exec),
# a posix_spawn child, vfork + exec children that dup2 over fds 500 and 1000,
# and a fork child that closes everything from 3 up; then it writes to and
# closes its own fds and checks its files' contents.  For every build
# (static, static-pie, musl, bundled dynamic) it is rewritten with no hook
# and with each sample hook, and each run must print what the original
# prints, and:
#   trace    the log (ZP_TRACE_FILE, and stderr without it) ends with the
#            program's "+++ exited with 0 +++" and has the program's
#            close(3) = 0, each child's execve, close_range and
#            sched_yield, and the fork child's write after its close_range;
#   count    ZP_COUNT_FILE holds one table, with only the program's own
#            calls: sched_yield 1 and dup2 1 (the vfork children's are not
#            the program's), no close_range nor execve; its rows equal
#            strace -c's (without -f) for the original, where strace works;
#   deny     ZP_DENY=sched_yield refuses the program's and both vfork
#            children's calls: three lines on stderr, nothing else;
#   fakepid  getpid in the vfork and fork children is the child's own;
#   example-openlog  the summary (last line) counts the program's own opens,
#            not the children's /dev/null (whose lines are all in the log).
# Then the case first reported: python3, bundled with count and with trace,
# opens a file (fd 3), runs subprocess.run(["/bin/true"]) and closes it.
# How it fails: a hook that changes its memory in a vfork child (records a
# new number for its log descriptor, counts the child's calls) takes the
# program's fd 3 (its close fails, hook output lands in its file) or prints
# the child's calls as the parent's.
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534; strace -c of the originals once, as root).
source "$TESTS/harness.sh"

HOOKS=$BUILD/samples

# trace_ok FILE: the trace log of a whole run (see above).
trace_ok() {
	local f=$1 pid n
	[ -s "$f" ] || { echo "   no trace in $f" >&2; return 1; }
	pid=$(tail -n 1 "$f" | sed -n 's/^\[pid *\([0-9]*\)\] +++ exited with 0 +++$/\1/p')
	[ -n "$pid" ] || { echo "   last line is not the program's exit: $(tail -n 1 "$f")" >&2; return 1; }
	grep -qE "^\[pid +$pid\] close\(3\) +=" "$f" || { echo "   no close(3) of the program" >&2; return 1; }
	grep -E "^\[pid +$pid\] close\(3\) +=" "$f" | grep -qv ' = 0$' && { echo "   the program's close(3) failed" >&2; return 1; }
	n=$(grep -vE "^\[pid +$pid\] " "$f" | grep -cE '\] execve\("[^"]*", .*<unfinished \.\.\.>$' || true)
	[ "$n" = 5 ] || { echo "   $n execve lines of children, expected 5" >&2; return 1; }
	n=$(grep -vE "^\[pid +$pid\] " "$f" | grep -cE '\] close_range\(' || true)
	[ "$n" = 4 ] || { echo "   $n close_range lines of children, expected 4" >&2; return 1; }
	n=$(grep -cE '(^|\] )sched_yield\(\) += 0$' "$f" || true)
	[ "$n" = 3 ] || { echo "   $n sched_yield lines, expected 3" >&2; return 1; }
	grep -vE "^\[pid +$pid\] " "$f" | grep -q 'write(1, "fork child: still talking' ||
		{ echo "   the fork child's write after its close_range is missing" >&2; return 1; }
	echo "   trace: $(wc -l < "$f") lines, the program's and its children's"
}

# calls_of TABLE NAME: the calls column of NAME's row of a count table, 0 if none.
calls_of() {
	awk -v n="$2" '$NF == n && $1 ~ /^[0-9]+\.[0-9]+$/ { print (NF == 6) ? $(NF-2) : $(NF-1); f = 1; exit }
		END { if (!f) print 0 }' "$1"
}

count_ok() { # table file
	local f=$1 name want got
	[ "$(grep -c '^% time' "$f" 2>/dev/null)" = 1 ] || { echo "   not exactly one table in $f" >&2; return 1; }
	for name in sched_yield:1 dup2:1 vfork:4 close_range:0 execve:0; do
		want=${name#*:} got=$(calls_of "$f" "${name%:*}")
		[ "$got" = "$want" ] || { cat "$f" >&2; echo "   ${name%:*}: $got calls, expected $want (the program's own)" >&2; return 1; }
	done
	echo "   count: $(calls_of "$f" total) calls, only the program's"
}

# rows TABLE: "name calls" of every row but total (strace -c's format).
rows() { awk 'NF >= 5 && $1 ~ /^[0-9]+\.[0-9]+$/ && $NF != "total" { print $NF, (NF == 6 ? $(NF-2) : $(NF-1)) }' "$1" | LC_ALL=C sort; }

same_as_strace() { # count table, strace -c table
	rows "$2" | grep -v '^execve ' > strace.rows
	rows "$1" > count.rows
	diff -u strace.rows count.rows >&2 || { echo "   rows differ (- strace -c, + count)" >&2; return 1; }
	echo "   count: $(wc -l < count.rows) rows, as strace -c's"
}

deny_ok() { # stderr of the run
	local n
	n=$(grep -cx 'zprewrite-deny: sched_yield() denied' "$1" || true)
	[ "$n" = 3 ] && [ "$(wc -l < "$1")" = 3 ] || { cat "$1" >&2; echo "   expected three refused sched_yield lines" >&2; return 1; }
}

openlog_ok() { # log
	local f=$1 opens fails
	opens=$(grep '^openlog: "' "$f" | grep -vc '^openlog: "/dev/null"' || true)
	fails=$(grep '^openlog: "' "$f" | grep -v '^openlog: "/dev/null"' | grep -c ' = -1 ' || true)
	[ "$(grep -c '^openlog: "/dev/null" = ' "$f")" = 3 ] || { cat "$f" >&2; echo "   the children's three opens of /dev/null are not all logged" >&2; return 1; }
	[ "$(tail -n 1 "$f")" = "openlog: $opens opens, $fails failed, exit status 0" ] ||
		{ echo "   last line: $(tail -n 1 "$f"); expected the program's $opens opens, $fails failed" >&2; return 1; }
	echo "   openlog: $opens opens of the program's own"
}

# same_stdout NAME: the last run (patched.*) printed what the original did
# (orig.*, LAST_RC), whatever its stderr.
same_stdout() {
	[ "$RUN_RC" = "$LAST_RC" ] && cmp -s orig.out patched.out && [ -z "$ORIG_WHY" ] ||
		{ diff orig.out patched.out >&2; echo "   status $LAST_RC, patched $RUN_RC; ${ORIG_WHY}" >&2; return 1; }
}

# Rewritten once (no hook, each sample hook); strace -c of each original
# (not for a bundle: its loader starts with other calls than the system's).
flavs=()
for f in $(flavours hook-vfork); do
	orig=$(prog hook-vfork $f)
	rewrite "$orig" "hv.$f" || true
	flavs+=("$f")
	for h in trace count deny fakepid example-openlog; do
		rewrite "$orig" "hv.$f.$h" --hook "$HOOKS/$h.so" || true
	done
	[ $f != dynamic ] || continue
	if ! strace_ok strace.err -c -o "strace.$f" "$orig" >/dev/null </dev/null; then
		note "$STRACE_WHY: comparison with strace -c skipped"
		rm -f "strace.$f"
	fi
done

vfork_checks() {
	local f orig
	for f in "${flavs[@]}"; do
		orig=$(prog hook-vfork $f)
		[ ! -e "hv.$f" ] || check_same "$f: no hook" "$orig" "./hv.$f"

		fresh "trace.$f"
		ZP_TRACE_FILE=$PWD/trace.$f check_same "$f: trace" "$orig" "./hv.$f.trace"
		check "$f: trace log whole" trace_ok "trace.$f"
		run_t patched "./hv.$f.trace"
		check "$f: trace to stderr: same stdout" same_stdout
		check "$f: trace to stderr: log whole" trace_ok patched.err

		fresh "count.$f"
		ZP_COUNT_FILE=$PWD/count.$f check_same "$f: count" "$orig" "./hv.$f.count"
		check "$f: count table has the program's calls only" count_ok "count.$f"
		[ ! -e "strace.$f" ] || check "$f: count table equals strace -c's" same_as_strace "count.$f" "strace.$f"

		ZP_DENY=sched_yield run_t patched "./hv.$f.deny"
		check "$f: deny: same stdout" same_stdout
		check "$f: deny: three calls refused" deny_ok patched.err

		check_same "$f: fakepid" "$orig" "./hv.$f.fakepid"

		fresh "openlog.$f"
		OPENLOG_FILE=$PWD/openlog.$f check_same "$f: example-openlog" "$orig" "./hv.$f.example-openlog"
		check "$f: example-openlog summary counts the program's opens" openlog_ok "openlog.$f"
	done
}

# CPython (issue 12's first report): open a file (fd 3), subprocess.run, then
# close the file.  The interpreter, bundled with count and with trace.
# (the system's: a python3 found first in PATH may be a wrapper script)
PY=$(readlink -f /usr/bin/python3 || true)
pys=()
if [ -x "$PY" ] && [[ $(readelf -lW "$PY" 2>/dev/null) == *"program interpreter"* ]]; then
	cat > sub.py <<'EOF'
import os, subprocess
fd = os.open("py-own.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
subprocess.run(["/bin/true"], check=True)
os.write(fd, b"own\n")
os.close(fd)
print("fd", fd, "closed")
EOF
	"$PY" -I sub.py > py.want 2>&1 || fail "python3 sub.py failed: $(cat py.want)"
	for h in count trace; do
		rewrite "$PY" "py.$h" --hook "$HOOKS/$h.so" && pys+=("$h")
	done
else
	note "/usr/bin/python3 is missing or not dynamically linked: its part was skipped"
fi
python_checks() {
	local h
	for h in "${pys[@]}"; do
		fresh "py.$h.log" py-own.txt
		ZP_COUNT_FILE=$PWD/py.$h.log ZP_TRACE_FILE=$PWD/py.$h.log run_t py "./py.$h" -I sub.py
		check "python3 with $h: subprocess.run, then close(3)" cmp -s py.want py.out
		check "python3 with $h: own file holds only its own line" test "$(cat py-own.txt)" = own
		check "python3 with $h: hook output in its file" grep -qE '^100\.00 .* total$|\+\+\+ exited with 0 \+\+\+$' "py.$h.log"
	done
}

all_checks() { vfork_checks; python_checks; }
in_paths all_checks
