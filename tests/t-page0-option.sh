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
source "$TESTS/harness.sh"
export LC_ALL=C
DESC=$TESTS/zpdesc.py
# field FILE NAME: a descriptor field of FILE from desc.txt (zpdesc.py show).
field() { awk -v f="$1" -v k="$2" '$1 == f { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' desc.txt; }

hello_c >hello.c
gcc -static -O2 -o hello hello.c
gcc -O2 -o hello-dyn hello.c

note 'bad values: usage errors'
for arg in --page0=bogus --page0= --page0=AUTO --page0; do
	set +e
	"$ZPREWRITE" "$arg" hello out.bad 2>err.txt >/dev/null; rc=$?
	set -e
	[ "$rc" = 2 ] || fail "$arg: exit status $rc, expected 2"
	[ "$(wc -l <err.txt)" = 1 ] || fail "$arg: not one line: $(cat err.txt)"
	grep -q '^zprewrite: ' err.txt || fail "$arg: message: $(cat err.txt)"
	[ ! -e out.bad ] || fail "$arg: wrote an output"
done
grep -q "auto, fast, require, never" <("$ZPREWRITE" --page0=x hello out.bad 2>&1) ||
	fail "the message for a bad policy does not name the good ones"

note 'each policy is in the descriptor'
"$ZPREWRITE" hello out.default || fail "rewrite without --page0 failed"
policies=(auto fast require never)
for p in "${policies[@]}"; do
	"$ZPREWRITE" --page0="$p" hello "out.$p" || fail "--page0=$p: rewrite failed"
done
python3 "$DESC" show out.default out.auto out.fast out.require out.never >desc.txt
[ "$(field out.default page0)" = 0 ] || fail "the default is not auto (0)"
default_flags=$(field out.default flags)
for i in 0 1 2 3; do
	p=${policies[$i]}
	[ "$(field "out.$p" page0)" = "$i" ] || fail "--page0=$p: descriptor says $(grep "^out.$p " desc.txt)"
	flags=$(field "out.$p" flags)
	[ $(( (flags ^ default_flags) & ~0x18 )) = 0 ] || fail "--page0=$p: other flags changed ($flags vs $default_flags)"
	ndiff=$(cmp -l out.default "out.$p" | wc -l || true)
	if [ "$p" = auto ]; then
		[ "$ndiff" = 0 ] || fail "--page0=auto differs from the default in $ndiff bytes"
	else
		[ "$ndiff" = 1 ] || fail "--page0=$p differs from the default in $ndiff bytes, expected 1"
	fi
	"$ZPREWRITE" --list "out.$p" >list.txt || fail "--list of out.$p failed"
	grep -q "^# page0: $p (" list.txt || fail "--list of out.$p: $(grep page0 list.txt)"
	[ "$(tail -n 1 list.txt)" = "# summary: already rewritten: $(field "out.$p" nsites) sites, page0 $p, no hook" ] ||
		fail "--list of out.$p: summary $(tail -n 1 list.txt)"
done

note '--list of an ordinary input'
"$ZPREWRITE" --list hello >plain.txt
! grep -q page0 plain.txt || fail "--list without --page0 names a policy"
for p in "${policies[@]}"; do
	"$ZPREWRITE" --list --page0="$p" hello >with.txt
	diff <(head -n -1 plain.txt) <(head -n -1 with.txt) >/dev/null || fail "--list --page0=$p changed the site lines"
	[ "$(tail -n 1 with.txt)" = "$(tail -n 1 plain.txt); page0 $p" ] || fail "--list --page0=$p: $(tail -n 1 with.txt)"
done

note '--list of a rewritten file'
patched=$(tail -n 1 plain.txt | sed -n 's/^# summary: [0-9]* sites: \([0-9]*\) patched.*/\1/p')
[ -n "$patched" ] || fail "no patched count in: $(tail -n 1 plain.txt)"
[ "$(field out.fast nsites)" = "$patched" ] || fail "nsites $(field out.fast nsites) differs from --list's patched count $patched"
grep -qx "# sites: $patched in 0x[0-9a-f]*\.\.0x[0-9a-f]*" <("$ZPREWRITE" --list out.fast) || fail "--list of out.fast: no '# sites: $patched' line"
grep -qx '# hook: none (calls go through unchanged)' <("$ZPREWRITE" --list out.fast) || fail "--list of out.fast: hook line"
"$ZPREWRITE" --hook "$BUILD/samples/trace.so" --page0=require hello out.hook || fail "rewrite with a hook failed"
"$ZPREWRITE" --list out.hook >hook.txt
grep -q '^# hook: embedded (.*zp_hook_enter' hook.txt || fail "--list with a hook: $(grep hook: hook.txt)"
tail -n 1 hook.txt | grep -q ', page0 require, hook embedded$' || fail "--list with a hook: $(tail -n 1 hook.txt)"
"$ZPREWRITE" --list --page0=never out.fast >again.txt 2>err.txt || fail "--list --page0 of a rewritten file failed"
grep -q 'warning: already rewritten' err.txt || fail "no warning for --page0 with a rewritten file: $(cat err.txt)"
grep -q '^# page0: fast' again.txt || fail "--page0 changed what --list says a file carries"

note 'other interface versions, a cut descriptor'
python3 "$DESC" set out.never old.v1 abi_version=1
"$ZPREWRITE" --list old.v1 >v1.txt || fail "--list of a version 1 file failed"
grep -q '^# page0: require (interface version 1' v1.txt || fail "version 1: $(grep page0 v1.txt)"
python3 "$DESC" set out.fast new.v99 abi_version=99
"$ZPREWRITE" --list new.v99 >v99.txt || fail "--list of a version 99 file failed"
grep -q 'interface version 99' v99.txt && ! grep -q '^# page0' v99.txt || fail "version 99: $(cat v99.txt)"
python3 "$DESC" cut out.fast cut.elf 16
set +e
"$ZPREWRITE" --list cut.elf >/dev/null 2>err.txt; rc=$?
set -e
[ "$rc" = 1 ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q '^zprewrite: cut.elf: .*cut short' err.txt ||
	fail "a cut descriptor: status $rc, $(cat err.txt)"

note '--bundle --page0=never: every file'
"$ZPREWRITE" -q --bundle bdir --page0=never ./hello-dyn || fail "--bundle --page0=never failed"
files=()
while IFS= read -r f; do
	head -c 4 "$f" | grep -q 'ELF' && files+=("$f")
done < <(find bdir -type f)
[ "${#files[@]}" -ge 3 ] || fail "only ${#files[@]} ELF files in the bundle (program, loader, libc expected)"
python3 "$DESC" show "${files[@]}" >desc.txt
for f in "${files[@]}"; do
	[ "$(field "$f" page0)" = 3 ] || fail "$f: $(grep "^$f " desc.txt)"
	grep -q '^# page0: never' <("$ZPREWRITE" --list "$f") || fail "--list $f does not say never"
done
note "ok: ${#files[@]} files"
