# lib.sh - helpers shared by the test scripts (sourced, not run).
#
# A test script runs in a fresh temporary directory (its working directory)
# with these variables set by tests/run.sh:
#   BUILD      the build directory (build/), with build/samples/ etc.
#   ZPREWRITE  the zprewrite binary under test (normal or ASan build)
#   TESTS      this directory
# (all three absolute paths).
# It fails by exiting non-zero (use fail), and skips by exiting 77 with the
# reason as its last line (use skip).
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
note() { echo "-- $*"; }

# Tests that run rewritten programs need the trampoline at address 0.
need_page0() {
	local min
	min=$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null || echo 65536)
	if [ "$min" != 0 ] && [ "$(id -u)" != 0 ]; then
		skip "needs page 0: vm.mmap_min_addr is $min and this is not root (run as root, or sysctl -w vm.mmap_min_addr=0)"
	fi
}

# hello_c: the source of a small program with a system call of its own,
# input for the tests that mutate or corrupt a valid file.
hello_c() {
	cat <<'EOF'
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv)
{
	(void)argv;
	printf("hello %d\n", argc);
	return syscall(SYS_getpid) < 0;
}
EOF
}

# rewrite IN OUT [options...]: run zprewrite, fail the test on error.
rewrite() {
	local in=$1 out=$2; shift 2
	"$ZPREWRITE" "$@" "$in" "$out" || fail "zprewrite $* $in $out failed"
}

# same_run ORIG PATCHED [args...]: run both programs with the same arguments
# (and stdin from $STDIN if set), compare stdout, stderr and exit status.
same_run() {
	local a=$1 b=$2; shift 2
	local in=${STDIN:-/dev/null} ra rb
	set +e
	"$a" "$@" <"$in" >orig.out 2>orig.err; ra=$?
	"$b" "$@" <"$in" >patched.out 2>patched.err; rb=$?
	set -e
	[ $ra -eq $rb ] || fail "exit status differs: $a $* -> $ra, patched -> $rb"
	cmp -s orig.out patched.out || { diff orig.out patched.out | head -20 >&2; fail "stdout differs: $*"; }
	cmp -s orig.err patched.err || { diff orig.err patched.err | head -20 >&2; fail "stderr differs: $*"; }
}

# elflint_filter FILE: eu-elflint --gnu-ld's messages on FILE, section numbers
# left out (they shift when sections are added), minus one false positive:
# elflint counts a relocation as "modifying a read-only section" if
# r_offset + the symbol's st_size reaches a read-only segment: a JUMP_SLOT for
# a large function, in a .got.plt just below the rewriter's new read-only
# segment, trips it although the slot itself is writable.  That message is
# ignored (and logged to elflint-ignored.txt) when the slot really is in a
# writable segment (tests/slot_writable.py checks).
elflint_filter() {
	{ eu-elflint --gnu-ld "$1" 2>&1 || true; } | while IFS= read -r line; do
		case $line in
		"section ["*"] '"*"': relocation "*": read-only section modified but text relocation flag not set")
			local sec n
			sec=$(echo "$line" | sed "s/^[^']*'\([^']*\)'.*/\1/")
			n=$(echo "$line" | sed 's/.*: relocation \([0-9]*\):.*/\1/')
			if python3 "$TESTS/slot_writable.py" "$1" "$sec" "$n"; then
				echo "$1: $line" >>elflint-ignored.txt
			else
				echo "$line" | sed 's/^section \[ *[0-9]*\]/section/'
			fi ;;
		"No errors") ;;
		*) echo "$line" | sed 's/^section \[ *[0-9]*\]/section/' ;;
		esac
	done
}

# lint_pair NEW ORIGINAL: fail if eu-elflint --gnu-ld reports anything on NEW
# (a rewritten or bundled file) that it does not report on ORIGINAL.  The
# caller checks that eu-elflint exists.
lint_pair() {
	local new old extra
	new=$(elflint_filter "$1" | sort -u); old=$(elflint_filter "$2" | sort -u)
	extra=$(comm -23 <(echo "$new") <(echo "$old") | grep . || true)
	[ -z "$extra" ] || fail "eu-elflint --gnu-ld: new messages for $1: $extra"
}

# strace_ok ERRFILE STRACE-ARGS...: run strace with its stderr (and the
# traced program's) in ERRFILE.  0: it ran and the program succeeded.  1: it
# cannot trace here (not installed, or ptrace not permitted, as in some
# containers): STRACE_WHY says why, and the caller skips its comparison with a
# note.  Any other failure (the program failing under strace, a bad option)
# fails the test: a comparison with strace must not pass by not running.
strace_ok() {
	local err=$1; shift
	STRACE_WHY=""
	if ! command -v strace >/dev/null; then STRACE_WHY="strace is not installed"; return 1; fi
	strace "$@" 2>"$err" && return 0
	if grep -qi 'ptrace.*operation not permitted\|PTRACE_TRACEME' "$err"; then
		STRACE_WHY="strace cannot trace here: $(grep -m1 -i 'ptrace' "$err")"
		return 1
	fi
	sed 's/^/   strace| /' "$err" | tail -n 10 >&2
	fail "strace $* failed"
}
