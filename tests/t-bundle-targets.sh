#!/usr/bin/env bash
# t-bundle-targets.sh - real dynamically linked programs, bundled with
# `zprewrite --bundle`, behave exactly like the originals.
#
# Targets: /bin/ls, /bin/cat, sqlite3, python3 and a multithreaded C program
# built here.  Each bundle's program is run next to the original with the same
# arguments, input and argv[0]; stdout, stderr and exit status must match (and,
# for sqlite3, the database files it writes).  Some targets are bundled again
# with the trace or count hook, and the hook's output is checked for calls
# that can only be seen if the bundle's objects are hooked.
#
# How it fails on a broken bundle: a wrong PT_INTERP or RPATH makes the
# program not start or load the system's unrewritten libraries (checked in
# /proc/self/maps: every library the program maps from its bundle must come
# from DIR/lib); a bad patch in the loader, libc or another library crashes
# the program or changes its output; a broken clone/thread path hangs or
# crashes the threaded programs (each run has a timeout); a hook that misses
# the loader, libc or a child process misses the trace lines checked below.
source "$TESTS/harness.sh"
need_page0

ZP=$ZPREWRITE
TRACE=$BUILD/samples/trace.so
COUNT=$BUILD/samples/count.so
ROOT=$PWD
export LC_ALL=C TZ=UTC
T=$RUN_TIMEOUT

# bundle DIR PROGRAM [zprewrite options...]: a check; false if it failed.
bundle() {
	local dir=$1 prog=$2; shift 2
	begin_check "bundle $(basename "$prog") into $dir${*:+ with $*}"
	timeout -k 5 "$T" "$ZP" -q "$@" --bundle "$dir" "$prog" 2>bundle.err || fault "zprewrite failed: $(cat bundle.err)"
	[ -x "$dir/$(basename "$prog")" ] || fault "$dir/$(basename "$prog") missing after bundling"
	end_check
	last_ok
}

# same_run0 ARGV0 ORIG PATCHED [args...]: check_same of ORIG and PATCHED,
# both run with ARGV0 as argv[0] (programs print it in their messages).
same_run0() {
	local a0=$1 a=$2 b=$3; shift 3
	ZPT_ARGV0=$a0 check_same "$b $*" "$a" "$b" "$@"
}

# maps_inside MAPS DIR: every code mapping (r-xp, a file) in the
# /proc/PID/maps copy MAPS is of a file under DIR.
maps_inside() {
	local outside; outside=$(grep ' r-xp .* /' "$1" | grep -v " $2/" || true)
	[ -z "$outside" ] || { zph_diag "code mapped from outside $2: $outside"; return 1; }
}
# printed_maps_inside OUT DIR: the same for the "maps PATH" lines a test
# program printed.
printed_maps_inside() {
	local outside; outside=$(grep '^maps ' "$1" | grep -v "^maps $2/" || true)
	[ -z "$outside" ] || { zph_diag "code mapped from outside $2: $outside"; return 1; }
}

# ---- ls ------------------------------------------------------------------
# A directory with fixed content, modes and times, inside a wrapper whose time
# is fixed too (ls -la shows ..).  The output files of the runs are written
# next to the wrapper, not in it.
note "ls"
mkdir -p w/d/sub w/d/.hidden
printf 'hello\n' >w/d/a.txt
head -c 12345 /dev/zero >w/d/zeros
printf '#!/bin/sh\n' >w/d/run.sh
ln -s a.txt w/d/link
ln -s nowhere w/d/dangling
mkfifo w/d/fifo
chmod 640 w/d/a.txt; chmod 755 w/d/run.sh; chmod 700 w/d/sub; chmod 1777 w/d/.hidden
for f in w/d/* w/d/.hidden w/d/sub w/d w; do touch -h -d '2021-03-04 05:06:07' "$f"; done
touch -d '2019-12-31 23:59:59' w/d/zeros
bundle ls.b /bin/ls
same_run0 ls /bin/ls ls.b/ls -la w/d
same_run0 ls /bin/ls ls.b/ls -laR --time-style=full-iso w/d
same_run0 ls /bin/ls ls.b/ls -l --color=always -i -s -t w/d
same_run0 ls /bin/ls ls.b/ls -d w/d/nope w/d/a.txt    # an error: exit 2, message with argv[0]
# The descriptors ls sees: a runtime that leaked one would show it here.
same_run0 ls /bin/ls ls.b/ls /proc/self/fd/

# The bundled cat maps its libraries from the bundle, not from the system.
bundle cat.b /bin/cat
run_t maps cat.b/cat /proc/self/maps
check "bundled cat runs" [ "$RUN_RC" = 0 ]
for lib in libc.so.6 ld-linux-x86-64.so.2; do
	check "bundled cat maps $lib from the bundle" grep -q " $ROOT/cat.b/lib/$lib\$" maps.out
done
check "bundled cat maps no code from outside the bundle" maps_inside maps.out "$ROOT/cat.b"
# LD_LIBRARY_PATH does not take the bundle's libraries away (DT_RPATH comes
# before it; a RUNPATH would not).
LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu run_t maps cat.b/cat /proc/self/maps
check "bundled cat runs with LD_LIBRARY_PATH set" [ "$RUN_RC" = 0 ]
check "with LD_LIBRARY_PATH set, bundled cat maps no code from outside the bundle" maps_inside maps.out "$ROOT/cat.b"

# ---- cat -----------------------------------------------------------------
note "cat"
head -c 3000000 /dev/urandom >big
printf 'first\n' >one; printf 'third\n' >three
printf 'second from stdin\n' >stdin.txt
STDIN=stdin.txt same_run0 cat /bin/cat cat.b/cat one - three
same_run0 cat /bin/cat cat.b/cat big
STDIN=big same_run0 cat /bin/cat cat.b/cat -n
same_run0 cat /bin/cat cat.b/cat one missing three   # exit 1, message with argv[0]
check "bundled cat big prints big" eval 'cmp -s big <(timeout "$T" cat.b/cat big)'

# ---- a multithreaded C program -----------------------------------------
note "threads (dynamic C program)"
cat >threads.c <<'EOF'
/* Eight threads, each making a few thousand system calls of various kinds
 * (pipe round trips, getppid, open/write/read/close, sched_yield, nanosleep,
 * futex through a mutex/condvar token ring, malloc); thread 0 also forks a
 * child.  Prints deterministic totals; exits 1 on the first wrong result. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define NT 8
#define ROUNDS 500
#define CHECK(c, what) do { if (!(c)) { fprintf(stderr, "thread check failed: %s\n", what); exit(1); } } while (0)
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long turn, ring;
static void *worker(void *arg)
{
	long id = (long)arg, sum = 0;
	int p[2];
	char name[64], buf[64], back[64];
	CHECK(pipe(p) == 0, "pipe");
	snprintf(name, sizeof name, "thr%ld.tmp", id);
	pid_t ppid = getppid();
	for (int i = 0; i < ROUNDS; i++) {
		int n = snprintf(buf, sizeof buf, "t%ld-r%d", id, i);
		CHECK(write(p[1], buf, n) == n, "write pipe");
		CHECK(read(p[0], back, sizeof back) == n && !memcmp(buf, back, n), "read pipe");
		CHECK(syscall(SYS_getppid) == ppid, "getppid");
		int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
		CHECK(fd >= 0, "open");
		CHECK(write(fd, buf, n) == n, "write file");
		CHECK(pread(fd, back, sizeof back, 0) == n && !memcmp(buf, back, n), "pread");
		CHECK(close(fd) == 0, "close");
		sched_yield();
		if (i % 100 == 0) {
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
		char *m = malloc(100 + i * 37);
		memset(m, i, 100);
		sum += m[50];
		free(m);
		if (i % 50 == 0) {
			pthread_mutex_lock(&mu);
			while (turn % NT != id)
				pthread_cond_wait(&cv, &mu);
			turn++;
			ring += i;
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&mu);
		}
		if (id == 0 && i == ROUNDS / 2) {
			pid_t c = fork();
			CHECK(c >= 0, "fork");
			if (c == 0)
				_exit(syscall(SYS_getppid) == getppid() ? 42 : 1);
			int st;
			CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 42, "fork child");
		}
	}
	CHECK(unlink(name) == 0, "unlink");
	close(p[0]);
	close(p[1]);
	return (void *)sum;
}
int main(void)
{
	pthread_t th[NT];
	long total = 0;
	for (long i = 0; i < NT; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0, "pthread_create");
	for (int i = 0; i < NT; i++) {
		void *r;
		CHECK(pthread_join(th[i], &r) == 0, "join");
		printf("thread %d: sum %ld\n", i, (long)r);
		total += (long)r;
	}
	printf("total %ld ring %ld turns %ld\n", total, ring, turn);
	return 0;
}
EOF
gcc -O2 -pthread -o threads threads.c || fail "cannot build threads.c"
bundle thr.b ./threads
same_run0 threads ./threads thr.b/threads
check "threads: 80 turns of the token ring" grep -q "turns 80" patched.out
bundle thr.c ./threads --hook "$COUNT"
ZP_COUNT_FILE=$ROOT/thr.count check_again "threads, counted: output unchanged" thr.c/threads
check "count.so wrote a table to ZP_COUNT_FILE" [ -s thr.count ]
calls=$(awk '$NF == "getppid" { print $4 }' thr.count 2>/dev/null)
# 8*500 in the threads, 8 before the loops, and 1 in the forked child is not
# counted (count.so reports only the starting process).
check "count.so: getppid counted 4008 times" [ "$calls" = 4008 ]
last_ok || note "  getppid counted ${calls:-no} times"
for call in clone3 pread64 sched_yield clock_nanosleep wait4; do
	check "count.so: $call in the table" grep -qE " $call\$" thr.count
done

# ---- sqlite3 -------------------------------------------------------------
if SQLITE=$(command -v sqlite3) && [ "$(head -c 2 "$SQLITE")" != '#!' ]; then
	note "sqlite3"
	cat >script.sql <<'EOF'
PRAGMA journal_mode=WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, v REAL, b BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
  INSERT INTO t SELECT x, 'name-' || x, x * 1.5, zeroblob(x % 300) FROM c;
BEGIN;
UPDATE t SET v = v * 2 WHERE id % 7 = 0;
DELETE FROM t WHERE id % 11 = 0;
COMMIT;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(v), min(name), max(name), sum(length(b)) FROM t;
SELECT id, name, v FROM t WHERE id BETWEEN 95 AND 105 ORDER BY id;
ATTACH 'other.db' AS o;
CREATE TABLE o.u AS SELECT id, upper(name) AS n FROM t WHERE id < 500;
SELECT count(*), max(n) FROM o.u;
PRAGMA integrity_check;
PRAGMA wal_checkpoint(TRUNCATE);
VACUUM;
.tables
SELECT * FROM no_such_table;
EOF
	bundle sq.b "$SQLITE"
	mkdir -p sa sb
	# Each writes its databases in a directory of its own.
	printf '#!/bin/bash\ncd sa && exec "%s" t.db\n' "$SQLITE" >sqlite-orig
	printf '#!/bin/bash\ncd sb && exec -a sqlite3 "%s" t.db\n' "$ROOT/sq.b/sqlite3" >sqlite-bundled
	chmod +x sqlite-orig sqlite-bundled
	STDIN=script.sql check_same "sqlite3: the script's output" ./sqlite-orig ./sqlite-bundled
	check "sqlite3: the query's output" grep -q '^18182|311711700.0|name-1|name-9998|2709219$' patched.out
	for db in t.db other.db; do
		"$SQLITE" "sa/$db" .dump >sa.dump; "$SQLITE" "sb/$db" .dump >sb.dump
		check "sqlite3: $db written by the bundle is the same (.dump)" cmp -s sa.dump sb.dump
		check "the bundled sqlite3 dumps $db" eval 'timeout -k 5 "$T" sq.b/sqlite3 "sa/$db" .dump >sb.dump2'
		check "sqlite3: the bundled .dump of $db is the same" cmp -s sa.dump sb.dump2
	done
	check "sqlite3: the dump of other.db is over 400 lines" [ "$(wc -l <sa.dump)" -gt 400 ]
else
	skip_check "sqlite3" "no sqlite3 (ELF) installed"
fi

# ---- python3 -------------------------------------------------------------
PY=/usr/bin/python3
if [ -x $PY ] && [ "$(head -c 2 $PY)" != '#!' ]; then
	note "python3"
	cat >prog.py <<'EOF'
# threads, subprocess, loopback TCP, file I/O, fork; deterministic output.
import hashlib, os, socket, subprocess, sys, threading
print("file", end=" ")
with open("data.bin", "wb") as f:
    for i in range(300):
        f.write(hashlib.sha256(str(i).encode()).digest() * 32)
    f.flush(); os.fsync(f.fileno())
with open("data.bin", "rb") as f:
    data = f.read()
print(len(data), hashlib.sha256(data).hexdigest()[:16])
os.rename("data.bin", "data2.bin"); print(sorted(os.listdir(".")).count("data2.bin")); os.unlink("data2.bin")

res = [None] * 8
def work(i):
    h = hashlib.sha256()
    fn = "thr%d.txt" % i
    for k in range(150):
        with open(fn, "w") as f:
            f.write(("%d:%d\n" % (i, k)) * 20)
        with open(fn) as f:
            h.update(f.read().encode())
        os.getppid()
    os.unlink(fn)
    res[i] = h.hexdigest()[:12]
ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("threads", res)

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(8)
port = srv.getsockname()[1]
def serve(n):
    for _ in range(n):
        c, _ = srv.accept()
        with c:
            while True:
                d = c.recv(65536)
                if not d: break
                c.sendall(d.upper())
NC = 4
st = threading.Thread(target=serve, args=(NC,)); st.start()
got = [None] * NC
def client(i):
    s = socket.create_connection(("127.0.0.1", port))
    msg = (b"client %d says hello " % i) * (5000 * (i + 1))
    out = []
    def rd():
        while True:
            d = s.recv(65536)
            if not d: break
            out.append(d)
    r = threading.Thread(target=rd); r.start()
    s.sendall(msg); s.shutdown(socket.SHUT_WR); r.join(); s.close()
    back = b"".join(out)
    got[i] = (len(back), back == msg.upper())
cs = [threading.Thread(target=client, args=(i,)) for i in range(NC)]
for c in cs: c.start()
for c in cs: c.join()
st.join(); srv.close()
print("sockets", got)

print("echo", subprocess.run(["/bin/echo", "hello", "world"], capture_output=True, text=True).stdout.strip())
r = subprocess.run([sys.executable, "-c", "import sys; print(sum(range(1000))); sys.exit(3)"], capture_output=True, text=True)
print("self", r.returncode, r.stdout.strip())
p = subprocess.Popen([sys.executable, "-c", "import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d[::-1])"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
o, _ = p.communicate(bytes(range(256)) * 1000)
print("pipe", p.returncode, len(o), o[:4] == bytes([255, 254, 253, 252]))
pid = os.fork()
if pid == 0:
    os._exit(7)
print("fork", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
import _hashlib  # an extension module from lib-dynload (not in the bundle)
print("hashlib", _hashlib.openssl_sha256(b"abc").hexdigest()[:16])
print("stderr line", file=sys.stderr)
sys.exit(5)
EOF
	bundle py.b $PY
	ZPT_EXPECT_RC=5 same_run0 python3 $PY py.b/python3 prog.py
	check "python3: the sockets' output" \
		grep -q '^sockets \[(100000, True), (200000, True), (300000, True), (400000, True)\]' patched.out
	check "python3: a subprocess of itself" grep -q '^self 3 499500$' patched.out
	# sys.executable is the bundled python, which runs from its own loader.
	run_t exe py.b/python3 -c 'import sys; print(sys.executable)'
	check "python3: sys.executable is the bundled python" [ "$(cat exe.out)" = "$ROOT/py.b/python3" ]
	run_t pymaps py.b/python3 -c 'print(open("/proc/self/maps").read())'
	check "bundled python3 maps the bundle's libc" grep -q " $ROOT/py.b/lib/libc.so.6\$" pymaps.out

	bundle pyt.b $PY --hook "$TRACE"
	rm -f py.trace
	ZPT_ARGV0=python3 ZP_TRACE_FILE=$ROOT/py.trace check_again "python3 with the trace hook: output unchanged" \
		pyt.b/python3 prog.py
	# The loader's first calls, libc's thread creation, the sockets, the
	# bundled child (which prints 499500), the extension module's loading.
	check "python3 trace: the openat of the bundle's libc" grep -q "^openat(AT_FDCWD, \"$ROOT/pyt.b/lib/libc.so.6\"" py.trace
	check "python3 trace: clone/clone3 (threads)" grep -qE 'clone3?\(' py.trace
	check "python3 trace: socket(AF_INET...)" grep -q 'socket(AF_INET, SOCK_STREAM' py.trace
	check "python3 trace: connect/accept" grep -qE '(connect|accept4?)\(' py.trace
	check "python3 trace: the bundled child python's write" grep -q 'write(1, "499500' py.trace
	check "python3 trace: the loading of _hashlib (lib-dynload)" grep -q 'lib-dynload/_hashlib' py.trace
	check "python3 trace: exit_group(5)" grep -q 'exit_group(5)' py.trace
else
	skip_check "python3" "no ELF $PY"
fi

# ---- hooks on small targets --------------------------------------------
bundle lst.b /bin/ls --hook "$TRACE"
same_run0 ls /bin/ls ls.b/ls -la w/d   # reference output into orig.out
ZPT_ARGV0=ls ZP_TRACE_FILE=$ROOT/ls.trace check_again "traced ls: output unchanged, nothing on stderr" lst.b/ls -la w/d
check "traced ls: getdents64 in the trace" grep -q '^getdents64(' ls.trace
bundle catc.b /bin/cat --hook "$COUNT"
# From a pipe (from a file, cat uses copy_file_range), cat copies 3000000
# bytes in reads of at most 128 KiB: at least 24 reads (one at EOF) and 23
# writes; and the loader's openat calls are counted too.
check "counted cat copies a pipe" eval '/bin/cat big | ZP_COUNT_FILE=$ROOT/cat.count timeout "$T" catc.b/cat >catc.out'
check "counted cat: output unchanged" cmp -s big catc.out
check "count.so wrote a table to ZP_COUNT_FILE" [ -s cat.count ]
reads=$(awk '$NF == "read" { print $4 }' cat.count 2>/dev/null)
writes=$(awk '$NF == "write" { print $4 }' cat.count 2>/dev/null)
check "count.so: cat made at least 24 reads" [ "${reads:-0}" -ge 24 ]
check "count.so: cat made at least 23 writes" [ "${writes:-0}" -ge 23 ]
note "cat: ${reads:-0} reads, ${writes:-0} writes"
check "count.so: the loader's openat calls counted" grep -qE ' openat$' cat.count

# ---- a program with a RUNPATH (last: it shows known problems) -----------
# A program with a RUNPATH (gcc's default for -rpath): the loader does not
# apply it to the dependencies of its libraries, so the bundle must make its
# libraries find each other (here libselinux.so.1 needs libpcre2-8.so.0).
cat >runpath.c <<'EOF'
#include <stdio.h>
#include <string.h>
int is_selinux_enabled(void);
int main(void)
{
	printf("selinux %d\n", is_selinux_enabled() >= 0);
	FILE *f = fopen("/proc/self/maps", "r");
	char l[1024];
	while (f && fgets(l, sizeof l, f))
		if (strstr(l, " r-xp ") && strchr(l, '/'))
			printf("maps %s", strchr(l, '/'));
	return 0;
}
EOF
libselinux=$(ldd /bin/ls | awk '$1 == "libselinux.so.1" { print $3 }')
if [ -n "$libselinux" ]; then
	gcc -O2 -o runpath runpath.c "$libselinux" -Wl,-rpath,"$ROOT/nowhere" || fail "cannot build runpath.c"
	bundle rp.b ./runpath
	check "RUNPATH program: libpcre2-8.so.0 (needed by libselinux.so.1) bundled" [ -f rp.b/lib/libpcre2-8.so.0 ]
	run_t rp rp.b/runpath
	check "RUNPATH program: the bundle runs" [ "$RUN_RC" = 0 ]
	check "RUNPATH program: no code mapped from outside the bundle" printed_maps_inside rp.out "$ROOT/rp.b"
	LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu run_t rp rp.b/runpath
	check "RUNPATH program: the bundle runs with LD_LIBRARY_PATH set" [ "$RUN_RC" = 0 ]
	check "RUNPATH program with LD_LIBRARY_PATH set: no code mapped from outside the bundle" \
		printed_maps_inside rp.out "$ROOT/rp.b"
else
	skip_check "RUNPATH program" "/bin/ls does not use libselinux.so.1 here"
fi
