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
source "$TESTS/lib.sh"
need_page0
ulimit -c 0

ZP=$ZPREWRITE
TRACE=$BUILD/samples/trace.so
COUNT=$BUILD/samples/count.so
ROOT=$PWD
export LC_ALL=C TZ=UTC
T=${ZP_TIMEOUT:-30}

# bundle DIR PROGRAM [zprewrite options...]
bundle() {
	local dir=$1 prog=$2; shift 2
	"$ZP" -q "$@" --bundle "$dir" "$prog" || fail "zprewrite $* --bundle $dir $prog failed"
	[ -x "$dir/$(basename "$prog")" ] || fail "$dir/$(basename "$prog") missing after bundling"
}

# same_run0 ARGV0 ORIG PATCHED [args...]: same_run, but both programs get
# ARGV0 as argv[0] (programs print it in their messages), and a timeout.
same_run0() {
	local a0=$1 a=$2 b=$3; shift 3
	local in=${STDIN:-/dev/null} ra rb
	set +e
	timeout "$T" bash -c 'a0=$1; shift; exec -a "$a0" "$@"' - "$a0" "$a" "$@" <"$in" >orig.out 2>orig.err; ra=$?
	timeout "$T" bash -c 'a0=$1; shift; exec -a "$a0" "$@"' - "$a0" "$b" "$@" <"$in" >patched.out 2>patched.err; rb=$?
	set -e
	[ $rb -ne 124 ] || fail "$b $*: timed out after ${T}s"
	[ $ra -eq $rb ] || { head -5 patched.err >&2; fail "exit status differs: $a $* -> $ra, $b -> $rb"; }
	cmp -s orig.out patched.out || { diff orig.out patched.out | head -20 >&2; fail "stdout differs: $b $*"; }
	cmp -s orig.err patched.err || { diff orig.err patched.err | head -20 >&2; fail "stderr differs: $b $*"; }
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
cat.b/cat /proc/self/maps >maps.txt || fail "bundled cat failed"
for lib in libc.so.6 ld-linux-x86-64.so.2; do
	grep -q " $ROOT/cat.b/lib/$lib\$" maps.txt || { cat maps.txt >&2; fail "bundled cat does not map $ROOT/cat.b/lib/$lib"; }
done
outside=$(grep ' r-xp .* /' maps.txt | grep -v " $ROOT/cat.b/" || true)
[ -z "$outside" ] || fail "bundled cat maps code from outside the bundle: $outside"
# LD_LIBRARY_PATH does not take the bundle's libraries away (DT_RPATH comes
# before it; a RUNPATH would not).
LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu cat.b/cat /proc/self/maps >maps.txt || fail "bundled cat failed"
outside=$(grep ' r-xp .* /' maps.txt | grep -v " $ROOT/cat.b/" || true)
[ -z "$outside" ] || fail "with LD_LIBRARY_PATH set, bundled cat maps code from outside the bundle: $outside"

# ---- cat -----------------------------------------------------------------
note "cat"
head -c 3000000 /dev/urandom >big
printf 'first\n' >one; printf 'third\n' >three
printf 'second from stdin\n' >stdin.txt
STDIN=stdin.txt same_run0 cat /bin/cat cat.b/cat one - three
same_run0 cat /bin/cat cat.b/cat big
STDIN=big same_run0 cat /bin/cat cat.b/cat -n
same_run0 cat /bin/cat cat.b/cat one missing three   # exit 1, message with argv[0]
cmp -s big <(cat.b/cat big) || fail "bundled cat big differs from big"

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
grep -q "turns 80" patched.out || fail "threads: unexpected output: $(tail -1 patched.out)"
bundle thr.c ./threads --hook "$COUNT"
ZP_COUNT_FILE=$ROOT/thr.count timeout "$T" thr.c/threads >thr.c.out || fail "counted threads failed"
cmp -s orig.out thr.c.out || fail "counted threads: output differs"
[ -s thr.count ] || fail "count.so wrote no table to ZP_COUNT_FILE"
calls=$(awk '$NF == "getppid" { print $4 }' thr.count)
# 8*500 in the threads, 8 before the loops, and 1 in the forked child is not
# counted (count.so reports only the starting process).
[ "$calls" = 4008 ] || { cat thr.count >&2; fail "count.so: getppid counted $calls times, expected 4008"; }
for call in clone3 pread64 sched_yield clock_nanosleep wait4; do
	grep -qE " $call\$" thr.count || { cat thr.count >&2; fail "count.so: no $call in the table"; }
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
	set +e
	(cd sa && timeout "$T" "$SQLITE" t.db <../script.sql >../sa.out 2>../sa.err); ra=$?
	(cd sb && timeout "$T" bash -c 'exec -a sqlite3 "$0" t.db' "$ROOT/sq.b/sqlite3" <../script.sql >../sb.out 2>../sb.err); rb=$?
	set -e
	[ $ra -eq $rb ] || { cat sb.err >&2; fail "sqlite3: exit status $ra, bundled $rb"; }
	cmp -s sa.out sb.out || { diff sa.out sb.out | head >&2; fail "sqlite3: output differs"; }
	cmp -s sa.err sb.err || { diff sa.err sb.err | head >&2; fail "sqlite3: errors differ"; }
	grep -q '^18182|311711700.0|name-1|name-9998|2709219$' sb.out || fail "sqlite3: query output missing"
	for db in t.db other.db; do
		"$SQLITE" "sa/$db" .dump >sa.dump; "$SQLITE" "sb/$db" .dump >sb.dump
		cmp -s sa.dump sb.dump || fail "sqlite3: $db written by the bundle differs (.dump)"
		sq.b/sqlite3 "sa/$db" .dump >sb.dump2 || fail "bundled sqlite3 cannot dump $db"
		cmp -s sa.dump sb.dump2 || fail "sqlite3: bundled .dump of $db differs"
	done
	[ "$(wc -l <sa.dump)" -gt 400 ] || fail "sqlite3: dump of other.db too short"
else
	note "no sqlite3 (ELF) installed: sqlite3 part skipped"
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
	same_run0 python3 $PY py.b/python3 prog.py
	grep -q '^sockets \[(100000, True), (200000, True), (300000, True), (400000, True)\]' patched.out ||
		fail "python3: unexpected socket output: $(grep sockets patched.out)"
	grep -q '^self 3 499500$' patched.out || fail "python3: subprocess of itself: $(grep self patched.out)"
	# sys.executable is the bundled python, which runs from its own loader.
	py.b/python3 -c 'import sys; print(sys.executable)' >exe.txt
	[ "$(cat exe.txt)" = "$ROOT/py.b/python3" ] || fail "python3: sys.executable is $(cat exe.txt)"
	py.b/python3 -c 'print(open("/proc/self/maps").read())' >pymaps.txt
	grep -q " $ROOT/py.b/lib/libc.so.6\$" pymaps.txt || fail "bundled python3 does not map the bundle's libc"

	note "python3 with the trace hook"
	bundle pyt.b $PY --hook "$TRACE"
	rm -f py.trace
	set +e
	ZP_TRACE_FILE=$ROOT/py.trace timeout "$T" bash -c 'exec -a python3 "$0" prog.py' pyt.b/python3 >pt.out 2>pt.err; rc=$?
	set -e
	[ $rc = 5 ] || { tail pt.err >&2; fail "traced python3 exited with $rc"; }
	cmp -s pt.out orig.out || { diff orig.out pt.out | head >&2; fail "traced python3: output differs"; }
	cmp -s pt.err orig.err || { diff orig.err pt.err | head >&2; fail "traced python3: stderr differs"; }
	# The loader's first calls, libc's thread creation, the sockets, the
	# bundled child (which prints 499500), the extension module's loading.
	grep -q "^openat(AT_FDCWD, \"$ROOT/pyt.b/lib/libc.so.6\"" py.trace || fail "trace: no openat of the bundle's libc"
	grep -qE 'clone3?\(' py.trace || fail "trace: no clone/clone3 (threads)"
	grep -q 'socket(AF_INET, SOCK_STREAM' py.trace || fail "trace: no socket(AF_INET...)"
	grep -qE '(connect|accept4?)\(' py.trace || fail "trace: no connect/accept"
	grep -q 'write(1, "499500' py.trace || fail "trace: the bundled child python's write not traced"
	grep -q 'lib-dynload/_hashlib' py.trace || fail "trace: the loading of _hashlib (lib-dynload) not traced"
	grep -q 'exit_group(5)' py.trace || fail "trace: no exit_group(5)"
else
	note "no ELF $PY: python3 part skipped"
fi

# ---- hooks on small targets --------------------------------------------
note "ls and cat with hooks"
bundle lst.b /bin/ls --hook "$TRACE"
ZP_TRACE_FILE=$ROOT/ls.trace timeout "$T" lst.b/ls -la w/d >lst.out 2>lst.err || fail "traced ls failed"
same_run0 ls /bin/ls ls.b/ls -la w/d   # reference output into orig.out
cmp -s lst.out orig.out || fail "traced ls: output differs"
[ -s lst.err ] && fail "traced ls wrote to stderr with ZP_TRACE_FILE set"
grep -q '^getdents64(' ls.trace || fail "traced ls: no getdents64"
bundle catc.b /bin/cat --hook "$COUNT"
# From a pipe (from a file, cat uses copy_file_range), cat copies 3000000
# bytes in reads of at most 128 KiB: at least 24 reads (one at EOF) and 23
# writes; and the loader's openat calls are counted too.
/bin/cat big | ZP_COUNT_FILE=$ROOT/cat.count timeout "$T" catc.b/cat >catc.out || fail "counted cat failed"
cmp -s big catc.out || fail "counted cat: output differs"
[ -s cat.count ] || fail "count.so wrote no table to ZP_COUNT_FILE"
reads=$(awk '$NF == "read" { print $4 }' cat.count)
writes=$(awk '$NF == "write" { print $4 }' cat.count)
[ "${reads:-0}" -ge 24 ] && [ "${writes:-0}" -ge 23 ] || { cat cat.count >&2; fail "count.so: cat made ${reads:-0} reads, ${writes:-0} writes"; }
grep -qE ' openat$' cat.count || fail "count.so: no openat counted (the loader's calls are missing)"

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
	[ -f rp.b/lib/libpcre2-8.so.0 ] || fail "libpcre2-8.so.0 (needed by libselinux.so.1) not bundled"
	timeout "$T" rp.b/runpath >rp.out || fail "bundled runpath failed"
	outside=$(grep '^maps ' rp.out | grep -v "^maps $ROOT/rp.b/" || true)
	[ -z "$outside" ] || fail "RUNPATH program: code mapped from outside the bundle: $outside"
	LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu timeout "$T" rp.b/runpath >rp.out ||
		fail "bundled runpath failed with LD_LIBRARY_PATH"
	outside=$(grep '^maps ' rp.out | grep -v "^maps $ROOT/rp.b/" || true)
	[ -z "$outside" ] || fail "RUNPATH program with LD_LIBRARY_PATH set: code mapped from outside the bundle: $outside"
fi
