#!/usr/bin/env bash
# bench/run.sh - run every benchmark of docs/performance.md, in one go, and
# regenerate that page and its plots from the measurements.
#
# Usage: bench/run.sh BUILD_DIR          (what `make bench` runs, as root)
#
#   BENCH_QUICK=1   few repetitions (about a minute), for development; the
#                   page then goes to BUILD_DIR/bench/docs-quick/ unless
#                   BENCH_DOCS says otherwise
#   BENCH_DOCS=DIR  where performance.md and the PNGs go (default: docs/)
#   BENCH_BEFORE=REV  also measure the runtime of git revision REV (built from
#                   `git archive REV` into BUILD_DIR/bench-before/, kept for
#                   the next run): bench/mech rewritten by its zprewrite, with
#                   and without hooks, runs in the same rounds as the current
#                   build's, next to it; the page then shows both (before and
#                   after).  Without it, current figures only.
#
# Page 0 or the trap path: a rewritten program takes page 0 or the trap path
# by its policy and ZP_PAGE0 (docs/runtime.md).  Everything here runs with
# ZP_PAGE0=fast (page 0 whenever it can be mapped, also where it would be
# readable for lack of protection keys), except the runs of the trap path,
# which set ZP_PAGE0=never; bench/mech reports which path it got and
# report.py checks it.  A runtime from before ZP_PAGE0 always takes page 0.
#
# What it measures (docs/performance.md explains each table):
#   1+2+3+8+9+10. bench/mech, built static, run as it is, rewritten (no
#          hook) and rewritten with the fakepid sample hook and with
#          bench/fwdhook (a hook that forwards every call), on page 0 and on
#          the trap path, and the same rewritten by BENCH_BEFORE's zprewrite;
#          rewritten with --complete (without a hook and with fakepid) and
#          with --vdso (without a hook and with bench/clockhook); R rounds, each
#          running every variant once in a rotating order, the variants to
#          be compared with each other in adjacent processes whose order
#          alternates from round to round (in-process pairs against the
#          jit-* copies, cross-process pairs within a round)
#   4. start-up: static busybox `true`, an empty static C program and a
#      bundled /bin/true against the originals, and bench/startmimic (the
#      runtime's start-up work alone) (bench/interleave, alternating run by
#      run; hyperfine -N as a cross-check)
#   5. memory: file sizes, and smaps_rollup of running `sleep` processes
#   6. rewriter speed against `objdump -d`, and --bundle of python3
#   7. redis-server, original and bundled, under redis-benchmark
# Raw results go to BUILD_DIR/bench/results/; bench/report.py turns them into
# the page and the plot tables; bench/plot.gp draws the plots.  Every program
# this script starts is stopped when it exits (trap), and its scratch
# directory in /dev/shm is removed.
set -euo pipefail

BUILD=$(cd "${1:?usage: bench/run.sh BUILD_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
ZP=$BUILD/zprewrite
FAKEPID=$BUILD/samples/fakepid.so
W=$BUILD/bench
RES=$W/results
QUICK=${BENCH_QUICK:-0}
BEFORE=${BENCH_BEFORE:-}
if [ "$QUICK" = 1 ]; then
	DOCS=${BENCH_DOCS:-$W/docs-quick}
else
	DOCS=${BENCH_DOCS:-$ROOT/docs}
fi

# ---- sizes of the runs ---------------------------------------------------
# mech: rounds, repetitions per process and ms per item and repetition (short
# items, many repetitions: the two sides of a pair run close in time).
if [ "$QUICK" = 1 ]; then
	MECH_ROUNDS=3 MECH_REPS=4 MECH_MS=2
	START_RUNS=200 START_WARM=10 HF_PAIRS=2 HF_RUNS=50
	MEM_ROUNDS=1
	RW_RUNS=3 OBJDUMP_RUNS=1 BUNDLE_RUNS=2
	REDIS_ROUNDS=2 REDIS_N=10000
else
	MECH_ROUNDS=20 MECH_REPS=10 MECH_MS=2
	START_RUNS=600 START_WARM=30 HF_PAIRS=2 HF_RUNS=60
	MEM_ROUNDS=3
	RW_RUNS=15 OBJDUMP_RUNS=3 BUNDLE_RUNS=9
	REDIS_ROUNDS=8 REDIS_N=25000
fi
REDIS_CLIENTS=50
MEM_DELAY=0.5   # s after starting the sleep processes, before reading their memory

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---- cleanup: every process started here is stopped on exit -----------------
PIDS=()
RAM=""
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
}
trap 'cleanup; [ -z "$RAM" ] || rm -rf "$RAM"' EXIT
trap 'exit 130' INT TERM

# ---- preconditions -------------------------------------------------------
[ -x "$ZP" ] || die "$ZP missing: run make first"
[ -f "$FAKEPID" ] || die "$FAKEPID missing: run make first"
for t in gcc hyperfine gnuplot objdump readelf strace /usr/bin/python3 redis-server \
	redis-benchmark redis-cli busybox; do
	command -v "$t" >/dev/null || die "$t not found: run scripts/deps.sh bench"
done
BUSYBOX=$(readlink -f "$(command -v busybox)")
file -L "$BUSYBOX" | grep -q 'statically linked' || die "$BUSYBOX is not static (install busybox-static)"
LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)
PYTHON=$(readlink -f /usr/bin/python3)     # Debian's, not a python3 found first in PATH
TRUE=$(readlink -f /bin/true)
SLEEP=$(readlink -f /bin/sleep)
REDIS=$(command -v redis-server)   # not resolved: the link name (redis-server -> redis-check-rdb) picks the mode
# Page 0 for every rewritten program started here, unless a run says otherwise.
export ZP_PAGE0=fast

rm -rf "$W"
mkdir -p "$W" "$RES"/{mech,startup,mem,rewrite,redis} "$DOCS"
# Rewriter outputs go to memory: the rewriter is measured, not the disk.
RAM=$(mktemp -d /dev/shm/zprewrite-bench.XXXXXX)
start_s=$(date +%s)

# Copy a file (or every file of a bundle) by rewriting it with cat, so that
# originals and rewritten files compared with each other have been written
# the same way: how a file was written decides how its page cache is built
# (folio sizes), which changes how many pages a process maps at each fault,
# hence its Rss and, a little, its start-up time.  Then write it back to
# disk, so that no page is still dirty (smaps counts those as Private_Dirty).
recopy() { # file...
	local f
	for f in "$@"; do
		cat "$f" >"$f.tmp"
		chmod --reference="$f" "$f.tmp"
		mv "$f.tmp" "$f"
	done
	sync "$@"
}

# ---- the machine ---------------------------------------------------------
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "cpus=$(nproc)"
	echo "kernel=$(uname -r)"
	echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "glibc=$(ldd --version | head -n 1 | sed 's/.* //')"
	echo "mmap_min_addr=$(cat /proc/sys/vm/mmap_min_addr)"
	echo "pku=$(grep -qw pku /proc/cpuinfo && echo 1 || echo 0)"
	echo "pcid=$(grep -qw pcid /proc/cpuinfo && echo 1 || echo 0)"
	echo "uid=$(id -u)"
	echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "zprewrite=$("$ZP" --version | head -n 1)"
	echo "git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+changes')"
	echo "gcc=$(gcc -dumpfullversion)"
	echo "hyperfine=$(hyperfine --version | sed 's/^hyperfine //')"
	echo "objdump=$(objdump --version | head -n 1)"
	echo "redis=$(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/')"
	echo "quick=$QUICK"
	echo "busybox=$BUSYBOX"
	echo "libc=$LIBC"
	echo "python=$PYTHON"
	echo "true=$TRUE"
	echo "sleep=$SLEEP"
	echo "redis_server=$REDIS"
	echo "mech_rounds=$MECH_ROUNDS"
	echo "mech_reps=$MECH_REPS"
	echo "mech_ms=$MECH_MS"
	echo "start_runs=$START_RUNS"
	echo "start_warm=$START_WARM"
	echo "hf_pairs=$HF_PAIRS"
	echo "hf_runs=$HF_RUNS"
	echo "mem_rounds=$MEM_ROUNDS"
	echo "mem_delay=$MEM_DELAY"
	echo "rw_runs=$RW_RUNS"
	echo "objdump_runs=$OBJDUMP_RUNS"
	echo "bundle_runs=$BUNDLE_RUNS"
	echo "redis_rounds=$REDIS_ROUNDS"
	echo "redis_n=$REDIS_N"
	echo "redis_clients=$REDIS_CLIENTS"
	# The signal frame's size, which the kernel's xsave state decides: every
	# fault-based path (SUD, seccomp, the trap path) writes and reads one.
	echo "minsigstksz=$(LD_SHOW_AUXV=1 /bin/true | sed -n 's/^AT_MINSIGSTKSZ: *//p')"
	grep -H . /sys/devices/system/cpu/vulnerabilities/{spectre_v2,retbleed,meltdown} 2>/dev/null |
		sed 's|^/sys/devices/system/cpu/vulnerabilities/\([^:]*\):|vuln_\1=|'
} >"$RES/env.txt"

# ---- helpers ---------------------------------------------------------------
log "building bench/mech, bench/interleave, bench/vmcost"
CFLAGS=(-std=gnu11 -O2 -Wall -Wextra -Werror)
gcc "${CFLAGS[@]}" -static -o "$W/mech" "$BENCH/mech.c" "$BENCH/mech_loops.S"
gcc "${CFLAGS[@]}" -o "$W/interleave" "$BENCH/interleave.c"
gcc "${CFLAGS[@]}" -o "$W/vmcost" "$BENCH/vmcost.c"
# bench/fwdhook.c and bench/clockhook.c, built as samples/hooks/hooks.mk
# builds a hook (its ZP_HOOK_CFLAGS), against the hook.h of the tree given.
HOOK_CFLAGS=(-fPIC -shared -nostdlib -ffreestanding -fno-stack-protector -mgeneral-regs-only
	-fvisibility=hidden -fno-asynchronous-unwind-tables "${CFLAGS[@]}")
build_hook() { # tree out source
	gcc "${HOOK_CFLAGS[@]}" -I"$1/runtime/include" -o "$2" "$3"
}

# ---- the runtime before a change (BENCH_BEFORE) ------------------------------
# Its zprewrite and fakepid.so, built from `git archive` of the revision in a
# directory of its own, which `rm -rf $W` leaves alone: the next run with the
# same revision builds nothing.
if [ -n "$BEFORE" ]; then
	sha=$(git -C "$ROOT" rev-parse --verify --short "$BEFORE^{commit}" 2>/dev/null) ||
		die "BENCH_BEFORE=$BEFORE is not a revision of $ROOT"
	OLD=$BUILD/bench-before/$sha
	if [ ! -x "$OLD/build/zprewrite" ] || [ ! -f "$OLD/build/samples/fakepid.so" ]; then
		log "building the runtime before: $BEFORE ($sha) in $OLD"
		rm -rf "$OLD"
		mkdir -p "$OLD/src"
		git -C "$ROOT" archive "$sha" | tar -x -C "$OLD/src"
		make -C "$OLD/src" -j"$(nproc)" BUILD="$OLD/build" "$OLD/build/zprewrite" \
			"$OLD/build/samples/fakepid.so" >"$OLD/make.log" 2>&1 ||
			die "building $BEFORE failed: see $OLD/make.log"
	fi
	{
		echo "before=$BEFORE"
		echo "before_sha=$sha"
		echo "before_subject=$(git -C "$ROOT" log -1 --format='%s' "$sha" | cut -c1-100)"
		echo "before_date=$(git -C "$ROOT" log -1 --format='%cd' --date=format:'%Y-%m-%d' "$sha")"
		echo "before_zprewrite=$("$OLD/build/zprewrite" --version | head -n 1)"
	} >>"$RES/env.txt"
fi

# ---- 1-3, 8-10: system-call cost (bench/mech) ------------------------------
# mech rewritten: without a hook, with fakepid (answers getpid itself) and
# with fwdhook (forwards every call); by the current zprewrite and, with
# BENCH_BEFORE, by the one before (mech-old.*).
rewrite_mechs() { # zprewrite fakepid.so fwdhook.so prefix
	"$1" "$W/mech" "$4.zp"
	"$1" --hook "$2" "$W/mech" "$4.fake"
	"$1" --hook "$3" "$W/mech" "$4.fwd"
}
build_hook "$ROOT" "$W/fwdhook.so" "$BENCH/fwdhook.c"
rewrite_mechs "$ZP" "$FAKEPID" "$W/fwdhook.so" "$W/mech"
# Item 10: every system call.  --complete, without a hook and with fakepid;
# --vdso, without a hook and with clockhook (answers clock_gettime as a
# faketime-style hook would, from the runtime's clock).
build_hook "$ROOT" "$W/clockhook.so" "$BENCH/clockhook.c"
"$ZP" --complete "$W/mech" "$W/mech.comp"
"$ZP" --complete --hook "$FAKEPID" "$W/mech" "$W/mech.comp-fake"
"$ZP" --vdso "$W/mech" "$W/mech.vdso"
"$ZP" --vdso --hook "$W/clockhook.so" "$W/mech" "$W/mech.vdso-hook"
if [ -n "$BEFORE" ]; then
	build_hook "$OLD/src" "$W/fwdhook-old.so" "$BENCH/fwdhook.c"
	rewrite_mechs "$OLD/build/zprewrite" "$OLD/build/samples/fakepid.so" "$W/fwdhook-old.so" "$W/mech-old"
fi
# The loop being measured must be a patched site, and its copy must not be.
"$ZP" --list "$W/mech" >"$RES/mech-sites.txt"
grep -q 'zpb_loop_native+.*patch' "$RES/mech-sites.txt" || die "zpb_loop_native's syscall is not patched"
if grep -q 'zpb_jit' "$RES/mech-sites.txt"; then die "the jit image was seen as code"; fi
# A rewritten program that cannot map page 0 when it must exits with 127 and says why.
"$W/mech.zp" -l >/dev/null || die "the rewritten mech does not start (root or vm.mmap_min_addr=0 needed)"
ZP_PAGE0=never "$W/mech.zp" -l >/dev/null || die "the rewritten mech does not start on the trap path"
# Item 10's premises, checked with strace: with --complete the calls of the
# file-backed copy are caught, a SIGSYS each (without Syscall User Dispatch
# --complete does nothing), and with --vdso the C library's clock_gettime is
# a real system call.
strace -f -qq -e trace=none -e signal=SIGSYS -o "$W/comp.strace" \
	"$W/mech.comp" -r 1 -t 1 -s getpid -m file-native -o /dev/null 2>/dev/null
[ "$(grep -c SIGSYS "$W/comp.strace")" -ge 100 ] ||
	die "mech.comp: file-native's calls are not caught (Syscall User Dispatch: Linux >= 5.11)"
strace -f -qq -e trace=clock_gettime -o "$W/vdso.strace" \
	"$W/mech.vdso" -r 1 -t 1 -s clock_gettime -m libc-clock -o /dev/null 2>/dev/null
[ "$(grep -c 'clock_gettime(CLOCK_MONOTONIC' "$W/vdso.strace")" -ge 1000 ] ||
	die "mech.vdso: the C library's clock_gettime does not make system calls"

ALL_NRS=read,write,getpid,getppid,getrandom,nosys,nosys-hi,nosys-far
ZP_MECHS=native,jit-native,jit-floor,jit-floor-ind,cached,libc-syscall,libc-getpid
# One process of a round: mrun KIND ROUND ZP_PAGE0 PROGRAM MECH-ARGS... writes
# every repetition to results/mech/KIND.ROUND.txt (thread CPU time).
mrun() {
	local kind=$1 r=$2 page0=$3 prog=$4
	shift 4
	ZP_PAGE0=$page0 "$prog" -c -r "$MECH_REPS" -t "$MECH_MS" -a "$RES/mech/$kind.$r.txt" \
		-o /dev/null "$@"
}
# One kind of process (the -old ones only with BENCH_BEFORE).
kind() { # kind round
	local r=$2 m="$W/mech" mo="$W/mech-old"
	case $1 in
	orig) mrun orig "$r" fast "$m" -s $ALL_NRS \
		-m native,floor,jit-native,jit-floor,cached,seccomp,sud,libc-syscall,libc-getpid ;;
	zp) mrun zp "$r" fast "$m.zp" -s $ALL_NRS -m $ZP_MECHS ;;
	zp-old) mrun zp-old "$r" fast "$mo.zp" -s $ALL_NRS -m $ZP_MECHS ;;
	# the fault-based floors, next to the trap path (item 8), and the
	# SUD-based ones, next to --complete (item 10)
	floor) mrun floor "$r" fast "$m" -s getpid \
		-m native,fault,fault-cached,sud,seccomp,sud-real,sud-pass ;;
	trap) mrun trap "$r" never "$m.zp" -s getpid -m native,jit-native ;;
	# item 10: --complete (jit-native is learned, file-native caught at
	# every call), page 0 and the trap path; --vdso
	comp) mrun comp "$r" fast "$m.comp" -s getpid -m native,jit-native,file-native ;;
	comp-trap) mrun comp-trap "$r" never "$m.comp" -s getpid -m native,jit-native,file-native ;;
	comp-fake) mrun comp-fake "$r" fast "$m.comp-fake" -s getpid -m file-native ;;
	vdso) mrun vdso "$r" fast "$m.vdso" -s clock_gettime -m jit-native,libc-clock,vdso-clock ;;
	vdso-hook) mrun vdso-hook "$r" fast "$m.vdso-hook" -s clock_gettime -m libc-clock,vdso-clock ;;
	fake) mrun fake "$r" fast "$m.fake" -s getpid -m native,jit-native,jit-floor,cached ;;
	fake-old) mrun fake-old "$r" fast "$mo.fake" -s getpid -m native,jit-native,jit-floor,cached ;;
	fake-trap) mrun fake-trap "$r" never "$m.fake" -s getpid -m native,jit-native,cached ;;
	fwd) mrun fwd "$r" fast "$m.fwd" -s getpid -m native,jit-native ;;
	fwd-old) mrun fwd-old "$r" fast "$mo.fwd" -s getpid -m native,jit-native ;;
	wall-orig) # wall time: ptrace can only be timed on the wall clock, so
		# its ratio is taken against the rewritten mech's, run next to it.
		"$m" -r "$MECH_REPS" -t "$MECH_MS" -s getpid -a "$RES/mech/wall-orig.$r.txt" \
			-o /dev/null -m native,ptrace,seccomp,sud ;;
	wall-zp) "$m.zp" -r "$MECH_REPS" -t "$MECH_MS" -s getpid -a "$RES/mech/wall-zp.$r.txt" \
		-o /dev/null -m native,jit-native ;;
	esac
}
# Units of a round; their order rotates from round to round.  A unit is one
# kind, or a chain of kinds compared across processes, each with its
# neighbours: run adjacent, forwards in even rounds and backwards in odd
# ones (so each neighbour goes first half of the time).  The -old kinds run
# only with BENCH_BEFORE.
units=(orig:comp-fake zp-old:zp:comp:floor:trap:comp-trap fake:fake-old fwd:fwd-old fake-trap
	wall-orig:wall-zp vdso:vdso-hook)
unit() { # unit round
	local k ks=() chain
	IFS=: read -ra chain <<<"$1"
	for k in "${chain[@]}"; do
		[ -n "$BEFORE" ] || [ "${k%-old}" = "$k" ] || continue
		if [ $(($2 % 2)) = 1 ]; then ks=("$k" "${ks[@]}"); else ks+=("$k"); fi
	done
	for k in "${ks[@]}"; do kind "$k" "$2"; done
}
for ((r = 0; r < MECH_ROUNDS; r++)); do
	log "mech round $((r + 1))/$MECH_ROUNDS"
	for ((k = 0; k < ${#units[@]}; k++)); do
		unit "${units[$(((k + r) % ${#units[@]}))]}" "$r" 2>>"$RES/mech/stderr.txt"
	done
done

# ---- 4: start-up ---------------------------------------------------------
log "start-up: static busybox true, an empty static program, bundled /bin/true"
S=$W/start
mkdir -p "$S/orig" "$S/zp"
# busybox picks its applet from argv[0]: both copies are named busybox.
cp "$BUSYBOX" "$S/orig/busybox"
"$ZP" "$BUSYBOX" "$S/zp/busybox"
printf 'int main(void) { return 0; }\n' >"$S/empty.c"
gcc -O2 -static -o "$S/orig/empty" "$S/empty.c"
"$ZP" "$S/orig/empty" "$S/zp/empty"
gcc "${CFLAGS[@]}" -static -o "$S/orig/startmimic" "$BENCH/startmimic.c"
"$ZP" -q --bundle "$S/true.bundle" "$TRUE"
BTRUE="$S/true.bundle/$(basename "$TRUE")"
recopy "$S"/orig/* "$S"/zp/* "$BTRUE" "$S"/true.bundle/lib/*
"$S/zp/busybox" true || die "the rewritten busybox true failed"
"$S/zp/empty" || die "the rewritten empty program failed"
"$BTRUE" || die "the bundled true failed"
"$S/orig/startmimic" 7 || die "startmimic failed"
"$W/vmcost" "$S/true.bundle/lib" >"$RES/vmcost.txt"
{
	echo "busybox $S/orig/busybox true :: $S/zp/busybox true"
	echo "empty $S/orig/empty :: $S/zp/empty"
	echo "mimic $S/orig/startmimic 0 :: $S/orig/startmimic 7"
	echo "bundle $TRUE :: $BTRUE"
} >"$RES/startup/pairs.txt"
while read -r name rest; do
	cmd_a=${rest% :: *} cmd_b=${rest#* :: }
	# shellcheck disable=SC2086 # the commands are split into words on purpose
	"$W/interleave" -n "$START_RUNS" -w "$START_WARM" -o "$RES/startup/$name.txt" -- $cmd_a -- $cmd_b </dev/null
	for ((k = 0; k < HF_PAIRS; k++)); do
		if [ $((k % 2)) = 0 ]; then c=("$cmd_a" "$cmd_b"); else c=("$cmd_b" "$cmd_a"); fi
		hyperfine -N --style none --warmup "$START_WARM" --runs "$HF_RUNS" \
			--export-json "$RES/startup/hf-$name.$k.json" "${c[@]}" </dev/null >/dev/null 2>&1
	done
done <"$RES/startup/pairs.txt"
# What each side does at start, system call by system call (counted by report.py).
while read -r name rest; do
	cmd_a=${rest% :: *} cmd_b=${rest#* :: }
	# shellcheck disable=SC2086
	strace -f -qq -o "$RES/startup/$name.orig.strace" $cmd_a </dev/null
	# shellcheck disable=SC2086
	strace -f -qq -o "$RES/startup/$name.zp.strace" $cmd_b </dev/null
done <"$RES/startup/pairs.txt"

# ---- 5: memory -----------------------------------------------------------
log "memory: smaps_rollup of running sleep processes"
"$ZP" -q --bundle "$S/sleep.bundle" "$SLEEP"
BSLEEP="$S/sleep.bundle/$(basename "$SLEEP")"
recopy "$BSLEEP" "$S"/sleep.bundle/lib/*
names=(busybox busybox.zp sleep sleep.bundle)
cmds=("$S/orig/busybox sleep 2" "$S/zp/busybox sleep 2" "$SLEEP 2" "$BSLEEP 2")
for ((k = 0; k < MEM_ROUNDS; k++)); do
	pids=()
	for i in 0 1 2 3; do
		# shellcheck disable=SC2086
		${cmds[$i]} &
		pids+=($!)
		PIDS+=($!)
	done
	sleep "$MEM_DELAY"
	for i in 0 1 2 3; do
		p=${pids[$i]}
		{
			echo "maps $(wc -l <"/proc/$p/maps")"
			grep -E '^[A-Za-z_]+:' "/proc/$p/smaps_rollup" | tr -d ':' | awk '{ print $1, $2 }'
			grep -E '^00000000-' "/proc/$p/maps" | sed 's/^/page0 /' || true
		} >"$RES/mem/${names[$i]}.$k.txt"
	done
	for p in "${pids[@]}"; do wait "$p" || die "a sleep process failed"; done
	PIDS=()
done

# ---- 6: rewriter speed ---------------------------------------------------
log "rewriter speed: zprewrite and objdump -d on busybox, libc, python3"
"$ZP" "$LIBC" "$RAM/libc.so.6"
"$ZP" "$PYTHON" "$RAM/$(basename "$PYTHON")"
# name, input, output, their sizes
for f in "busybox $BUSYBOX $S/zp/busybox" "libc $LIBC $RAM/libc.so.6" \
	"python3 $PYTHON $RAM/$(basename "$PYTHON")"; do
	read -r n src dst <<<"$f"
	echo "$n $src $dst $(stat -c %s "$src") $(stat -c %s "$dst")"
done >"$RES/rewrite/files.txt"
for f in busybox libc python3; do
	read -r _ src _ _ _ < <(grep "^$f " "$RES/rewrite/files.txt")
	"$ZP" --list "$src" | tail -n 1 >"$RES/rewrite/$f.summary"
	hyperfine -N --style none --warmup 2 --runs "$RW_RUNS" \
		--export-json "$RES/rewrite/zp-$f.json" "$ZP $src $RAM/rw-$f.out" >/dev/null 2>&1
	hyperfine -N --style none --warmup 0 --runs "$OBJDUMP_RUNS" \
		--export-json "$RES/rewrite/objdump-$f.json" "objdump -d $src" >/dev/null 2>&1
done
# Where the time of a rewrite goes: starting zprewrite (it links libelf,
# libdw, Zydis, libopcodes, libbfd), and the analysis without writing.
hyperfine -N --style none --warmup 2 --runs "$RW_RUNS" --export-json "$RES/rewrite/zp-parts.json" \
	"$ZP --version" "$ZP --list $BUSYBOX" >/dev/null 2>&1
# A profile of rewriting busybox, if perf works here (deps.sh installs linux-perf, but
# perf may not support every kernel: the page then goes without the profile).
if command -v perf >/dev/null &&
	perf record -q -F 20000 -o "$W/perf-rewrite.data" -- sh -c \
		"for i in 1 2 3 4 5; do $ZP $BUSYBOX $RAM/perf-bb.out; done" >/dev/null 2>&1; then
	perf report -i "$W/perf-rewrite.data" --no-children --sort dso,sym --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' >"$RES/rewrite/perf-busybox.txt" || true
fi
hyperfine -N --style none --warmup 1 --runs "$BUNDLE_RUNS" \
	--export-json "$RES/rewrite/bundle-python3.json" \
	"$ZP -q --force --bundle $RAM/python.bundle $PYTHON" >/dev/null 2>&1
"$RAM/python.bundle/$(basename "$PYTHON")" -c 'import sys; assert sys.version_info[0] == 3' ||
	die "the bundled python3 does not run"
du -sb "$RAM/python.bundle" | cut -f1 >"$RES/rewrite/bundle-python3.bytes"
ls "$RAM/python.bundle/lib" | wc -l >"$RES/rewrite/bundle-python3.libs"
rm -rf "${RAM:?}"/*

# ---- 7: redis --------------------------------------------------------------
log "redis: original and bundled redis-server under redis-benchmark"
"$ZP" -q --bundle "$W/redis.bundle" "$REDIS"
BREDIS="$W/redis.bundle/$(basename "$REDIS")"
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_redis() { # name binary port; sets started_pid
	"$2" --port "$3" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
		--dir "$W" --logfile "$W/redis-$1.log" </dev/null >/dev/null 2>&1 &
	started_pid=$!
	PIDS+=("$started_pid")
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(redis-cli -h 127.0.0.1 -p "$3" ping 2>/dev/null)" = PONG ] && return
		kill -0 "$started_pid" 2>/dev/null || break
		sleep 0.05
	done
	die "redis-server $1 did not answer on port $3 (see $W/redis-$1.log)"
}
# CPU time (ns) used so far by every thread of a process.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'
}
p_orig=$(free_port)
start_redis orig "$REDIS" "$p_orig"
pid_orig=$started_pid
p_zp=$(free_port)
[ "$p_zp" != "$p_orig" ] || p_zp=$(free_port)
start_redis zp "$BREDIS" "$p_zp"
pid_zp=$started_pid
{
	echo "orig_exe $(readlink "/proc/$pid_orig/exe")"
	echo "zp_exe $(readlink "/proc/$pid_zp/exe")"
	echo "zp_page0 $(grep -c '^00000000-' "/proc/$pid_zp/maps" || true)"
	echo "orig_page0 $(grep -c '^00000000-' "/proc/$pid_orig/maps" || true)"
	echo "zp_libs $(ls "$W/redis.bundle/lib" | wc -l)"
} >"$RES/redis/servers.txt"
# Where the bundled server's objects are loaded, and the sites of the files
# they were made from: report.py models the runtime's site table with them.
cp "/proc/$pid_zp/maps" "$RES/redis/zp-maps.txt"
mkdir -p "$RES/redis/sites"
{
	echo "$(basename "$REDIS") $(readlink -f "$REDIS")"
	interp=$(readelf -lW "$REDIS" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	echo "$(basename "$interp") $(readlink -f "$interp")"
	ldd "$REDIS" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
} | while read -r name path; do
	"$ZP" --list "$path" >"$RES/redis/sites/$name.txt"
done
for ((r = 0; r < REDIS_ROUNDS; r++)); do
	[ $((r % 4)) = 0 ] && log "redis round $((r + 1))/$REDIS_ROUNDS"
	order=(orig zp)
	[ $((r % 2)) = 1 ] && order=(zp orig)
	for s in "${order[@]}"; do
		port=$p_orig pid=$pid_orig
		[ "$s" = zp ] && port=$p_zp pid=$pid_zp
		c0=$(cpu_ns "$pid")
		redis-benchmark -h 127.0.0.1 -p "$port" -t get,set -n "$REDIS_N" \
			-c "$REDIS_CLIENTS" -q --csv >"$RES/redis/$s.$r.csv"
		echo "$(($(cpu_ns "$pid") - c0))" >"$RES/redis/$s.$r.cpu"
	done
done
redis-cli -h 127.0.0.1 -p "$p_zp" info server | tr -d '\r' | grep -E '^redis_version:' >>"$RES/redis/servers.txt"
cleanup

# ---- report ----------------------------------------------------------------
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/env.txt"
echo "duration_s=$(($(date +%s) - start_s))" >>"$RES/env.txt"
log "writing $DOCS/performance.md"
/usr/bin/python3 "$BENCH/report.py" "$RES" "$W" "$DOCS"
gnuplot -e "in='$W/plot-syscall.txt'; out='$DOCS/perf-syscall.png'" \
	-e "title='ns per system call: unpatched, call floors, and through zprewrite (pass-through), same process, thread CPU time'" \
	"$BENCH/plot.gp"
gnuplot -e "in='$W/plot-getpid.txt'; out='$DOCS/perf-getpid.png'" \
	-e "title='ns per getpid, by mechanism (thread CPU time; ptrace: wall time)'" \
	"$BENCH/plot.gp"
log "done in $(($(date +%s) - start_s)) s: $DOCS/performance.md, perf-syscall.png, perf-getpid.png"
