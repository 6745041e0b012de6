# harness.sh - the one harness of the test scripts (sourced by every tests/t-*.sh).
#
# A test script runs in a fresh temporary directory (its working directory)
# with BUILD (the build directory), ZPREWRITE (the zprewrite under test,
# normal or ASan build) and TESTS (this directory) set by tests/run.sh, all
# absolute.  It makes named checks; each prints one TAP line, "ok N - NAME"
# or "not ok N - NAME" followed by "# ..." lines saying why, and the script
# goes on after a failed check.  When the script ends (however it ends) the
# harness prints the plan "1..N" and a summary, and the script's status is
# 1 if any check failed, 77 if it skipped, 0 otherwise.  Every program run
# through the harness has a time limit: a hang is a failed check.
#
# ---- the vocabulary ------------------------------------------------------
# Checks (a NAME is prefixed with the labels of the enclosing in_mode calls):
#   check NAME COMMAND...     passes when COMMAND succeeds (returns 0 either way;
#                             a pipeline or [[ ]]: check NAME eval 'CODE', where
#                             CODE sees the script's variables, not its $1...)
#   check_not NAME COMMAND... passes when COMMAND fails (a negative control)
#   check_same NAME ORIG PATCHED [ARGS...]
#                             run both (stdin from $STDIN or /dev/null), compare
#                             exit status, stdout and stderr (kept as orig.* and
#                             patched.*).  The original must also have done its
#                             own job: with $ZPT_EXPECT_RC set it must exit with
#                             that status (139: killed by SIGSEGV); without, it
#                             must not have failed its own checks (status 101 or
#                             a "FAILED: " line on stderr, see tests/programs/
#                             ptest.h), died of a signal, timed out or failed to
#                             start (124-127): otherwise a rewritten program
#                             failing the same way would pass.  $ZPT_BETWEEN, if
#                             set, is eval'ed between the two runs (to repoint a
#                             symlink, say); $ZPT_ARGV0 sets both runs' argv[0].
#                             $ZPT_ORIG_SED, if set, is a documented difference:
#                             the sed script turns the original's stdout into
#                             what the rewritten program must print, and must
#                             change it (else the check fails: a difference
#                             that no longer shows must not pass unnoticed)
#   check_again NAME PATCHED [ARGS...]
#                             the same against the original's run of the last
#                             check_same (not run nor judged again)
#   begin_check NAME, fault WHY..., end_check
#                             one check made of several conditions: each fault
#                             records one thing wrong; end_check prints it
#   good NAME, bad NAME WHY   record a passed / failed check directly
#   skip_check NAME WHY       a check that cannot run here ("ok N - NAME # SKIP")
#   last_ok                   status of the last check (0 if it passed)
#   in_mode LABEL [VAR=VALUE...] -- COMMAND [ARGS...]
#                             run COMMAND (a function making checks) with
#                             "LABEL: " before every check name and the VAR=VALUE
#                             settings exported for its duration: the same check
#                             list can be run twice, in two modes, e.g.
#                               contract() { check_same "$m" "$orig" ./p.zp "$m"; }
#                               in_mode "page 0" -- contract
#                               in_mode "trap path" ZP_SOME_SWITCH=1 -- contract
#                             gives "page 0: read0", "trap path: read0"...
# The runtime's two paths (docs/runtime.md, "Page 0 and the trap path"):
#   in_paths [--auto] COMMAND [ARGS...]
#                             run COMMAND (a function making checks) three
#                             times, under in_mode, each starting with a check
#                             that a rewritten program really takes that path
#                             (page 0 mapped or not, in its /proc/self/maps):
#     "page 0"                ZP_PAGE0=auto where page 0 can be made
#                             execute-only, fast where it cannot (then
#                             ZPT_PAGE0_READABLE=1: NULL reads return
#                             trampoline bytes); one skipped check saying why
#                             where page 0 cannot be mapped (not root, and
#                             vm.mmap_min_addr > 0)
#     "trap"                  ZP_PAGE0=never
#     "trap, uid 65534"       as root only: every program run_t runs (the
#                             original and the rewritten one) runs as uid 65534
#                             without capabilities (ZPT_RUN_AS: setpriv ...),
#                             ZP_PAGE0=auto: the path an ordinary user gets
#                             (never where vm.mmap_min_addr is 0).  For a
#                             program run_t does not run (under strace, say),
#                             put ${ZPT_RUN_AS:-}, unquoted, before it.  The
#                             working directory and its files are given to
#                             that user when the mode starts, so that it can
#                             run the programs there and write the hooks' and
#                             the programs' files
#     "auto"                  with --auto, a fourth mode: ZP_PAGE0=auto as this
#                             user, the path --check-host names for auto (on a
#                             host without execute-only memory, as root, the
#                             runtime maps page 0 and gives it up again)
#                             ZPT_PATH is page0, trap, trap-uid or auto in each mode.
#   every_variant             false in the uid 65534 and auto modes, where the
#                             tests run a program without a hook and with one
#                             hook only (to keep the suite's time): those modes
#                             take the path of another mode ("trap", or "page
#                             0" on a host with execute-only memory) through
#                             the same runtime code but for the decision, and
#                             what they change (the decision, the programs' and
#                             the hooks' files as another user, a bundle's
#                             loader reading its libraries) shows with one
#                             hook as with three
#   page0_readable            true in the page-0 mode on a host without
#                             execute-only memory, where the documented
#                             differences hold (a NULL read returns trampoline
#                             bytes instead of faulting)
#   check_reads_page0 NAME ORIG PATCHED ARGS...
#                             where page0_readable, for contract-null's read
#                             modes (the last ARG): the original judged as
#                             check_same judges it (ORIG "-": its last run, as
#                             check_again takes it), and the rewritten program
#                             reads trampoline bytes and goes on: it prints
#                             "read N" and "MODE: survived", nothing on
#                             stderr, and exits 0
# Ending or leaving early:
#   fail WHY                  a failed check that ends the script (the setup broke,
#                             or nothing after it can be checked)
#   skip WHY                  skip the whole script (status 77; a failed check
#                             made before still fails it)
#   need_page0                skip unless rewritten programs can map page 0 (for
#                             scripts that do not run in_paths)
#   note TEXT                 a "# TEXT" line
#   on_exit COMMAND           eval COMMAND when the script ends, before the report
#                             (the harness owns the EXIT trap: do not set one)
# Running and rewriting:
#   run_t PREFIX PROGRAM [ARGS...]
#                             one run with the time limit ($ZP_RUN_TIMEOUT, 60 s):
#                             PREFIX.out, PREFIX.err, status in RUN_RC
#   rewrite IN OUT [OPTIONS...]
#                             zprewrite -q OPTIONS IN OUT, a check named "rewrite
#                             OUT"; a dynamically linked IN is bundled (with its
#                             loader and libraries, --force --bundle OUT.bundle)
#                             and OUT made a link to the bundle's copy.  Returns 1
#                             if it failed: `rewrite ... || continue` goes on, a
#                             bare `rewrite` ends the script there (set -e)
#   rewrite_three IN OUT      rewrite to OUT (no hook), OUT.hooked (./tcount.so,
#                             from build_test_hook tcount) and OUT.traced (the
#                             trace sample hook); 1 if one failed
# The test programs (tests/programs/, built into $BUILD/tests/):
#   prog NAME FLAVOUR         path of NAME.FLAVOUR, "" if that build does not
#                             exist (no musl-gcc); a copy in ./progs/, which
#                             uid 65534 can read wherever the build is
#   flavours NAME             those of static static-pie musl dynamic that exist
#   build_test_hook NAME [--vector] [CFLAGS...]
#                             build tests/hooks/NAME.c into ./NAME.so (--vector:
#                             without -mgeneral-regs-only)
#   hello_c                   the source of a small program with a call of its own
# Did a hook really run (for check; `fresh FILE...` removes the file first):
#   hook_saw_calls FILE [MIN] the tcount hook's count file ($ZPT_COUNT_FILE):
#                             more than MIN (20) calls, all from known sites
#   hook_counted FILE NAMES   the count file has a row "NAME N", N > 0, NAME
#                             matching ^(NAMES)$ ("other": numbers beyond 511)
#   vector_hook_ran FILE      the vector test hook's call count is over 100
#   trace_has FILE ERE        the trace hook's log ($ZP_TRACE_FILE) has a line
#                             matching ERE (after strace -f's "[pid N] ")
# Other tools: elflint_filter, lint_pair (eu-elflint), strace_ok (strace
# where it can trace), selected (ZP_ONLY=REGEX runs only the checks whose
# names match).
# A check must run in the script's own shell (not in a pipeline or $(...)):
# the counts live there.  A check's COMMAND runs as an `if` condition, where
# set -e does not apply: it must return its verdict itself.
set -euo pipefail
ulimit -c 0

ZPH_N=0 ZPH_PASSED=0 ZPH_SKIPPED=0 ZPH_LAST=0
ZPH_FAILED=()
ZPH_PREFIX=""
ZPH_CASE="" ZPH_FAULTS=()
ZPH_END=""           # how the script ended: "", fail or skip
ZPH_SKIP_WHY=""
ZPH_ON_EXIT=()
RUN_TIMEOUT=${ZP_RUN_TIMEOUT:-60}
TEST_PROGRAMS_DIR=$BUILD/tests

# ---- reporting ---------------------------------------------------------------

note() { echo "# $*"; }

# zph_diag TEXT: each line of TEXT as a "# " line (nothing for empty TEXT).
zph_diag() { [ -z "$1" ] || printf '%s\n' "$1" | sed 's/^/#   /'; }

selected() { [ -z "${ZP_ONLY:-}" ] || [[ $1 =~ $ZP_ONLY ]]; }

# zph_report VERDICT NAME [DIRECTIVE]: the TAP line of one check.  '#' in a
# name is escaped: TAP reads "# " as the start of a directive.
zph_report() {
	local verdict=$1 name=${2//#/\\#}
	ZPH_N=$((ZPH_N + 1))
	echo "$verdict $ZPH_N - $name${3:+ # $3}"
}

begin_check() { ZPH_CASE=$ZPH_PREFIX$1 ZPH_FAULTS=(); }
fault() { ZPH_FAULTS+=("$*"); }
end_check() {
	local f
	if [ ${#ZPH_FAULTS[@]} -eq 0 ]; then
		zph_report ok "$ZPH_CASE"
		ZPH_PASSED=$((ZPH_PASSED + 1)) ZPH_LAST=0
	else
		zph_report "not ok" "$ZPH_CASE"
		for f in "${ZPH_FAULTS[@]}"; do zph_diag "$f"; done
		ZPH_FAILED+=("$ZPH_CASE") ZPH_LAST=1
	fi
}

good() { begin_check "$1"; end_check; }
bad() { begin_check "$1"; fault "$2"; end_check; }
last_ok() { return "$ZPH_LAST"; }

skip_check() {
	zph_report ok "$ZPH_PREFIX$1" "SKIP $2"
	ZPH_SKIPPED=$((ZPH_SKIPPED + 1))
}

check() {
	local name=$1; shift
	selected "$ZPH_PREFIX$name" || return 0
	if "$@"; then good "$name"; else bad "$name" "failed: $*"; fi
}

check_not() {
	local name=$1; shift
	selected "$ZPH_PREFIX$name" || return 0
	if "$@"; then bad "$name" "succeeded, and must not: $*"; else good "$name"; fi
}

in_mode() {
	local label=$1; shift
	local ZPH_PREFIX="$ZPH_PREFIX$label: "
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		[[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || fail "in_mode $label: '$1' is not VAR=VALUE"
		local -x "$1"
		shift
	done
	[ $# -gt 1 ] || fail "in_mode $label: no command after --"
	shift
	"$@"
}

fail() {
	bad "$*" "the script cannot go on"
	ZPH_END=fail
	exit 1
}

skip() {
	ZPH_END=skip ZPH_SKIP_WHY=$*
	exit 77
}

on_exit() { ZPH_ON_EXIT+=("$*"); }

# zph_exit: the EXIT trap.  The plan, the summary, and the script's status.
zph_exit() {
	local rc=$? cmd=$BASH_COMMAND c
	trap - EXIT
	set +e
	for c in "${ZPH_ON_EXIT[@]}"; do eval "$c"; done
	if [ -z "$ZPH_END" ] && [ "$rc" != 0 ]; then
		# set -e ended the script: after a failed check the rest depended
		# on (a bare `rewrite`, say), or a command outside the checks failed.
		if [ "$ZPH_LAST" = 1 ]; then
			note "the script ended after that failed check (status $rc of: $cmd)"
		else
			bad "the script ended early" "status $rc of: $cmd"
		fi
	fi
	if [ "$ZPH_END" = skip ] && [ "$ZPH_N" = 0 ]; then
		echo "1..0 # SKIP $ZPH_SKIP_WHY"
		exit 77
	fi
	echo "1..$ZPH_N"
	note "$ZPH_PASSED passed, ${#ZPH_FAILED[@]} failed, $ZPH_SKIPPED skipped"
	if [ ${#ZPH_FAILED[@]} -gt 0 ]; then
		printf '# failed: %s\n' "${ZPH_FAILED[@]}"
		exit 1
	fi
	if [ "$ZPH_END" = skip ]; then
		echo "# SKIP $ZPH_SKIP_WHY"
		exit 77
	fi
	exit 0
}
trap zph_exit EXIT

[ -x "$ZPREWRITE" ] || fail "no zprewrite binary at $ZPREWRITE (build it first: make)"

# Tests that run rewritten programs need the trampoline at address 0.
need_page0() {
	local min
	min=$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null || echo 65536)
	if [ "$min" != 0 ] && [ "$(id -u)" != 0 ]; then
		skip "needs page 0: vm.mmap_min_addr is $min and this is not root (run as root, or sysctl -w vm.mmap_min_addr=0)"
	fi
}

# ---- the runtime's two paths ---------------------------------------------------

ZPH_PATHS_PROBED=""
ZPT_PAGE0_READABLE=0
ZPH_PAGE0_POLICY="" ZPH_PAGE0_WHY=""
ZPH_UID_POLICY="" ZPH_UID_WHY="" ZPH_AUTO_PATH=""
ZPH_RUN_AS="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"

# zph_host_fact FILE KEY: the value of KEY in zprewrite --check-host's output
# (yes, no, a number), and its note (in parentheses) in ZPH_NOTE.
zph_host_fact() {
	local line; line=$(sed -n "s/^$2: //p" "$1")
	ZPH_NOTE=$(printf '%s' "$line" | sed -n 's/^[^(]*(\(.*\))$/\1/p')
	ZPH_FACT=${line%% (*}
}

# zph_paths_probe: once per script, what the modes can be here: the host's
# facts (zprewrite --check-host, for this user), uid 65534's access, and the
# program that shows which path a rewritten program took.
zph_paths_probe() {
	[ -z "$ZPH_PATHS_PROBED" ] || return 0
	ZPH_PATHS_PROBED=1
	"$ZPREWRITE" --check-host >zph-host.txt 2>&1 || fail "zprewrite --check-host: $(cat zph-host.txt)"
	zph_host_fact zph-host.txt page0_mappable
	[ "$ZPH_FACT" = yes ] ||
		ZPH_PAGE0_WHY="page 0 cannot be mapped here ($ZPH_NOTE): run as root, or sysctl -w vm.mmap_min_addr=0"
	zph_host_fact zph-host.txt execute_only
	if [ "$ZPH_FACT" = yes ]; then
		ZPH_PAGE0_POLICY=auto
	else
		ZPH_PAGE0_POLICY=fast ZPT_PAGE0_READABLE=1
	fi
	[ -n "$ZPH_PAGE0_WHY" ] ||
		note "execute-only memory: $ZPH_FACT ($ZPH_NOTE): the page-0 mode runs ZP_PAGE0=$ZPH_PAGE0_POLICY"
	zph_host_fact zph-host.txt path_auto
	ZPH_AUTO_PATH="trap path"
	[[ $ZPH_FACT != "page 0"* ]] || ZPH_AUTO_PATH="page-0 path"
	cat >zph-pathprobe.c <<'EOF'
/* Which path did this (rewritten) program take: is page 0 mapped? */
#include <stdio.h>
#include <string.h>
int main(void)
{
	char line[512];
	int page0 = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return 2;
	while (fgets(line, sizeof line, f))
		page0 |= !strncmp(line, "00000000-", 9);
	puts(page0 ? "page-0 path" : "trap path");
	return 0;
}
EOF
	gcc -O2 -static -o zph-pathprobe.orig zph-pathprobe.c 2>zph-probe.err ||
		fail "cannot build the path probe (gcc -static): $(cat zph-probe.err)"
	"$ZPREWRITE" -q zph-pathprobe.orig zph-pathprobe 2>zph-probe.err ||
		fail "cannot rewrite the path probe: $(cat zph-probe.err)"
	zph_uid_probe
}

# zph_uid_probe: can programs run as uid 65534 here?  If so the working
# directory becomes that user's (it runs the programs there and writes the
# hooks' files), and ZPH_UID_POLICY is what its runs get: auto, the path of an
# ordinary user, who cannot map page 0 while vm.mmap_min_addr > 0; never
# where it is 0 (any user could map page 0 then: the mode must still be the
# trap path).
zph_uid_probe() {
	local err
	if [ "$(id -u)" != 0 ]; then
		ZPH_UID_WHY="not root, cannot switch to uid 65534 (the checks run as uid $(id -u) took the trap path already)"
		return 0
	fi
	if ! command -v setpriv >/dev/null; then
		ZPH_UID_WHY="setpriv is not installed (util-linux)"
		return 0
	fi
	if ! chown 65534:65534 . || ! chmod 0755 .; then
		ZPH_UID_WHY="cannot give $PWD to uid 65534"
		return 0
	fi
	# shellcheck disable=SC2086
	if ! err=$($ZPH_RUN_AS sh -c ': >zph-uid && ./zph-pathprobe' 2>&1); then
		ZPH_UID_WHY="uid 65534 cannot run programs in $PWD ($err): TMPDIR must be a directory it can enter"
		return 0
	fi
	ZPH_UID_POLICY=auto
	if [ "$(cat /proc/sys/vm/mmap_min_addr)" = 0 ]; then
		ZPH_UID_POLICY=never
		note "vm.mmap_min_addr is 0: the uid 65534 mode runs ZP_PAGE0=never (auto could map page 0)"
	fi
}

in_paths() {
	local auto=0
	[ "$1" != --auto ] || { auto=1; shift; }
	zph_paths_probe
	if [ -n "$ZPH_PAGE0_WHY" ]; then
		skip_check "page 0: every check of this mode" "$ZPH_PAGE0_WHY"
	else
		in_mode "page 0" ZPT_PATH=page0 ZP_PAGE0="$ZPH_PAGE0_POLICY" -- zph_in_path "page-0 path" "$@"
	fi
	in_mode "trap" ZPT_PATH=trap ZP_PAGE0=never -- zph_in_path "trap path" "$@"
	if [ -n "$ZPH_UID_WHY" ]; then
		skip_check "trap, uid 65534: every check of this mode" "$ZPH_UID_WHY"
	else
		in_mode "trap, uid 65534" ZPT_PATH=trap-uid ZP_PAGE0="$ZPH_UID_POLICY" ZPT_RUN_AS="$ZPH_RUN_AS" -- \
			zph_in_path "trap path" "$@"
	fi
	[ $auto = 0 ] || in_mode "auto" ZPT_PATH=auto ZP_PAGE0=auto -- zph_in_path "$ZPH_AUTO_PATH" "$@"
}

# zph_in_path PATH COMMAND...: the check that a rewritten program takes PATH
# (as zph-pathprobe prints it) in this mode, then COMMAND.
zph_in_path() {
	local want=$1; shift
	# (files made as root before: a program's or a hook's output that the
	# user must be able to replace)
	[ -z "${ZPT_RUN_AS:-}" ] || chown -R 65534:65534 . || fail "cannot give $PWD's files to uid 65534"
	run_t zph-path ./zph-pathprobe
	begin_check "a rewritten program takes the $want"
	[ "$RUN_RC" = 0 ] || fault "the path probe exited $RUN_RC$(signame "$RUN_RC"): $(head -c 300 zph-path.err)"
	[ "$(cat zph-path.out)" = "$want" ] || fault "it took the $(cat zph-path.out)"
	end_check
	"$@"
}

check_reads_page0() {
	local name=$1 a=$2 b=$3; shift 3
	local m=${*: -1} out
	selected "$ZPH_PREFIX$name" || return 0
	if [ "$a" != - ]; then
		run_t orig "$a" "$@"
		LAST_RC=$RUN_RC
		judge_orig
	fi
	begin_check "$name"
	[ -z "$ORIG_WHY" ] || fault "${ORIG_WHY%; }"
	run_t patched "$b" "$@"
	[ "$RUN_RC" = 0 ] || fault "the rewritten program exited $RUN_RC$(signame "$RUN_RC"), not 0"
	out=$(sed -e '1s/^read -\{0,1\}[0-9][0-9]*$/read N/' patched.out)
	[ "$out" = "read N"$'\n'"$m: survived" ] ||
		fault "stdout is not \"read N\", \"$m: survived\": $(head -c 300 patched.out)"
	[ ! -s patched.err ] || fault "stderr: $(head -c 300 patched.err)"
	end_check
}

every_variant() { [ "${ZPT_PATH:-}" != trap-uid ] && [ "${ZPT_PATH:-}" != auto ]; }

page0_readable() { [ "${ZPT_PATH:-}" = page0 ] && [ "$ZPT_PAGE0_READABLE" = 1 ]; }

# ---- running -------------------------------------------------------------------

run_t() {
	local o=$1; shift
	if [ -n "${ZPT_ARGV0:-}" ]; then
		set -- bash -c 'a0=$1; shift; exec -a "$a0" "$@"' - "$ZPT_ARGV0" "$@"
	fi
	# (a string, so that in_mode can export it; its words have no spaces)
	# shellcheck disable=SC2086
	[ -z "${ZPT_RUN_AS:-}" ] || set -- $ZPT_RUN_AS "$@"
	set +e
	timeout -k 5 "$RUN_TIMEOUT" "$@" <"${STDIN:-/dev/null}" >"$o.out" 2>"$o.err"
	RUN_RC=$?
	set -e
}

signame() { # status: " (signal N)" for a status above 128
	[ "$1" -le 128 ] || echo " (signal $(($1 - 128)))"
}

# judge_orig: ORIG_WHY, what is wrong with the original's run (LAST_RC,
# orig.err), "" if nothing.
judge_orig() {
	local ra=$LAST_RC
	ORIG_WHY=""
	if [ -n "${ZPT_EXPECT_RC:-}" ]; then
		[ "$ra" = "$ZPT_EXPECT_RC" ] ||
			ORIG_WHY="the original exited $ra$(signame "$ra"), expected $ZPT_EXPECT_RC$(signame "$ZPT_EXPECT_RC"); "
	elif [ "$ra" = 101 ]; then
		ORIG_WHY="the original failed its own checks (status 101); "
	elif [ "$ra" -ge 124 ] && [ "$ra" -le 127 ]; then
		ORIG_WHY="the original timed out or did not start (status $ra); "
	elif [ "$ra" -gt 128 ]; then
		ORIG_WHY="the original was killed$(signame "$ra"); "
	fi
	if grep -q '^FAILED: ' orig.err; then
		ORIG_WHY="${ORIG_WHY}the original printed \"$(grep -m1 '^FAILED: ' orig.err | cut -c1-100)\"; "
	fi
}

check_same() {
	local name=$1 a=$2; shift 2
	selected "$ZPH_PREFIX$name" || return 0
	run_t orig "$a" "${@:2}"
	LAST_RC=$RUN_RC
	judge_orig
	[ -z "${ZPT_BETWEEN:-}" ] || eval "$ZPT_BETWEEN"
	compare_with_orig "$name" "$@"
}

check_again() {
	local name=$1
	selected "$ZPH_PREFIX$name" || return 0
	shift
	compare_with_orig "$name" "$@"
}

compare_with_orig() { # name patched args...: orig.out/orig.err/LAST_RC/ORIG_WHY hold the original's run
	local name=$1 b=$2; shift 2
	local ra=$LAST_RC rb
	begin_check "$name"
	[ -z "${ORIG_WHY:-}" ] || fault "${ORIG_WHY%; }"
	run_t patched "$b" "$@"; rb=$RUN_RC
	[ "$rb" -ne 124 ] || fault "patched run timed out after ${RUN_TIMEOUT}s"
	[ "$ra" -eq "$rb" ] || fault "exit status: original $ra, patched $rb$(signame "$rb")"
	local want=orig.out
	if [ -n "${ZPT_ORIG_SED:-}" ]; then
		want=orig.want
		sed -e "$ZPT_ORIG_SED" orig.out >orig.want
		! cmp -s orig.out orig.want ||
			fault "the documented difference ($ZPT_ORIG_SED) does not apply to the original's output"
	fi
	cmp -s "$want" patched.out || fault "stdout differs${ZPT_ORIG_SED:+ (after sed $ZPT_ORIG_SED on the original output)}"
	cmp -s orig.err patched.err || fault "stderr differs"
	if [ ${#ZPH_FAULTS[@]} -gt 0 ]; then
		fault "command: $b $*"
		[ -z "${ORIG_WHY:-}" ] || fault "original stderr, last lines: $(tail -n 5 orig.err)"
		cmp -s "$want" patched.out || fault "stdout diff: $(diff "$want" patched.out | head -15)"
		cmp -s orig.err patched.err || fault "stderr diff: $(diff orig.err patched.err | head -15)"
	fi
	end_check
}

# ---- rewriting -----------------------------------------------------------------

rewrite() {
	local in=$1 out=$2 a opts=""; shift 2
	for a in "$@"; do opts="$opts ${a##*/}"; done    # (paths by their last part)
	local name="rewrite $(basename "$out")${opts:+ (${opts# })}"
	if readelf -lW "$in" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		# A dynamically linked program: bundle it with its loader and
		# libraries, and run it through a link to the bundle's copy.
		if ! timeout -k 5 "$RUN_TIMEOUT" "$ZPREWRITE" -q "$@" --force --bundle "$out.bundle" "$in" 2>rw.err; then
			bad "$name" "zprewrite $* --bundle $out.bundle $in failed: $(cat rw.err)"
			return 1
		fi
		ln -sfn "$out.bundle/$(basename "$in")" "$out"
	elif ! timeout -k 5 "$RUN_TIMEOUT" "$ZPREWRITE" -q "$@" "$in" "$out" 2>rw.err; then
		bad "$name" "zprewrite $* $in $out failed: $(cat rw.err)"
		return 1
	fi
	good "$name"
}

rewrite_three() {
	rewrite "$1" "$2" &&
		rewrite "$1" "$2.hooked" --hook tcount.so &&
		rewrite "$1" "$2.traced" --hook "$BUILD/samples/trace.so"
}

# ---- the test programs and hooks -------------------------------------------------

prog() {
	local p=$TEST_PROGRAMS_DIR/$1.$2
	[ -x "$p" ] || { echo ""; return 0; }
	mkdir -p progs
	if [ -e "progs/$1.$2" ] || cp "$p" "progs/$1.$2"; then
		echo "$PWD/progs/$1.$2"
	else
		echo "$p"
	fi
}

flavours() {
	local f out=""
	[ -x "$TEST_PROGRAMS_DIR/$1.static" ] ||
		fail "$TEST_PROGRAMS_DIR/$1.static is missing: build the test programs first (make test-programs)"
	for f in static static-pie musl dynamic; do
		[ -x "$TEST_PROGRAMS_DIR/$1.$f" ] && out="$out $f"
	done
	echo $out
}

build_test_hook() {
	local name=$1; shift
	local regs=-mgeneral-regs-only
	if [ "${1:-}" = --vector ]; then regs=; shift; fi
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -nostdlib -ffreestanding \
		-fno-stack-protector $regs -fvisibility=hidden -fno-asynchronous-unwind-tables \
		-I"$TESTS/../runtime/include" "$@" -o "$name.so" "$TESTS/hooks/$name.c" ||
		fail "cannot build the test hook $name"
}

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

# ---- did a hook run ----------------------------------------------------------------

fresh() { rm -f "$@"; }

hook_saw_calls() { # count file [min]
	[ -s "$1" ] || { note "  no count file $1"; return 1; }
	local total nosite
	total=$(awk '$1 == "total" { print $2; exit }' "$1")
	nosite=$(awk '$1 == "nosite" { print $2; exit }' "$1")
	note "  hook: total $total calls, $nosite without a site"
	[ "${total:-0}" -gt "${2:-20}" ] && [ "${nosite:-1}" -eq 0 ]
}

hook_counted() { # count file, names (regex)
	[ -s "$1" ] || { note "  no count file $1: the hook did not run (or did not reach exit_group)"; return 1; }
	local rows
	rows=$(awk -v re="^($2)\$" '$1 ~ re && $2 > 0 { printf " %s %s", $1, $2 }' "$1")
	note "  hook counted:${rows:- no $2}"
	[ -n "$rows" ]
}

vector_hook_ran() { # count file
	local n; n=$(awk '$1 == "vector-hook" { print $3 }' "$1" 2>/dev/null | tail -n 1)
	note "  vector hook calls: ${n:-none}"
	[ "${n:-0}" -gt 100 ]
}

trace_has() { # trace file, ERE
	[ -s "$1" ] || { note "  no trace file $1: the trace hook did not run"; return 1; }
	local n
	n=$(sed 's/^\[pid  *[0-9]*\] //' "$1" | grep -cE -- "$2" || true)
	note "  trace: $n lines match $2"
	[ "$n" -gt 0 ]
}

# ---- ELF and strace tools ------------------------------------------------------------

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

# lint_pair NEW ORIGINAL: false (saying why) if eu-elflint --gnu-ld reports
# anything on NEW (a rewritten or bundled file) that it does not report on
# ORIGINAL.  The caller checks that eu-elflint exists.
lint_pair() {
	local new old extra
	new=$(elflint_filter "$1" | sort -u); old=$(elflint_filter "$2" | sort -u)
	extra=$(comm -23 <(echo "$new") <(echo "$old") | grep . || true)
	[ -z "$extra" ] || { note "  eu-elflint --gnu-ld: new messages for $1: $extra"; return 1; }
}

# strace_ok ERRFILE STRACE-ARGS...: run strace with its stderr (and the
# traced program's) in ERRFILE.  0: it ran and the program succeeded.  1: it
# cannot trace here (not installed, or ptrace not permitted, as in some
# containers): STRACE_WHY says why, and the caller skips its comparison with
# skip_check.  Any other failure (the program failing under strace, a bad
# option) ends the script: a comparison with strace must not pass by not running.
strace_ok() {
	local err=$1; shift
	STRACE_WHY=""
	if ! command -v strace >/dev/null; then STRACE_WHY="strace is not installed"; return 1; fi
	strace "$@" 2>"$err" && return 0
	if grep -qi 'ptrace.*operation not permitted\|PTRACE_TRACEME' "$err"; then
		STRACE_WHY="strace cannot trace here: $(grep -m1 -i 'ptrace' "$err")"
		return 1
	fi
	zph_diag "$(tail -n 10 "$err")"
	fail "strace $* failed"
}
