#!/usr/bin/env bash
# t-hook-invalid.sh - `zprewrite --hook HOOK IN OUT` refuses objects that are
# not valid hooks, with one clear line.
# zp-test: rewriter
#
# Each bad hook is built (or crafted) here from a few lines of C.  For each,
# zprewrite must: exit with status 1; print nothing on stdout and exactly one
# line on stderr, "zprewrite: HOOK: REASON" (HOOK the path as given), REASON
# matching a pattern that names what is wrong; write no output file and
# leave no temporary file behind.  The cases: a missing file, a directory,
# not ELF, an empty file, a 32-bit ELF .so, another machine (e_machine
# patched to AArch64), a relocatable .o, a non-PIE executable, a PIE
# executable, a .so linked with libc (DT_NEEDED), a -nostdlib .so calling
# printf, one calling an unknown zp_ helper, one calling an unknown
# function, a .so using __thread, one with no zp_hook_enter, a stripped one
# whose zp_hook_enter is not exported, one built without zprewrite/hook.h
# (no .zp_hook_abi section), one built for another interface version
# (.zp_hook_abi patched to 2), one with text relocations (non-PIC code
# linked with -z notext), one with a writable and executable segment
# (ld -N).  Then corrupt copies of built hooks (tests/elfmutate.py): the
# name of a relocation's symbol moved to the very end of the file, without
# its NUL, with DT_STRSZ reaching past the end of the file or just to it; a
# relocation at an address where address + 8 wraps round; .zp_hook_abi
# turned into an inactive (SHT_NULL) header with an offset far outside the
# file.  A valid hook, built the same way, is accepted (the control: the
# refusals are due to the defects, not to the flags or the target).
#
# How it fails: zprewrite accepting a bad hook (status 0 or an output
# file), crashing or failing an ASan check (run.sh runs this test with the
# ASan build too), or saying something vague or several lines.
source "$TESTS/harness.sh"

ROOT=$PWD
INC=$(cd "$TESTS/../runtime/include" && pwd)
case $ZPREWRITE in /*) ;; *) ZPREWRITE=$ROOT/$ZPREWRITE ;; esac
HOOK_FLAGS=(-O2 -fPIC -shared -nostdlib -ffreestanding -fno-stack-protector
	-mgeneral-regs-only -fvisibility=hidden -fno-asynchronous-unwind-tables -I"$INC")
PY=$(python3 -c 'import sys; print(sys.executable)') || fail "python3 is needed"
M() { "$PY" "$TESTS/elfmutate.py" "$@" >/dev/null; }

printf 'int main(void) { return 0; }\n' > target.c
gcc -O2 -static -o target target.c || fail "cannot build the target program"

src() { cat > "$1.c"; }   # src NAME <<EOF: a hook source NAME.c

src good <<'EOF'
#include <zprewrite/hook.h>
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call) { (void)call; return ZP_PASS; }
EOF
src exe <<'EOF'
#include <zprewrite/hook.h>
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call) { (void)call; return ZP_PASS; }
int main(void) { return 0; }
EOF
src printf <<'EOF'
#include <stdio.h>
#include <zprewrite/hook.h>
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call) { printf("%ld\n", call->nr); return ZP_PASS; }
EOF
src tls <<'EOF'
#include <zprewrite/hook.h>
static __thread long calls;
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call) { (void)call; return ++calls ? ZP_PASS : 0; }
EOF
src noenter <<'EOF'
#include <zprewrite/hook.h>
ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc) { (void)proc; return 0; }
ZP_HOOK_EXPORT long zp_hook_leave(const struct zp_syscall *call, long r) { (void)call; return r; }
EOF
src hidden <<'EOF'
#include <zprewrite/hook.h>
long zp_hook_enter(struct zp_syscall *call) { (void)call; return ZP_PASS; }   /* not exported */
EOF
src noabi <<'EOF'
/* Written without <zprewrite/hook.h>: no .zp_hook_abi section. */
struct zp_syscall;
__attribute__((visibility("default")))
long zp_hook_enter(struct zp_syscall *call) { (void)call; return -0x7fffffffffffffffL - 1; }
EOF
src unkzp <<'EOF'
#include <zprewrite/hook.h>
long zp_no_such_helper(long);
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call) { return zp_no_such_helper(call->nr) ? ZP_PASS : 0; }
EOF
src unknown <<'EOF'
#include <zprewrite/hook.h>
long frobnicate(long);
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call) { return frobnicate(call->nr) ? ZP_PASS : 0; }
EOF
src textrel <<'EOF'
#include <zprewrite/hook.h>
static long counter;
long *volatile where = &counter;
ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call) { (void)call; counter++; return ZP_PASS; }
EOF

build() { # NAME OUT CC-ARGS...: build a case, or record that it cannot be built here
	local name=$1 out=$2; shift 2
	if ! gcc "$@" -o "$out" 2> "$out.buildlog"; then
		skip_check "$name" "cannot build it here: $(head -n 1 "$out.buildlog")"
		return 1
	fi
}

build good good.so "${HOOK_FLAGS[@]}" good.c || fail "the valid control hook does not build"
build exe exe.so -O2 -I"$INC" -no-pie exe.c || true
build pie pie.so -O2 -I"$INC" -fPIE -pie exe.c || true
build m32 m32.so -m32 "${HOOK_FLAGS[@]}" good.c || true
build libc libc.so -O2 -fPIC -shared -I"$INC" printf.c || true
build printf printf-nolibc.so "${HOOK_FLAGS[@]}" printf.c || true
build tls tls.so "${HOOK_FLAGS[@]}" tls.c || true
build noenter noenter.so "${HOOK_FLAGS[@]}" noenter.c || true
build hidden hidden.so "${HOOK_FLAGS[@]}" hidden.c && strip --strip-all hidden.so
build noabi noabi.so "${HOOK_FLAGS[@]}" noabi.c || true
build unkzp unkzp.so "${HOOK_FLAGS[@]}" unkzp.c || true
build unknown unknown.so "${HOOK_FLAGS[@]}" unknown.c || true
build object object.o -O2 -fPIC -ffreestanding -I"$INC" -c good.c || true
# Non-PIC code in a shared object: the large code model's absolute addresses
# need relocations in .text, which -z notext lets the linker leave there.
build textrel textrel.so -O2 -fno-pic -mcmodel=large -shared -nostdlib -ffreestanding \
	-fno-stack-protector -mgeneral-regs-only -I"$INC" -Wl,-z,notext textrel.c || true
# ld -N: text and data in one writable and executable segment.
build rwx rwx.so "${HOOK_FLAGS[@]}" -Wl,-N -Wl,--no-warn-rwx-segments good.c ||
	build rwx rwx.so "${HOOK_FLAGS[@]}" -Wl,-N good.c || true
printf 'this is not an ELF file\n' > notelf.so
: > empty.so
mkdir -p adir.so
# another machine: e_machine (offset 18) = 183, AArch64
cp good.so aarch64.so && printf '\267\000' | dd of=aarch64.so bs=1 seek=18 conv=notrunc 2>/dev/null
# another interface version in .zp_hook_abi
printf '\002\000\000\000' > abi2.bin
objcopy --update-section .zp_hook_abi=abi2.bin good.so abi2.so 2>/dev/null || rm -f abi2.so
# Corrupt copies: a relocation's symbol name unterminated at the end of the
# file, its string table reaching 1 MiB past the end or exactly to it.
if [ -e unkzp.so ]; then
	M dynname-at-end unkzp.so nameend-past.so zp_no_such_helper 'end+0x100000' || fail "elfmutate.py dynname-at-end failed"
	M dynname-at-end unkzp.so nameend-exact.so zp_no_such_helper 'end' || fail "elfmutate.py dynname-at-end failed"
	# the PLT relocation's r_offset: -4, so that r_offset + 8 wraps round to 4
	M set unkzp.so relwrap.so 'u64[sec_off(".rela.plt")]=-4' || fail "elfmutate.py set on unkzp.so failed"
fi
M set good.so abinull.so 'shdr[.zp_hook_abi].sh_type=0' 'shdr[.zp_hook_abi].sh_offset=0x100000000000' ||
	fail "elfmutate.py set on good.so failed"

# The control: a valid hook is accepted.
mkdir ok && cp target good.so ok/
check "control: a valid hook is accepted" eval '(cd ok && timeout -k 5 "$RUN_TIMEOUT" "$ZPREWRITE" --hook good.so target out)'
check "control: the valid hook's output is written" [ -x ok/out ]

# refused NAME HOOKFILE REGEX: the hook must be refused as described above.
refused() {
	local name=$1 hook=$2 re=$3 dir rc before after err
	dir=c/$name
	if [ "$hook" != missing.so ] && [ ! -e "$hook" ]; then
		return 0   # could not be built here (reported above)
	fi
	mkdir -p "$dir"
	cp target "$dir/"
	[ -e "$hook" ] && cp -r "$hook" "$dir/"
	before=$(find "$dir" -mindepth 1 -maxdepth 1 -printf '%P\n' | sort)
	set +e
	(cd "$dir" && timeout -k 5 "$RUN_TIMEOUT" "$ZPREWRITE" --hook "$hook" target out > stdout 2> stderr)
	rc=$?
	set -e
	after=$(find "$dir" -mindepth 1 -maxdepth 1 ! -name stdout ! -name stderr -printf '%P\n' | sort)
	err=$(cat "$dir/stderr")
	begin_check "$name"
	[ $rc = 1 ] || fault "exit status $rc, expected 1"
	[ -s "$dir/stdout" ] && fault "something on stdout"
	[ "$(wc -l < "$dir/stderr")" = 1 ] || fault "$(wc -l < "$dir/stderr") lines on stderr, expected 1"
	# The reason alone: the hook's file name (empty.so, tls.so...) must not
	# be what matches.
	if [[ $err == "zprewrite: $hook: "* ]]; then
		grep -qiE -- "$re" <<<"${err#"zprewrite: $hook: "}" || fault "the reason does not match /$re/"
	else
		fault "the message does not start with 'zprewrite: $hook: '"
	fi
	[ "$before" = "$after" ] || fault "files left behind: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')"
	[ ${#ZPH_FAULTS[@]} = 0 ] || fault "stderr: $err"
	end_check
	note "$err"
}

refused missing    missing.so        'cannot open|no such file'
refused directory  adir.so           'directory'
refused not-elf    notelf.so         'not an ELF'
refused empty      empty.so          'empty'
refused elf32      m32.so            '32-bit|ELF ?64|class'
refused machine    aarch64.so        'AArch64|machine|x86-64'
refused object     object.o          'relocatable|object|shared'
refused exec       exe.so            'shared object'
refused pie        pie.so            'not a program|interpreter|shared object'
refused libc       libc.so           'shared librar|DT_NEEDED|-nostdlib|libc'
refused printf     printf-nolibc.so  "'printf'.*(libc|helper)"
refused unknown-zp unkzp.so          "'zp_no_such_helper'.*(helper|defined)"
refused unknown    unknown.so        "'frobnicate'.*(helper|defined)"
refused tls        tls.so            'thread-local|__thread|TLS'
refused no-enter   noenter.so        'zp_hook_enter'
refused hidden     hidden.so         'zp_hook_enter'
refused no-abi     noabi.so          'hook\.h|interface version'
refused abi2       abi2.so           'version 2'
refused textrel    textrel.so        'text relocation|-fPIC'
refused rwx        rwx.so            'writable and executable'
refused name-past  nameend-past.so   'string table'
refused name-exact nameend-exact.so  'symbol name'
refused reloc-wrap relwrap.so        'outside its segments'
refused abi-null   abinull.so        'interface version'

