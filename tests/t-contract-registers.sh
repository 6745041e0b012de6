#!/usr/bin/env bash
# t-contract-registers.sh - a rewritten system call preserves every register
# the kernel preserves.
#
# contract-registers (tests/programs/contract-registers-asm.S, commented line
# by line, and its driver contract-registers.c) plants known values in every
# general register (rdi, rsi, rdx, r10, r8, r9 too), rflags (four patterns of
# CF PF AF ZF SF DF OF, DF=1 included), x87 (eight loaded values and a
# non-default control word), MXCSR, xmm0-15, ymm0-15, zmm0-31 and k0-7 (as far
# as the CPU has them), makes one raw system call (numbers that succeed, fail,
# and -ENOSYS ones at other trampoline offsets: 400, 512, 1000, 4095) and
# compares everything before and after, except rax (the result), rcx and r11.
# Two more variants also keep canaries in the red zone (-16 to -128) across
# the call (getpid and 512): sites the rewriter sends through a red-zone stub.
# It exits 1 and names what changed.
# Checked, for each build (glibc static, static-pie, musl):
#   1. self-test: the ORIGINAL program passes, and fails when told to damage
#      one register after the call (corrupt=NAME, for every kind of register
#      it checks), naming that register on every CHANGED: line: the
#      comparison really sees each of them;
#   2. the call sites in the asm are ones zprewrite patches (else 3-5 prove
#      nothing): the plain one in place, the red-zone ones through stubs;
#   3. rewritten, no hook: passes, same output as the original;
#   4. rewritten with a general-registers hook (tcount, making the calls
#      itself through the helpers): passes, and the hook saw the calls (its
#      count file has number 400); with the trace hook too (its log has them);
#   5. rewritten with a hook that USES vector and x87 registers (tests/hooks/
#      vector.c, built without -mgeneral-regs-only, with -mavx2, and
#      overwriting ymm/zmm/k/x87/MXCSR on every call): zprewrite must notice
#      and the runtime must save and restore that state: passes, and the hook
#      ran (its count file);
#   6. negative control: a hook that clobbers ymm0-15 with code zprewrite
#      cannot see (tests/hooks/hiddenvec.c, generated at run time) makes the
#      rewritten program FAIL, naming ymm registers: proof that step 5 would
#      catch a runtime that does not save the state.  Also the rewritten program with corrupt=...
#      fails, so the checks work through the runtime too.
# Steps 3 to 6 run in the runtime's two paths (in_paths: page 0, trap path as
# root and as uid 65534): the trap path enters the runtime from a SIGSEGV
# handler and leaves through rt_sigreturn, which must keep every register too.
source "$TESTS/harness.sh"

build_test_hook tcount
build_test_hook hiddenvec
vector=0
if grep -qw avx2 /proc/cpuinfo; then
	build_test_hook vector --vector -mavx2
	vector=1
else
	note "no AVX2: the vector-hook checks are skipped"
fi

# names_it WANT TOKEN: does TOKEN, one name on a "CHANGED:" line, report the
# damage WANT (a corrupt= name, or "ymm": some ymm register's upper half)?
names_it() {
	local w=$1 t=$2
	case $w in
	cf|arith|std|cld)
		# rflags(BEFORE->AFTER): the flags this corruption flips differ
		# (std sets DF, cld clears it).
		[[ $t =~ ^rflags\((0x[0-9a-f]+)-\>(0x[0-9a-f]+)\)$ ]] || return 1
		local before=${BASH_REMATCH[1]} after=${BASH_REMATCH[2]}
		case $w in
		cf) (( (before ^ after) & 0x1 )) ;;
		arith) (( (before ^ after) & 0x8d4 )) ;;   # PF AF ZF SF OF
		std) (( !(before & 0x400) && (after & 0x400) )) ;;
		cld) (( (before & 0x400) && !(after & 0x400) )) ;;
		esac ;;
	ymm3h) [ "$t" = "ymm3(upper)" ] ;;
	zmm5h) [ "$t" = "zmm5(upper)" ] ;;
	x87) [[ $t =~ ^st[0-7]$ ]] ;;
	redzone) [[ $t =~ ^redzone-[0-9]+$ ]] ;;
	ymm) [[ $t =~ ^ymm[0-9]+\(upper\)$ ]] ;;
	*) [ "$t" = "$w" ] ;;
	esac
}

# every_change_names WANT FILE: FILE has "CHANGED:" lines, each naming WANT.
every_change_names() {
	local w=$1 line t n=0 ok
	while IFS= read -r line; do
		n=$((n + 1)); ok=0
		for t in ${line#CHANGED:}; do
			if names_it "$w" "$t"; then ok=1; break; fi
		done
		[ $ok = 1 ] || { note "  $line: does not name $w"; return 1; }
	done < <(grep -o 'CHANGED:.*' "$2")
	[ $n -gt 0 ] || { note "  no CHANGED: line"; return 1; }
}

expect_fail() { # label want program args...: must exit 1 and name WANT on every CHANGED: line (exit 3 = not on this CPU)
	local label=$1 want=$2; shift 2
	selected "$ZPH_PREFIX$label" || return 0
	run_t corrupt "$@"
	case $RUN_RC in
	1)
		if every_change_names "$want" corrupt.out; then
			good "$label"
			note "  detected: $(grep -m1 -o 'CHANGED:.*' corrupt.out | cut -c1-60)"
		else
			bad "$label" "exit 1, but the CHANGED: lines do not name $want"
			grep -m3 -o 'CHANGED:.*' corrupt.out | cut -c1-120 | sed 's/^/#   /' >&2
		fi ;;
	3) skip_check "$label" "$(head -n 1 corrupt.out)" ;;
	*) bad "$label" "expected exit 1 (registers changed), got $RUN_RC"; sed 's/^/#   /' corrupt.out | tail -3 >&2 ;;
	esac
}

site_patched() { # program symbol decision-regex
	local addr
	addr=$(nm "$1" | awk -v s="$2" '$3 == s { print $1 }')
	[ -n "$addr" ] || { note "  no $2 symbol"; return 1; }
	addr=$(printf '0x%016x' $((16#$addr)))
	local line; line=$("$ZPREWRITE" --list "$1" | grep "^$addr ")
	note "  ${line:0:150}"
	[[ $line =~ $3 ]]
}

quiet() { "$@" >quiet.out 2>&1 || { tail -n 3 quiet.out | sed 's/^/#   /' >&2; return 1; }; }

CORRUPTIONS="rbx rbp rdx rsi rdi r8 r9 r10 r12 r13 r14 r15 cf arith std cld xmm7 ymm3h zmm5h zmm20 k3 x87 fcw mxcsr redzone"

# The self-tests and the sites are the original's and the rewriter's: once.
# The rewritten programs run in each path.
flavs=()
for f in $(flavours contract-registers); do
	orig=$(prog contract-registers $f)
	check "$f: the original passes" quiet "$orig"
	for c in $CORRUPTIONS; do
		expect_fail "$f: self-test corrupt=$c" "$c" "$orig" "corrupt=$c"
	done
	check "$f: the plain call site is patched in place" site_patched "$orig" regtest_run_site " patch "
	check "$f: the red-zone call sites are patched (through stubs)" \
		site_patched "$orig" regtest_rz_39_site " (patch|stub) "
	check "$f: the red-zone call sites are patched (through stubs) (2)" \
		site_patched "$orig" regtest_rz_512_site " (patch|stub) "
	rewrite_three "$orig" "cr.$f" || continue
	rewrite "$orig" "cr.$f.hiddenvec" --hook hiddenvec.so || continue
	flavs+=("$f")
	[ $vector = 0 ] || rewrite "$orig" "cr.$f.vector" --hook vector.so || true
done

contract() {
	local f orig c
	for f in "${flavs[@]}"; do
		orig=$(prog contract-registers $f)
		check_same "$f: rewritten, no hook" "$orig" "./cr.$f"
		fresh count
		ZPT_FORWARD=1 ZPT_COUNT_FILE=$PWD/count check_again "$f: rewritten, tcount hook" "./cr.$f.hooked"
		check "$f: rewritten, tcount hook: the hook saw the calls with number 400" hook_counted count syscall_400
		fresh trace.log
		ZP_TRACE_FILE=$PWD/trace.log check_again "$f: rewritten, trace hook" "./cr.$f.traced"
		check "$f: rewritten, trace hook: traced the calls with number 400" trace_has trace.log '^syscall_0x190\('
		for c in rdx cf std xmm7 redzone; do
			expect_fail "$f: rewritten, corrupt=$c still detected" "$c" "./cr.$f" "corrupt=$c"
		done
		expect_fail "$f: negative control, hook clobbering ymm unseen: must fail" ymm "./cr.$f.hiddenvec"
		if [ -e "cr.$f.vector" ]; then
			fresh "vcount.$f"
			ZPT_COUNT_FILE=$PWD/vcount.$f check_again "$f: rewritten, hook using vector registers" "./cr.$f.vector"
			check "$f: the vector hook ran" vector_hook_ran "vcount.$f"
		fi
	done
}
in_paths contract
