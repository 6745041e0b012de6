#!/usr/bin/env bash
# t-badinput.sh - zprewrite refuses bad input cleanly (the command-line contract).
# zp-test: rewriter
#
# Every bad input, bad output place and usage error below is a named check.
# A refusal (expect_refusal) must:
#   - exit with status 1, within $ZP_TIMEOUT seconds (10), killed by no signal;
#   - print exactly one line on stderr, "zprewrite: FILE: REASON", FILE being
#     the offending path exactly as given on the command line, REASON saying
#     what is wrong (the check's pattern, an extended regex matched without
#     regard to case; never "Success" nor "(null)"), and no sanitizer report;
#   - leave its directory exactly as it was: no output file, no temporary
#     file, the input byte-for-byte unchanged, links still links, a pre-existing
#     output untouched (each check runs in its own directory c/NAME, compared
#     entry by entry, inode and checksum before and after).
# Every input-side case is run twice: "zprewrite in out" and "zprewrite --list in".
# A survival check (expect_survival) is for files that are odd but arguably
# valid: zprewrite may rewrite them (status 0, the output exists, nothing else
# is left) or refuse them as above, but nothing else.
# Usage errors must exit with status 2 (message on stderr, nothing on stdout,
# nothing written); --help and --version exit 0 and print to stdout only.
#
# ZP_ONLY=REGEX runs only the checks whose names match (for debugging).
# Other helpers: tests/elfmutate.py crafts the corrupt ELF files.
source "$TESTS/harness.sh"

ROOT=$PWD
TIMEOUT=${ZP_TIMEOUT:-10}
case $ZPREWRITE in /*) ;; *) ZPREWRITE=$ROOT/$ZPREWRITE ;; esac
# The interpreter itself, not a wrapper (a pyenv shim costs 0.2 s a call).
PY=$(python3 -c 'import sys; print(sys.executable)') || fail "python3 is needed"
M() { "$PY" "$TESTS/elfmutate.py" "$@"; }
WRAP=()          # command prefix for the next runs (setpriv, unshare, ...)

# ---- framework -------------------------------------------------------------
# Each check is a begin_check NAME ... end_case, its conditions recorded with
# fault (see tests/harness.sh).

end_case() { end_check; cd "$ROOT"; }

# newcase NAME [FILE]: a fresh directory c/NAME, with FILE copied to c/NAME/in.
newcase() {
	rm -rf "$ROOT/c/$1"; mkdir -p "$ROOT/c/$1"
	if [ $# -gt 1 ]; then cp "$2" "$ROOT/c/$1/in"; fi
}

# The state of the current directory: every entry with type, inode, mode and
# link target, and the checksum of every regular file.
snapshot() {
	find . -mindepth 1 -printf '%P %y ino=%i mode=%m ->%l\n' | LC_ALL=C sort
	find . -type f -exec sha256sum {} + | LC_ALL=C sort -k 2
}

# run_zp ARGS...: run zprewrite (behind $WRAP) in the current directory;
# sets RC, its stdout and stderr are in $ROOT/last.out and $ROOT/last.err.
run_zp() {
	set +e
	timeout -k 2 "$TIMEOUT" "${WRAP[@]}" "$ZPREWRITE" "$@" >"$ROOT/last.out" 2>"$ROOT/last.err"
	RC=$?
	set -e
}

show_stderr() { sed -n '1,6s/^/#         | /p' "$ROOT/last.err"; }

# check_status WANT: the status is WANT; explain timeouts and signals.
check_status() {
	local want=$1
	[ "$RC" -eq "$want" ] && return 0
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		fault "timed out after ${TIMEOUT}s (hang?)"
	elif [ "$RC" -gt 128 ]; then
		fault "killed by signal $((RC - 128)) ($(kill -l $((RC - 128)) 2>/dev/null || echo '?'))"
	else
		fault "exit status $RC, expected $want"
	fi
	show_stderr
	return 1
}

check_no_sanitizer() {
	if grep -Eq 'Sanitizer|runtime error:|^==[0-9]+==' "$ROOT/last.err"; then
		fault "sanitizer report on stderr:"; show_stderr
	fi
}

# check_message PATTERN FILE...: stderr is exactly one line starting with
# "zprewrite: FILE:" for one of the FILEs, whose reason matches PATTERN.
check_message() {
	local pat=$1 f line rest="" found=0 nl
	shift
	local err=$ROOT/last.err
	if [ ! -s "$err" ]; then fault "nothing on stderr"; return; fi
	nl=$(wc -l <"$err")
	if [ "$nl" -ne 1 ] || [ "$(tail -c 1 "$err" | od -An -tx1 | tr -d ' \n')" != 0a ]; then
		fault "stderr is not exactly one line ($nl newlines):"; show_stderr; return
	fi
	line=$(cat "$err")
	for f in "$@"; do
		if [[ $line == "zprewrite: $f:"* ]]; then found=1; rest=${line#"zprewrite: $f:"}; break; fi
	done
	if [ $found = 0 ]; then
		fault "stderr does not start with 'zprewrite: $1:'$( [ $# -gt 1 ] && printf " (or with '%s')" "${@:2}"): $line"
		return
	fi
	if ! [[ $rest =~ [[:alpha:]][[:alpha:]] ]]; then fault "no reason given: $line"; return; fi
	if [[ $rest =~ Success$|\(null\) ]]; then fault "meaningless reason: $line"; fi
	if [ -n "$pat" ] && ! grep -Eqi -- "$pat" <<<"$rest"; then
		fault "reason does not match /$pat/: $line"
	fi
}

# parse_args ARGS...: sets IN and OUT (empty with --list) from zprewrite's args.
parse_args() {
	local a pos=() list=0 opts=1
	for a in "$@"; do
		if [ $opts = 1 ] && [ "$a" = -- ]; then opts=0
		elif [ $opts = 1 ] && [ "$a" = --list ]; then list=1
		elif [ $opts = 1 ] && [[ $a == -?* ]]; then :
		else pos+=("$a"); fi
	done
	IN=${pos[0]:-} OUT=""
	[ $list = 1 ] || OUT=${pos[1]:-}
}

exists() { [ -e "$1" ] || [ -L "$1" ]; }

# expect_refusal NAME PATTERN [--file F]... -- ARGS...
# Runs zprewrite ARGS in c/${NAME%%/*} and asserts the refusal contract (see
# the top).  FILE defaults to the input (the first non-option argument); with
# --file, the message may name any of the given paths instead.
expect_refusal() {
	local name=$1 pat=$2 files=() before after insum="" outex=0
	shift 2
	while [ "$1" != -- ]; do
		case $1 in --file) files+=("$2"); shift 2 ;; *) fail "expect_refusal: bad option $1" ;; esac
	done
	shift
	selected "$name" || return 0
	begin_check "$name"
	cd "$ROOT/c/${name%%/*}"
	parse_args "$@"
	[ ${#files[@]} -gt 0 ] || files=("$IN")
	before=$(snapshot)
	if [[ $IN == /* ]] && [ -f "$IN" ]; then insum=$(sha256sum <"$IN"); fi
	if [ -n "$OUT" ] && exists "$OUT"; then outex=1; fi
	run_zp "$@"
	check_status 1 || true
	check_message "$pat" "${files[@]}"
	check_no_sanitizer
	after=$(snapshot)
	if [ -n "$OUT" ] && [ $outex = 0 ] && exists "$OUT"; then fault "output $OUT left behind"; fi
	if [ "$before" != "$after" ]; then
		fault "directory changed (temp file left, input or output modified?):"
		diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -8 | sed 's/^/#         /' || true
	fi
	if [ -n "$insum" ] && [ "$(sha256sum <"$IN")" != "$insum" ]; then fault "input $IN modified"; fi
	end_case
}

# expect_survival NAME -- ARGS...: status 0 (rewrite mode: the output exists,
# nothing else new), or a refusal as above without a pattern.
expect_survival() {
	local name=$1 before after
	shift 2
	selected "$name" || return 0
	begin_check "$name"
	cd "$ROOT/c/${name%%/*}"
	parse_args "$@"
	before=$(snapshot)
	run_zp "$@"
	check_no_sanitizer
	if [ "$RC" -eq 0 ]; then
		if [ -n "$OUT" ] && ! [ -f "$OUT" ]; then fault "status 0 but no output $OUT"; fi
		after=$(snapshot | grep -Ev "^($OUT |[0-9a-f]{64}  \./$OUT\$)" || true)
	else
		check_status 1 && check_message "" "$IN"
		after=$(snapshot)
		if [ -n "$OUT" ] && exists "$OUT"; then fault "refused, but output $OUT left behind"; fi
	fi
	if [ "$before" != "$after" ]; then
		fault "directory changed (temp file left or input modified?):"
		diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -8 | sed 's/^/#         /' || true
	fi
	end_case
}

# refuse_input NAME PATTERN FILE: FILE as input, in both modes.
refuse_input() {
	selected "$1" || return 0
	newcase "$1" "$3"
	expect_refusal "$1" "$2" -- in out
	expect_refusal "$1/list" "$2" -- --list in
}

# survive_input NAME FILE: FILE as input, in both modes.
survive_input() {
	selected "$1" || return 0
	newcase "$1" "$2"
	expect_survival "$1" -- in out
	expect_survival "$1/list" -- --list in
}

# expect_usage NAME -- ARGS...: status 2, something on stderr, nothing on
# stdout, nothing written, no sanitizer report.  Runs in c/NAME with "in" a
# good program.
expect_usage() {
	local name=$1 before after
	shift 2
	selected "$name" || return 0
	newcase "$name" src/prog
	begin_check "$name"
	cd "$ROOT/c/$name"
	before=$(snapshot)
	run_zp "$@"
	check_status 2 || true
	[ -s "$ROOT/last.err" ] || fault "no message on stderr"
	[ ! -s "$ROOT/last.out" ] || fault "usage error printed to stdout: $(head -c 200 "$ROOT/last.out")"
	check_no_sanitizer
	after=$(snapshot)
	[ "$before" = "$after" ] || fault "usage error changed the directory: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -3)"
	end_case
}

# expect_info NAME PATTERN -- ARGS: status 0, stdout non-empty and matching
# PATTERN, stderr empty.
expect_info() {
	local name=$1 pat=$2
	shift 3
	selected "$name" || return 0
	newcase "$name"
	begin_check "$name"
	cd "$ROOT/c/$name"
	run_zp "$@"
	check_status 0 || true
	[ -s "$ROOT/last.out" ] || fault "nothing on stdout"
	grep -Eqi -- "$pat" "$ROOT/last.out" || fault "stdout does not match /$pat/: $(head -c 200 "$ROOT/last.out")"
	[ ! -s "$ROOT/last.err" ] || { fault "something on stderr:"; show_stderr; }
	[ -z "$(ls -A)" ] || fault "files created: $(ls -A)"
	end_case
}

# ---- the inputs ------------------------------------------------------------

mkdir -p src c
hello_c >src/prog.c
gcc -static -O2 -o src/prog src/prog.c || fail "cannot build a static test program (gcc -static)"
gcc -O2 -c -o src/prog.o src/prog.c || fail "gcc -c failed"

# mk NAME ASSIGNMENT...: src/NAME = src/prog with fields changed (elfmutate.py set)
mk() { local n=$1; shift; M set src/prog "src/$n" "$@" >/dev/null || fail "elfmutate.py set $* failed"; }

HAVE32=1
printf '\t.globl _start\n_start:\n\tmovl $1, %%eax\n\txorl %%ebx, %%ebx\n\tint $0x80\n' >src/t32.s
printf '\t.globl _start\n_start:\n\tmovl $60, %%eax\n\txorl %%edi, %%edi\n\tsyscall\n' >src/x32.s
{ as --32 -o src/t32.o src/t32.s && ld -m elf_i386 -o src/elf32 src/t32.o; } 2>/dev/null || HAVE32=0
HAVEX32=1
{ as --x32 -o src/x32.o src/x32.s && ld -m elf32_x86_64 -o src/x32 src/x32.o; } 2>/dev/null || HAVEX32=0

# A real core file, if gdb's gcore works here (ptrace may be forbidden).
HAVECORE=0
if command -v gcore >/dev/null && selected type-core-real; then
	sleep 60 & spid=$!
	if timeout 60 gcore -o src/core "$spid" >/dev/null 2>&1 && [ -s "src/core.$spid" ]; then
		mv "src/core.$spid" src/core; HAVECORE=1
	fi
	kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
fi

printf 'hello, world\n' >src/text
printf '#!/bin/sh\necho hi\n' >src/script
printf '\177ELF' >src/magic-only
: >src/empty
"$PY" -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(4096)))' >src/random
for n in 10 63 64; do M set src/prog "src/trunc-$n" "truncate=$n" >/dev/null; done
mk trunc-phdrs 'truncate=e_phoff+e_phentsize+20'      # inside the program header table
mk trunc-after-phdrs 'truncate=e_phoff+e_phnum*e_phentsize'  # segments' contents missing
mk trunc-text 'truncate=x_offset+x_filesz//2'         # in the middle of the code
mk trunc-size-1 'truncate=size-1'                     # last byte (of the section headers)

# ---- checks: not ELF, truncated -----------------------------------------------

# Each pattern says what the reason must name, and no more: an alternative
# like "ELF", "corrupt" or "64" (in x86-64) would match every header refusal.
P_NOTELF='not an ELF|magic|format|recogni'
P_SMALL='empty|truncat|small|short|end of file'
P_CORRUPT=''     # any reason (it must still be one line, naming the file)
refuse_input empty        "$P_SMALL"  src/empty
refuse_input not-elf-text "$P_NOTELF" src/text
refuse_input not-elf-script "$P_NOTELF" src/script
refuse_input not-elf-random "$P_NOTELF" src/random
refuse_input magic-only   "$P_SMALL"  src/magic-only
for t in 10 63 64 phdrs after-phdrs text size-1; do
	refuse_input "trunc-$t" "$P_CORRUPT" "src/trunc-$t"
done

# ---- checks: wrong class, byte order, machine, type, version -----------------

P_CLASS='class|32-bit|ELF64'
P_ENDIAN='endian|MSB|byte.order|ELFDATA|data encoding'
P_VERSION='version'
mk ident-magic 'ident[3]=0x47'   # \177ELG
mk ident-class-none 'ident[4]=0'
mk ident-class-32 'ident[4]=1'
mk ident-class-bad 'ident[4]=3'
mk ident-data-none 'ident[5]=0'
mk ident-data-msb 'ident[5]=2'
mk ident-data-bad 'ident[5]=3'
mk ident-version-0 'ident[6]=0'
mk version-0 'e_version=0'
mk version-2 'e_version=2'
mk machine-aarch64 'e_machine=183'
mk machine-i386 'e_machine=3'
mk machine-none 'e_machine=0'
mk type-none 'e_type=0'
mk type-core 'e_type=4'
mk type-unknown 'e_type=0x1234'
M bigendian src/prog src/bigendian || fail "elfmutate.py bigendian failed"

refuse_input ident-magic      "$P_NOTELF" src/ident-magic
refuse_input ident-class-none "$P_CLASS" src/ident-class-none
refuse_input ident-class-32   "$P_CLASS" src/ident-class-32
refuse_input ident-class-bad  "$P_CLASS" src/ident-class-bad
refuse_input ident-data-none  "$P_ENDIAN" src/ident-data-none
refuse_input ident-data-msb   "$P_ENDIAN|big" src/ident-data-msb
refuse_input ident-data-bad   "$P_ENDIAN" src/ident-data-bad
refuse_input bigendian        "$P_ENDIAN|big" src/bigendian
refuse_input ident-version-0  "$P_VERSION" src/ident-version-0
refuse_input version-0        "$P_VERSION" src/version-0
refuse_input version-2        "$P_VERSION" src/version-2
if [ $HAVE32 = 1 ]; then
	refuse_input elf32-i386 "$P_CLASS|i386" src/elf32
else
	skip_check elf32-i386 "as --32 / ld -m elf_i386 failed"
fi
if [ $HAVEX32 = 1 ]; then
	refuse_input elf32-x32 "$P_CLASS|x32" src/x32
else
	skip_check elf32-x32 "as --x32 / ld -m elf32_x86_64 failed"
fi
# The machine by name or number (every refusal here says "only x86-64").
refuse_input machine-aarch64 'AArch64|machine 183|EM_AARCH64' src/machine-aarch64
refuse_input machine-i386    'i386|machine 3([^0-9]|$)|EM_386' src/machine-i386
refuse_input machine-none    'machine 0([^0-9]|$)|no machine|EM_NONE' src/machine-none
P_TYPE='file type|e_type|ET_'
refuse_input type-rel     'relocatable|ET_REL|\.o\b' src/prog.o
refuse_input type-core    'core|ET_CORE' src/type-core
if [ $HAVECORE = 1 ]; then
	refuse_input type-core-real 'core|ET_CORE' src/core
else
	selected type-core-real && skip_check type-core-real "gcore could not dump a process here"
fi
refuse_input type-none    "$P_TYPE" src/type-none
refuse_input type-unknown "$P_TYPE" src/type-unknown

# ---- checks: corrupt ELF header, program header and section header tables ----

HUGE=0xfffffffffffff000   # page aligned, so that offset+size wraps around
mk phentsize-0   'e_phentsize=0'
mk phentsize-32  'e_phentsize=32'
mk phentsize-64  'e_phentsize=64'
mk phoff-eof     'e_phoff=size'
mk phoff-straddle 'e_phoff=size-e_phnum*e_phentsize+8'
mk phoff-huge    "e_phoff=$HUGE"
mk phoff-max     'e_phoff=-1'
mk phnum-huge    'e_phnum=0xfff0'
mk shentsize-0   'e_shentsize=0'
mk shentsize-32  'e_shentsize=32'
mk shoff-eof     'e_shoff=size'
mk shoff-straddle 'e_shoff=size-e_shnum*e_shentsize+8'
mk shoff-huge    "e_shoff=$HUGE"
mk shoff-max     'e_shoff=-1'
mk shnum-huge    'e_shnum=0xfeff'
mk shstrndx-out  'e_shstrndx=e_shnum+5'
mk load-offset-eof   'phdr[exec].p_offset=orig+page(size)'
mk load-filesz-eof   'phdr[exec].p_filesz=size' 'phdr[exec].p_memsz=size'
mk load-filesz-huge  'phdr[exec].p_filesz=-1' 'phdr[exec].p_memsz=-1'
mk load-offset-wrap  "phdr[exec].p_offset=$HUGE"
mk load-filesz-gt-memsz 'phdr[exec].p_memsz=orig//2'
mk load0-offset-eof  'phdr[load].p_offset=page(size)'
mk text-offset-eof   'shdr[.text].sh_offset=size+0x100'
mk text-size-eof     'shdr[.text].sh_size=size'
mk text-offset-wrap  "shdr[.text].sh_offset=$HUGE"
mk text-size-huge    'shdr[.text].sh_size=-1'
mk shstrtab-offset-eof 'shdr[.shstrtab].sh_offset=size+1'
mk shstrtab-size-huge  'shdr[.shstrtab].sh_size=-1'
mk symtab-offset-eof 'shdr[.symtab].sh_offset=size+0x1000'
for n in phentsize-0 phentsize-32 phentsize-64 phoff-eof phoff-straddle phoff-huge \
	phoff-max phnum-huge shentsize-0 shentsize-32 shoff-eof shoff-straddle shoff-huge \
	shoff-max shnum-huge shstrndx-out load-offset-eof load-filesz-eof load-filesz-huge \
	load-offset-wrap load-filesz-gt-memsz load0-offset-eof text-offset-eof text-size-eof \
	text-offset-wrap text-size-huge shstrtab-offset-eof shstrtab-size-huge symtab-offset-eof; do
	refuse_input "$n" "$P_CORRUPT" "src/$n"
done

# Odd but arguably valid (or harmless) files: rewrite or refuse, nothing else.
nph=$(M info src/prog | sed -n 's/.*e_phnum=\(0x[0-9a-f]*\).*/\1/p')
nsh=$(M info src/prog | sed -n 's/.*e_shnum=\(0x[0-9a-f]*\).*/\1/p')
nstr=$(M info src/prog | sed -n 's/.*e_shstrndx=\(0x[0-9a-f]*\).*/\1/p')
mk odd-shnum-0     'e_shnum=0' 'e_shoff=0' 'e_shstrndx=0'     # no section headers
mk odd-phnum-0     'e_phnum=0'
mk odd-ehsize-0    'e_ehsize=0'
mk odd-entry-0     'e_entry=0'
mk odd-entry-huge  'e_entry=-1'
mk odd-phnum-xnum  'e_phnum=0xffff' "shdr[0].sh_info=$nph"    # extended numbering
mk odd-shnum-ext   'e_shnum=0' "shdr[0].sh_size=$nsh"
mk odd-shstrndx-x  'e_shstrndx=0xffff' "shdr[0].sh_link=$nstr"
mk odd-shstrndx-0  'e_shstrndx=0'
mk odd-xnum-bad    'e_phnum=0xffff' 'shdr[0].sh_info=0xffffffff'
mk odd-align-3     'phdr[exec].p_align=3'
mk odd-align-0     'phdr[exec].p_align=0'
mk odd-vaddr-skew  'phdr[exec].p_vaddr=orig+1'
mk odd-vaddr-wrap  'phdr[exec].p_vaddr=-0x1000'
mk odd-memsz-huge  'phdr[exec].p_memsz=-1'
mk odd-load-nox    'phdr[exec].p_flags=4'
mk odd-text-name   'shdr[.text].sh_name=0xfffffff0'
mk odd-text-nobits 'shdr[.text].sh_type=8'
mk odd-symtab-entsize-0 'shdr[.symtab].sh_entsize=0'
mk odd-symtab-link 'shdr[.symtab].sh_link=0xffff'
mk odd-symtab-size 'shdr[.symtab].sh_size=orig-1'
mk odd-shstrtab-notstr 'shdr[.shstrtab].sh_type=8'
for f in src/odd-*; do survive_input "${f#src/}" "$f"; done
if [ -x /bin/true ]; then
	survive_input dynamic /bin/true   # may be refused until dynamic support lands
fi

# ---- checks: section contents through headers that do not describe any ------

# A symbol table whose link names a section that is no string table, here an
# inactive (SHT_NULL) header pointing far outside the file: its names are
# nowhere.  .dynsym of a dynamic program (only undefined symbols, so nothing
# asks libelf for a name) was once read through that header when --bundle
# moved _DYNAMIC: a crash.  The static program's .symtab is the same defect.
NULLSEC=("shdr[.comment].sh_type=0" "shdr[.comment].sh_offset=0x100000000000" "shdr[.comment].sh_size=-1")
mk symtab-link-null 'shdr[.symtab].sh_link=sec_idx(".comment")' "${NULLSEC[@]}"
refuse_input symtab-link-null 'string table' src/symtab-link-null
if selected dynsym-link-null; then
	if gcc -O2 -o src/dynprog src/prog.c 2>/dev/null; then
		M set src/dynprog src/dynsym-link-null 'shdr[.dynsym].sh_link=sec_idx(".comment")' \
			"${NULLSEC[@]}" >/dev/null || fail "elfmutate.py set on src/dynprog failed"
		refuse_input dynsym-link-null 'string table' src/dynsym-link-null
		expect_refusal dynsym-link-null/bundle 'string table' -- --bundle=bdir in
	else
		skip_check dynsym-link-null "cannot build a dynamically linked program"
	fi
fi

# ---- checks: code named by segment -------------------------------------------

# Without section headers the code is the executable segments, each named
# LOAD#n by its program header number; with more than 8 of them, the later
# ones once all showed under one name.  Twelve, one system call in each.
if selected many-exec-segments; then
	{
		printf '\t.section .t0,"ax"\n\t.globl _start\n_start:\n\tmovl $60, %%eax\n\txorl %%edi, %%edi\n\tsyscall\n'
		for i in $(seq 1 11); do printf '\t.section .t%d,"ax"\n\tmovl $39, %%eax\n\tsyscall\n\tret\n' "$i"; done
	} >src/many.s
	{
		echo 'ENTRY(_start)'
		echo 'PHDRS {'; for i in $(seq 0 11); do echo "p$i PT_LOAD FLAGS(5);"; done; echo '}'
		echo 'SECTIONS {'
		for i in $(seq 0 11); do printf '. = %#x; .t%d : { *(.t%d) } :p%d\n' $((0x400000 + i * 0x10000)) "$i" "$i" "$i"; done
		echo '}'
	} >src/many.ld
	if as -o src/many.o src/many.s 2>/dev/null && ld -static -T src/many.ld -o src/many-sh src/many.o 2>/dev/null; then
		M set src/many-sh src/many-exec 'e_shoff=0' 'e_shnum=0' 'e_shstrndx=0' >/dev/null ||
			fail "elfmutate.py set on src/many-sh failed"
		newcase many-exec-segments src/many-exec
		begin_check many-exec-segments
		cd c/many-exec-segments
		run_zp --list in
		check_no_sanitizer
		if check_status 0; then
			want=$(for i in $(seq 0 11); do printf 'LOAD#%d ' "$i"; done)
			got=$(awk '!/^#/ { printf "%s ", $3 }' "$ROOT/last.out")
			[ "$got" = "$want" ] || fault "sites listed in '$got', expected '$want'"
		fi
		end_case
		expect_survival many-exec-segments/rewrite -- in out
	else
		skip_check many-exec-segments "as / ld -T failed"
	fi
fi

# ---- checks: special files as input ------------------------------------------

P_MISSING='No such file|not exist|not found'
newcase missing
expect_refusal missing "$P_MISSING" -- nonexistent out
expect_refusal missing/list "$P_MISSING" -- --list nonexistent
newcase dangling; ln -s nowhere "$ROOT/c/dangling/in"
expect_refusal dangling "$P_MISSING" -- in out
expect_refusal dangling/list "$P_MISSING" -- --list in
newcase directory; mkdir "$ROOT/c/directory/in"
expect_refusal directory 'directory|regular' -- in out
expect_refusal directory/list 'directory|regular' -- --list in
newcase trailing-slash src/prog
expect_refusal trailing-slash 'directory' -- in/ out
newcase fifo; mkfifo "$ROOT/c/fifo/in"        # a blocking open would hang
expect_refusal fifo '' -- in out
expect_refusal fifo/list '' -- --list in
newcase devnull
expect_refusal devnull '' -- /dev/null out
expect_refusal devnull/list '' -- --list /dev/null
newcase proc-version                          # size 0 in stat(), text when read
expect_refusal proc-version '' -- /proc/version out
expect_refusal proc-version/list '' -- --list /proc/version
# /dev/zero never ends: a reader that ignores st_size would eat memory until
# the timeout; cap the address space (not possible under ASan, which reserves
# terabytes of shadow memory: skipped there, covered by the normal run).
if grep -q __asan_init "$ZPREWRITE" 2>/dev/null; then
	skip_check devzero "address-space cap impossible under ASan"
else
	newcase devzero
	WRAP=(prlimit --as=$((4 << 30)) --)
	expect_refusal devzero '' -- /dev/zero out
	expect_refusal devzero/list '' -- --list /dev/zero
	WRAP=()
fi

# Unreadable input: root reads anything, so run zprewrite as nobody.
if selected unreadable; then
	newcase unreadable src/prog
	chmod 000 c/unreadable/in; chmod 777 c/unreadable; chmod 755 "$ROOT" c
	NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	if command -v setpriv >/dev/null &&
		"${NOBODY[@]}" test -x "$ZPREWRITE" 2>/dev/null &&
		"${NOBODY[@]}" test -w c/unreadable 2>/dev/null &&
		! "${NOBODY[@]}" test -r c/unreadable/in 2>/dev/null; then
		WRAP=("${NOBODY[@]}")
		expect_refusal unreadable 'Permission denied|denied|permission' -- in out
		expect_refusal unreadable/list 'Permission denied|denied|permission' -- --list in
		WRAP=()
	else
		skip_check unreadable "cannot run $ZPREWRITE as nobody (setpriv, or a directory on the way not searchable)"
	fi
fi

# ---- checks: a good program, and rewriting the output again -----------------

# The output-side checks below need zprewrite to accept src/prog.
if selected 'good|rewritten'; then
	newcase good src/prog
	begin_check good-rewrite
	cd c/good
	run_zp in out
	check_no_sanitizer
	if check_status 0; then
		[ -f out ] || fault "status 0 but no output"
		[ "$(ls -A)" = "$(printf 'in\nout')" ] || fault "files left besides in and out: $(ls -A)"
		cmp -s in "$ROOT/src/prog" || fault "input modified"
	fi
	end_case
	if [ -f c/good/out ]; then
		newcase rewritten c/good/out
		expect_refusal rewritten 'already|rewritten|zprewrite' -- in out
		expect_survival rewritten/list -- --list in
	else
		skip_check rewritten "no rewritten output to rewrite again"
	fi
fi

# ---- checks: output place ----------------------------------------------------

P_PLACE=''   # any reason, as long as the message names the output
newcase out-nodir src/prog
expect_refusal out-nodir 'No such file|directory|exist' --file nodir/out -- in nodir/out
newcase out-parent-file src/prog; echo data >c/out-parent-file/plain
expect_refusal out-parent-file 'Not a directory|directory' --file plain/out -- in plain/out
newcase out-is-dir src/prog; mkdir c/out-is-dir/odir
expect_refusal out-is-dir 'directory' --file odir -- in odir
newcase out-proc src/prog
expect_refusal out-proc "$P_PLACE" --file /proc/version/x -- in /proc/version/x
expect_refusal out-proc/new "$P_PLACE" --file /proc/zprewrite-test-out -- in /proc/zprewrite-test-out
expect_refusal out-proc/sys "$P_PLACE" --file /sys/zprewrite-test-out -- in /sys/zprewrite-test-out
# A bad input must not clobber an existing output.
newcase out-preserved src/text; echo precious >c/out-preserved/out
expect_refusal out-preserved "$P_NOTELF" -- in out
# The output cannot be written to the end: the file size limit (EFBIG).
newcase out-efbig src/prog
WRAP=(bash -c 'trap "" XFSZ; ulimit -f 16; exec "$@"' bash)
expect_refusal out-efbig "$P_PLACE" --file out -- in out
WRAP=()

# A read-only file system and a full one: tmpfs in a private mount namespace.
# The temporary file would be inside the mount, so it is listed from inside.
tmpfs_check() { # NAME MOUNT-OPTIONS PATTERN
	local name=$1 opts=$2 pat=$3
	selected "$name" || return 0
	newcase "$name" src/prog; mkdir "c/$name/mnt"
	if ! unshare -m sh -c 'mount -t tmpfs -o "$1" zprewrite-test "$2"' sh "$opts" "c/$name/mnt" 2>/dev/null; then
		skip_check "$name" "cannot mount a tmpfs in a private mount namespace (unshare -m)"
		return 0
	fi
	rm -f "$ROOT/$name.listing"
	WRAP=(unshare -m sh -c 'mount -t tmpfs -o "$1" zprewrite-test mnt || exit 99; shift; "$@"; rc=$?; ls -A mnt >"$ZP_LISTING"; exit $rc' sh "$opts")
	export ZP_LISTING=$ROOT/$name.listing
	expect_refusal "$name" "$pat" --file mnt/out -- in mnt/out
	WRAP=()
	unset ZP_LISTING
	if [ -s "$ROOT/$name.listing" ]; then
		bad "$name/temp" "left in the file system: $(tr '\n' ' ' <"$ROOT/$name.listing")"
	fi
}
tmpfs_check out-readonly-fs ro,size=1m 'Read-only|read only|denied|permi'
tmpfs_check out-disk-full size=64k 'space|full|write'

# ---- checks: input and output the same file ---------------------------------

same() { # NAME IN OUT [setup command...]
	local name=$1 in=$2 out=$3
	shift 3
	selected "$name" || return 0
	newcase "$name" src/prog
	(cd "c/$name" && "$@")
	expect_refusal "$name" 'same|itself|identical' --file "$in" --file "$out" -- "$in" "$out"
}
same same-path in in true
same same-dotslash in ./in true
same same-absolute in "$ROOT/c/same-absolute/in" true
same same-symlink-out in link ln -s in link
same same-symlink-in link in ln -s in link
same same-hardlink in hard ln in hard
same same-hardlink-in hard in ln in hard
same same-dir-symlink in d/in ln -s . d

# ---- checks: usage -----------------------------------------------------------

expect_info help 'usage|zprewrite' -- --help
expect_info version '[0-9]' -- --version
expect_usage usage-no-args --
expect_usage usage-one-arg -- in
expect_usage usage-three-args -- in out extra
expect_usage usage-unknown-option -- --no-such-option in out
expect_usage usage-unknown-option-eq -- --no-such-option=1 in out
expect_usage usage-list-no-file -- --list
if { timeout 10 "$ZPREWRITE" --help 2>/dev/null || true; } | grep -q -- '--hook'; then
	expect_usage usage-hook-no-arg -- in out --hook
fi
