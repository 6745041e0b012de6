#!/usr/bin/env bash
# t-hook-runs.sh - an embedded hook really runs, and sees every call exactly once.
#
# hook-getppid (tests/programs/) makes exactly N raw getppid calls besides
# libc's start-up and exit.  Rewritten with the counting test hook
# (tests/hooks/tcount.c, which counts per number and writes its table at
# exit_group), for each build (glibc static, static-pie, musl):
#   - the hook's getppid count must be exactly N (N = 1, 1000, 54321), with
#     the hook passing the calls to the runtime and with it making them
#     itself (ZPT_FORWARD=1), and the program's output unchanged;
#   - the hook's whole table must equal what `strace -f -c` counts for the
#     ORIGINAL program, number by number: the same calls, no more, no fewer
#     (strace -c leaves out exit_group, which does not return; the hook cannot
#     see execve, which happened before the program's code ran);
#   - every call the hook saw came from a known site.
# A hook that never ran, ran twice per call, missed calls made from libc, or
# saw calls the program did not make fails here.
# All of it in the runtime's two paths (in_paths: page 0, trap path as root
# and as uid 65534; strace runs once, on the original, as root).
source "$TESTS/harness.sh"
command -v strace >/dev/null || skip "strace is not installed (apt-get install strace)"

build_test_hook tcount

# hook_count FILE KEY: a value from the hook's table.
hook_count() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

getppid_exact() { # countfile n
	local c nosite
	c=$(hook_count "$1" count)
	nosite=$(hook_count "$1" nosite)
	note "  hook counted ${c:-nothing} getppid for N=$2 (calls without a site: ${nosite:-?})"
	[ "${c:-x}" = "$2" ] && [ "${nosite:-x}" = 0 ]
}

same_table() { # countfile stracefile
	# strace -c -U calls,name: "CALLS NAME" rows between two rules.
	awk 'NF == 2 && $1 ~ /^[0-9]+$/ && $2 != "total" && $2 != "execve" { print $2, $1 }' "$2" | sort >strace.table
	awk 'NF == 2 && $1 != "count" && $1 != "total" && $1 != "nosite" && $1 != "exit_group" { print $1, $2 }' "$1" | sort >hook.table
	if ! cmp -s strace.table hook.table; then
		note "  per-call counts differ (< strace of the original, > the hook):"
		diff strace.table hook.table | head -20 | sed 's/^/#   /' >&2
		return 1
	fi
	note "  $(wc -l <hook.table) different calls, same counts as strace"
}

# Rewritten once, and strace -c of each original (stdout to a regular file,
# as in the hook's runs: libc asks a character device whether it is a
# terminal, one more ioctl).  Not for a bundle: its loader starts differently
# from the system's (libraries opened by path, no search), so the start-up
# calls differ on purpose.
flavs=()
for f in $(flavours hook-getppid); do
	orig=$(prog hook-getppid $f)
	rewrite "$orig" "hook-getppid.$f" --hook tcount.so || continue
	flavs+=("$f")
	[ "$f" != dynamic ] || continue
	strace -f -qq -c -U calls,name -o "strace.$f" "$orig" 1000 >strace.out </dev/null
done

contract() {
	local f n fwd
	for f in "${flavs[@]}"; do
		for n in 1 1000 54321; do
			for fwd in 0 1; do
				rm -f "count.$f.$n.$fwd"
				ZPT_FORWARD=$fwd ZPT_COUNT_FILE=$PWD/count.$f.$n.$fwd \
					check_same "$f N=$n forward=$fwd: output" "$(prog hook-getppid $f)" "./hook-getppid.$f" "$n"
				check "$f N=$n forward=$fwd: hook counted exactly N getppid" getppid_exact "count.$f.$n.$fwd" "$n"
			done
		done
		[ "$f" != dynamic ] || continue
		check "$f: hook's table equals strace -f -c of the original" same_table "count.$f.1000.0" "strace.$f"
	done
}
in_paths contract
