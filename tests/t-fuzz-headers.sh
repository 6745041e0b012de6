#!/usr/bin/env bash
# t-fuzz-headers.sh - no corrupt ELF header makes zprewrite crash, hang or lie.
# zp-test: rewriter
#
# Mutates the ELF header, program headers and section headers of real
# programs at random (tests/elfmutate.py; fixed seed, so reproducible) and
# truncates them, then runs "zprewrite CASE OUT", "zprewrite --list CASE" and,
# when the rewrite succeeded, "zprewrite --list OUT".  Each run must:
#   - finish within $ZP_FUZZ_TIMEOUT seconds (10) and not die by a signal;
#   - exit with status 0 or 1 (never 2 or more: these are not usage errors);
#   - on status 1, print exactly one line on stderr, starting with
#     "zprewrite: PATH:" where PATH is the file it was given;
#   - print no AddressSanitizer/UBSan report (tests/run.sh reruns this test
#     with the ASan+UBSan build);
#   - leave the input byte-for-byte unchanged; rewriting leaves in the output's
#     directory the output on status 0 and nothing on status 1 (no temporary
#     file either).
# The inputs: a small static C program built here, /bin/busybox (if present)
# and /bin/true (dynamic: it may be refused, per the contract).  Case N uses
# input N mod (number of inputs).  The unmutated static program must be
# rewritten (otherwise this test would prove nothing).
#
# Environment:
#   ZP_FUZZ_CASES=N    number of cases (default 300)
#   ZP_FUZZ_SEED=S     seed (default 1)
#   ZP_FUZZ_ONLY=N,M   run only these case numbers, verbosely (replay)
#   ZP_FUZZ_JOBS=J     parallel runs (default: the number of CPUs)
#   ZP_FUZZ_TIMEOUT=T  seconds per run (default 10)
#   ZP_FUZZ_KEEP=DIR   where failing cases are saved (default
#                      ${TMPDIR:-/tmp}/zp-fuzz-failures)
# Replay case N:  ZP_FUZZ_ONLY=N tests/run.sh build fuzz-headers
# or by hand:     python3 tests/elfmutate.py --seed S --case N --input IN -o case.elf
#                 build/zprewrite case.elf out
source "$TESTS/harness.sh"

SEED=${ZP_FUZZ_SEED:-1}
TIMEOUT=${ZP_FUZZ_TIMEOUT:-10}
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# ---- one case (run by the workers) -------------------------------------------

# zp_run ARGS...: run zprewrite with a time limit; RC, and stderr in $ERR.
zp_run() {
	set +e
	timeout -k 2 "$TIMEOUT" "$ZPREWRITE" "$@" >/dev/null 2>"$ERR"
	RC=$?
	set -e
}

# judge WHAT PATH: the status and stderr of the last run, for a run that was
# given PATH; appends to PROBS.
judge() {
	local what=$1 path=$2 line
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		PROBS+=("$what: timed out after ${TIMEOUT}s")
	elif [ "$RC" -gt 128 ]; then
		PROBS+=("$what: killed by signal $((RC - 128)) ($(kill -l $((RC - 128)) 2>/dev/null || echo '?'))")
	elif [ "$RC" -ne 0 ] && [ "$RC" -ne 1 ]; then
		PROBS+=("$what: exit status $RC")
	fi
	if grep -Eq 'Sanitizer|runtime error:|^==[0-9]+==' "$ERR"; then
		PROBS+=("$what: sanitizer report: $(grep -Em1 'ERROR|runtime error' "$ERR" | cut -c1-200)")
	fi
	if [ "$RC" -eq 1 ]; then
		line=$(head -n 1 "$ERR")
		if [ "$(wc -l <"$ERR")" -ne 1 ] || [ "$(tail -c 1 "$ERR" | od -An -tx1 | tr -d ' \n')" != 0a ]; then
			PROBS+=("$what: status 1, but stderr is not exactly one line ($(wc -l <"$ERR") lines)")
		elif [[ $line != "zprewrite: $path:"* ]]; then
			PROBS+=("$what: status 1, but stderr does not start with 'zprewrite: $path:'")
		elif ! [[ ${line#"zprewrite: $path:"} =~ [[:alpha:]][[:alpha:]] ]]; then
			PROBS+=("$what: status 1 without a reason")
		fi
	fi
	if [ -n "${PROBS[*]:-}" ] || [ "${VERBOSE:-0}" = 1 ]; then
		{ echo "    $what stderr:"; sed -n '1,6s/^/    | /p' "$ERR"
		  [ "$(wc -l <"$ERR")" -le 6 ] || { echo "    | ..."; tail -n 1 "$ERR" | sed 's/^/    | /'; }
		} >"$ERR.keep.$what"
	fi
}

run_case() {
	local n=$1 input d sum rc_rw rc_ls f
	input=$(cut -f 2 "res/$n.desc")
	d=w/$n
	ERR=$d.err PROBS=()
	mkdir -p "$d/o"
	[ -f "$d/in.elf" ] || PROBS+=("elfmutate.py made no w/$n/in.elf")
	sum=$(sha256sum <"$d/in.elf")

	zp_run "$d/in.elf" "$d/o/out"
	rc_rw=$RC
	judge rewrite "$d/in.elf"
	f=$(ls -A "$d/o")
	if [ "$RC" -eq 0 ] && [ "$f" != out ]; then
		PROBS+=("rewrite: status 0, but the output directory holds '${f//$'\n'/ }' instead of just 'out'")
	elif [ "$RC" -ne 0 ] && [ -n "$f" ]; then
		PROBS+=("rewrite: status $RC, but left '${f//$'\n'/ }' in the output directory")
	fi
	[ "$(sha256sum <"$d/in.elf")" = "$sum" ] || PROBS+=("rewrite: input modified")

	zp_run --list "$d/in.elf"
	rc_ls=$RC
	judge list "$d/in.elf"
	[ "$(sha256sum <"$d/in.elf")" = "$sum" ] || PROBS+=("list: input modified")

	if [ "$rc_rw" -eq 0 ] && [ -f "$d/o/out" ]; then
		zp_run --list "$d/o/out"
		judge list-output "$d/o/out"
	fi
	f=$(ls -A "$d")
	[ "$f" = "$(printf 'in.elf\no')" ] || PROBS+=("files left next to the input: '${f//$'\n'/ }'")

	if [ ${#PROBS[@]} -eq 0 ]; then
		echo "$n $rc_rw $rc_ls ok" >"res/$n"
		[ "${VERBOSE:-0}" = 1 ] || rm -rf "$d" "$d".err*
	else
		{
			echo "FAIL case $n (seed $SEED, input $input, rewrite status $rc_rw, list status $rc_ls)"
			echo "  mutation: $(cut -f 3 "res/$n.desc")"
			printf '  %s\n' "${PROBS[@]}"
			cat "$d".err.keep.rewrite "$d".err.keep.list "$d".err.keep.list-output 2>/dev/null || true
		} >"res/$n.fail"
		echo "$n $rc_rw $rc_ls FAIL" >"res/$n"
	fi
}

if [ "${1:-}" = --worker ]; then
	trap - EXIT    # (a worker reports through res/, not as a test script)
	shift
	for n in "$@"; do rm -rf "w/$n" "w/$n".err*; done
	args=()
	for n in "$@"; do args+=(--case "$n"); done
	"$PY" "$TESTS/elfmutate.py" fuzz --seed "$SEED" --inputs "$ZP_FUZZ_INPUTS" \
		"${args[@]}" --outdir w >"w/batch.$1" ||
		{ echo "elfmutate.py failed for cases $*" >&2; exit 1; }
	while IFS= read -r l; do echo "$l" >"res/${l%%$'\t'*}.desc"; done <"w/batch.$1"
	rm -f "w/batch.$1"
	for n in "$@"; do run_case "$n"; done
	exit 0
fi

# ---- the inputs ------------------------------------------------------------

case $ZPREWRITE in /*) ;; *) ZPREWRITE=$PWD/$ZPREWRITE ;; esac
# The interpreter itself, not a wrapper (a pyenv shim costs 0.2 s a call).
PY=$(python3 -c 'import sys; print(sys.executable)') || fail "python3 is needed"
export ZPREWRITE SEED TIMEOUT PY
mkdir -p src w res
hello_c >src/prog.c
gcc -static -O2 -o src/prog src/prog.c || fail "cannot build a static test program (gcc -static)"
INPUTS=("$PWD/src/prog")
if [ -f /bin/busybox ]; then
	INPUTS+=(/bin/busybox)
else
	note "no /bin/busybox (Debian's busybox-static, scripts/deps.sh test): not used"
fi
[ -f /bin/true ] && INPUTS+=(/bin/true)
ZP_FUZZ_INPUTS=$(IFS=:; echo "${INPUTS[*]}")
export ZP_FUZZ_INPUTS

# The unmutated inputs: the static program must be rewritten.
ERR=base.err
for i in "${INPUTS[@]}"; do
	start=$(date +%s%N)
	PROBS=()
	mkdir -p base; rm -f base/out
	zp_run "$i" base/out
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	judge "rewrite" "$i"
	note "unmutated $i: status $RC in ${ms} ms$( [ "$RC" = 1 ] && printf ': %s' "$(head -c 200 base.err)")"
	begin_check "the unmutated $(basename "$i"): the contract holds"
	for p in "${PROBS[@]}"; do fault "$p"; done
	[ ${#PROBS[@]} = 0 ] || fault "$(cat base.err.keep.* 2>/dev/null)"
	end_check
	if [ "$i" = "${INPUTS[0]}" ]; then
		check "the unmutated static program is rewritten (else this test proves nothing)" [ "$RC" = 0 ]
		last_ok || exit 1
	fi
done

# ---- the cases -------------------------------------------------------------

KEEP=${ZP_FUZZ_KEEP:-${TMPDIR:-/tmp}/zp-fuzz-failures}
if [ -n "${ZP_FUZZ_ONLY:-}" ]; then
	IFS=', ' read -r -a CASES <<<"$ZP_FUZZ_ONLY"
	export VERBOSE=1
else
	NCASES=${ZP_FUZZ_CASES:-300}
	mapfile -t CASES < <(seq 0 $((NCASES - 1)))
fi
JOBS=${ZP_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
note "seed $SEED, ${#CASES[@]} cases over ${#INPUTS[@]} inputs, $JOBS jobs, ${TIMEOUT}s per run"
start=$(date +%s)
printf '%s\n' "${CASES[@]}" | xargs -P "$JOBS" -n 8 bash "$SELF" --worker ||
	fail "a worker failed"
secs=$(( $(date +%s) - start ))

# One check per case: "case N (INPUT)".
nfail=0 nrw=0 nls=0 missing=0
for n in "${CASES[@]}"; do
	if [ ! -f "res/$n" ]; then
		bad "case $n" "no result"
		missing=$((missing + 1)); continue
	fi
	read -r _ rc_rw rc_ls verdict <"res/$n"
	[ "$rc_rw" != 0 ] || nrw=$((nrw + 1))
	[ "$rc_ls" != 0 ] || nls=$((nls + 1))
	if [ "$verdict" = ok ]; then
		good "case $n ($(basename "$(cut -f 2 "res/$n.desc")"))"
	else
		nfail=$((nfail + 1))
		bad "case $n ($(basename "$(cut -f 2 "res/$n.desc")"))" "$(cat "res/$n.fail")"
	fi
	if [ "${VERBOSE:-0}" = 1 ]; then
		echo "case $n: rewrite status $rc_rw, list status $rc_ls: $(cut -f 2,3 "res/$n.desc")"
		cat w/"$n".err.keep.rewrite w/"$n".err.keep.list w/"$n".err.keep.list-output 2>/dev/null || true
	fi
done
note "${#CASES[@]} cases in ${secs}s: $nrw rewritten, $((${#CASES[@]} - nrw - missing)) refused; --list accepted $nls"
if [ $nfail -gt 0 ]; then
	mkdir -p "$KEEP"
	shown=0
	for n in "${CASES[@]}"; do
		[ -f "res/$n.fail" ] || continue
		if [ $shown -lt 20 ]; then
			cp "w/$n/in.elf" "$KEEP/seed$SEED-case$n.elf" 2>/dev/null || true
			cp "res/$n.fail" "$KEEP/seed$SEED-case$n.txt"
		fi
		shown=$((shown + 1))
	done
	note "$nfail of ${#CASES[@]} cases broke the contract: $(cd res && ls *.fail | sed 's/\.fail//' | sort -n | tr '\n' ' ')"
	note "saved (up to 20) in $KEEP; replay one: ZP_FUZZ_SEED=$SEED ZP_FUZZ_ONLY=N tests/run.sh build fuzz-headers"
fi
