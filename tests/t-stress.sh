#!/usr/bin/env bash
# t-stress.sh - threads, signals, fork, vfork, clone3 and posix_spawn all at
# once, for a couple of seconds, with a counting hook: nothing crashes and the
# hook's count is exact.
#
# stress (tests/programs/stress.c): 4 worker threads make raw getppid calls
# (each result checked) between other calls; a thread keeps sending SIGUSR1 to
# them, and the handler makes getppid calls too; a thread creates and joins
# short-lived threads (each one getppid); the main thread forks, vforks,
# clone3s (vfork-like) and posix_spawns children in a loop.  The program counts
# its own getppid calls atomically and writes the total to $STRESS_COUNT_FILE.
# Rewritten with the tcount test hook (counting getppid, ZPT_COUNT_NR=110),
# for each build (glibc static, static-pie, musl), in both hook modes (pass
# back to the runtime / make the calls itself):
#   - output and status the same as the original's (all checks inside passed);
#   - the hook's getppid count equals the program's own count exactly (summed
#     over the processes that wrote a table: spawned children count 0).
# Also run rewritten without a hook.  STRESS_MS (default 800) sets the length
# of each run (4 per build and path: the original, and 3 rewritten).
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534).
source "$TESTS/harness.sh"

build_test_hook tcount
export STRESS_MS=${STRESS_MS:-800} ZPT_COUNT_NR=110

counts_equal() { # hook file, program's file
	local hook prog
	hook=$(awk '$1 == "count" { s += $2 } END { print s + 0 }' "$1" 2>/dev/null)
	prog=$(head -n 1 "$2" 2>/dev/null)
	note "  program counted ${prog:-nothing} getppid, hook ${hook:-nothing} ($(sed -n 2p "$2" 2>/dev/null))"
	[ -n "$prog" ] && [ "$hook" = "$prog" ]
}

flavs=()
for f in $(flavours stress); do
	orig=$(prog stress $f)
	rewrite "$orig" "st.$f" || continue
	rewrite "$orig" "st.$f.hooked" --hook tcount.so || continue
	flavs+=("$f")
done

contract() {
	local f fwd
	for f in "${flavs[@]}"; do
		check_same "$f: stress, no hook" "$(prog stress $f)" "./st.$f"
		for fwd in 0 1; do
			rm -f "hook.$f.$fwd" "prog.$f.$fwd"
			ZPT_FORWARD=$fwd ZPT_COUNT_FILE=$PWD/hook.$f.$fwd STRESS_COUNT_FILE=$PWD/prog.$f.$fwd \
				check_again "$f: stress with hook (forward=$fwd)" "./st.$f.hooked"
			check "$f: hook count exact (forward=$fwd)" counts_equal "hook.$f.$fwd" "prog.$f.$fwd"
		done
	done
}
in_paths contract
