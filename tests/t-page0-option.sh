#!/usr/bin/env bash
# t-page0-option.sh - `--page0=POLICY` ends up in every rewritten file, and
# `--list` says which policy a file carries.
# zp-test: rewriter
#
#  - A bad value (or none) is a usage error: exit 2, one line on stderr, no
#    output file.
#  - Each policy is in the descriptor's flags (read by tests/zpdesc.py, not by
#    zprewrite), the default is auto; two outputs that differ only in their
#    policy differ in exactly one byte, and in no other flag.
#  - --list of an ordinary input names the policy at the end of its summary
#    line only when --page0 is given (the golden files keep the line without).
#  - --list of a rewritten file describes its descriptor: the policy, the
#    hook (embedded or not) and as many sites as the original's --list counts
#    patched ones; --page0 there is a warning, not a change.  A descriptor of
#    interface version 1 has no policy (its runtime always needed page 0); an
#    unknown version is named, not interpreted; one cut short is an error.
#  - --bundle --page0=never: every file of the bundle carries never.
# How it fails: a policy not written, written to the wrong bits or to only
# some files of a bundle; --list naming a policy the file does not carry.
# Each condition is a check of its own; the script goes on after a failure.
source "$TESTS/harness.sh"
export LC_ALL=C
DESC=$TESTS/zpdesc.py
# field FILE NAME: a descriptor field of FILE from desc.txt (zpdesc.py show).
field() { awk -v f="$1" -v k="$2" '$1 == f { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' desc.txt; }

hello_c >hello.c
gcc -static -O2 -o hello hello.c || fail "cannot build a static program"
gcc -O2 -o hello-dyn hello.c || fail "cannot build a dynamic program"

# bad_value ARG: a usage error: exit 2, one line "zprewrite: ..." on stderr, no output.
bad_value() {
	local rc
	rm -f out.bad
	"$ZPREWRITE" "$1" hello out.bad 2>err.txt >/dev/null && rc=0 || rc=$?
	begin_check "$1: a usage error (exit 2, one line on stderr, no output)"
	[ "$rc" = 2 ] || fault "exit status $rc, expected 2"
	[ "$(wc -l <err.txt)" = 1 ] || fault "not one line: $(cat err.txt)"
	grep -q '^zprewrite: ' err.txt || fault "message: $(cat err.txt)"
	[ ! -e out.bad ] || fault "wrote an output"
	end_check
}
note 'bad values: usage errors'
for arg in --page0=bogus --page0= --page0=AUTO --page0; do
	bad_value "$arg"
done
check "the message for a bad policy names the good ones" \
	eval 'grep -q "auto, fast, require, never" <("$ZPREWRITE" --page0=x hello out.bad 2>&1)'

# one_policy I P: out.P carries policy number I, in one byte and no other flag,
# and --list says so.
one_policy() {
	local i=$1 p=$2 flags ndiff want=1
	check "--page0=$p: the descriptor's policy is $i" [ "$(field "out.$p" page0)" = "$i" ]
	flags=$(field "out.$p" flags)
	check "--page0=$p: no other flag changed ($flags vs $default_flags)" \
		[ $(( (flags ^ default_flags) & ~0x18 )) = 0 ]
	ndiff=$(cmp -l out.default "out.$p" | wc -l || true)
	[ "$p" != auto ] || want=0
	check "--page0=$p differs from the default in $want byte(s) ($ndiff)" [ "$ndiff" = $want ]
	check "--list of out.$p runs" eval '"$ZPREWRITE" --list "out.$p" >list.txt'
	if last_ok; then
		check "--list of out.$p names the policy" grep -q "^# page0: $p (" list.txt
		check "--list of out.$p: the summary line" \
			[ "$(tail -n 1 list.txt)" = "# summary: already rewritten: $(field "out.$p" nsites) sites, page0 $p, no hook" ]
	fi
}
note 'each policy is in the descriptor'
check "rewrite without --page0" "$ZPREWRITE" hello out.default
policies=(auto fast require never)
for p in "${policies[@]}"; do
	check "--page0=$p: rewrite" "$ZPREWRITE" --page0="$p" hello "out.$p"
done
python3 "$DESC" show out.default out.auto out.fast out.require out.never >desc.txt ||
	fail "zpdesc.py show failed"
check "the default is auto (0)" [ "$(field out.default page0)" = 0 ]
default_flags=$(field out.default flags)
for i in 0 1 2 3; do
	one_policy "$i" "${policies[$i]}"
done

note '--list of an ordinary input'
"$ZPREWRITE" --list hello >plain.txt || fail "--list of hello failed"
check_not "--list without --page0 names no policy" grep -q page0 plain.txt
for p in "${policies[@]}"; do
	"$ZPREWRITE" --list --page0="$p" hello >with.txt || { bad "--list --page0=$p" "failed"; continue; }
	check "--list --page0=$p: the site lines unchanged" \
		eval 'diff <(head -n -1 plain.txt) <(head -n -1 with.txt) >/dev/null'
	check "--list --page0=$p: the policy at the end of the summary" \
		[ "$(tail -n 1 with.txt)" = "$(tail -n 1 plain.txt); page0 $p" ]
done

note '--list of a rewritten file'
patched=$(tail -n 1 plain.txt | sed -n 's/^# summary: [0-9]* sites: \([0-9]*\) patched.*/\1/p')
check "--list's summary has a patched count: $(tail -n 1 plain.txt)" [ -n "$patched" ]
check "the descriptor's nsites is --list's patched count ($(field out.fast nsites), $patched)" \
	[ "$(field out.fast nsites)" = "$patched" ]
"$ZPREWRITE" --list out.fast >fast.txt || fail "--list of out.fast failed"
check "--list of out.fast: '# sites: $patched' line" grep -qx "# sites: $patched in 0x[0-9a-f]*\.\.0x[0-9a-f]*" fast.txt
check "--list of out.fast: no hook" grep -qx '# hook: none (calls go through unchanged)' fast.txt
check "rewrite with a hook and --page0=require" "$ZPREWRITE" --hook "$BUILD/samples/trace.so" --page0=require hello out.hook
if last_ok; then
	"$ZPREWRITE" --list out.hook >hook.txt || fail "--list of out.hook failed"
	check "--list with a hook: the hook line" grep -q '^# hook: embedded (.*zp_hook_enter' hook.txt
	check "--list with a hook: the summary" eval "tail -n 1 hook.txt | grep -q ', page0 require, hook embedded$'"
fi
check "--list --page0 of a rewritten file runs" eval '"$ZPREWRITE" --list --page0=never out.fast >again.txt 2>err.txt'
check "--list --page0 of a rewritten file: a warning" grep -q 'warning: already rewritten' err.txt
check "--list --page0 of a rewritten file: what the file carries" grep -q '^# page0: fast' again.txt

note 'other interface versions, a cut descriptor'
python3 "$DESC" set out.never old.v1 abi_version=1 || fail "zpdesc.py set failed"
check "--list of a version 1 file runs" eval '"$ZPREWRITE" --list old.v1 >v1.txt'
check "version 1: require (its runtime always needed page 0)" grep -q '^# page0: require (interface version 1' v1.txt
python3 "$DESC" set out.fast new.v99 abi_version=99 || fail "zpdesc.py set failed"
check "--list of a version 99 file runs" eval '"$ZPREWRITE" --list new.v99 >v99.txt'
check "version 99: named, not interpreted" eval "grep -q 'interface version 99' v99.txt && ! grep -q '^# page0' v99.txt"
python3 "$DESC" cut out.fast cut.elf 16 || fail "zpdesc.py cut failed"
"$ZPREWRITE" --list cut.elf >/dev/null 2>err.txt && rc=0 || rc=$?
check "a cut descriptor: exit 1 ($rc), one line naming it cut short" \
	eval '[ "$rc" = 1 ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q "^zprewrite: cut.elf: .*cut short" err.txt'

note '--bundle --page0=never: every file'
check "--bundle --page0=never" "$ZPREWRITE" -q --bundle bdir --page0=never ./hello-dyn
files=()
while IFS= read -r f; do
	head -c 4 "$f" | grep -q 'ELF' && files+=("$f")
done < <(find bdir -type f 2>/dev/null)
check "${#files[@]} ELF files in the bundle (program, loader, libc at least)" [ "${#files[@]}" -ge 3 ]
[ "${#files[@]}" -gt 0 ] || exit 0
python3 "$DESC" show "${files[@]}" >desc.txt || fail "zpdesc.py show failed"
for f in "${files[@]}"; do
	check "$f carries never" [ "$(field "$f" page0)" = 3 ]
	check "--list $f says never" eval 'grep -q "^# page0: never" <("$ZPREWRITE" --list "$f")'
done
