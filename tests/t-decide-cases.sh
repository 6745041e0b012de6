#!/usr/bin/env bash
# t-decide-cases.sh - the red-zone analysis (rewriter/decide.c) on small
# hand-written programs, each a case it once got wrong.  Every program keeps
# a value in the red zone across its system calls and exits with it; its
# rewritten version must exit the same (and print the same):
#   - chain: the site is reached only through a chain of 24 backward jumps
#     (once the propagation gave up after 16 passes, never reached the site,
#     and patched it in place: `call *%rax` overwrote the value);
#   - popper: a loop that raises the stack pointer on each turn (the
#     analysis must end all the same);
#   - twosites, twosites-cut: two sites next to each other (once the second
#     site's stub window took instructions the first one had already moved,
#     and its jump overwrote the first's: a crash); --list must show windows
#     that do not overlap, and a site left with no room says why;
#   - number: `dup2` returns 56, and the next `syscall`, with no `mov` to
#     eax in between, is clone (once taken to be dup2 again, sent through a
#     stub, and the child ran with its stack 128 bytes off);
#   - long: a function of 40,000 instructions with 5 sites must be rewritten
#     within 20 s (once quadratic per site: 40 s and more).
# Each case is checked on its own: its rewrite must succeed within 20 s, and
# its rewritten program behave like the original.
# zp-test: rewriter
source "$TESTS/harness.sh"
need_page0

# asm NAME: assemble NAME.s (from stdin) into the static program NAME.
asm() {
	cat >"$1.s"
	gcc -static -nostdlib -o "$1" "$1.s" || fail "$1: cannot build the test program"
}

# same NAME STATUS: rewrite NAME; it and its rewritten version must exit with
# STATUS (the original checks the test itself) and print the same.
same() {
	local name=$1 want=$2
	RUN_TIMEOUT=20 run_t "rw.$name" "$ZPREWRITE" -q "$name" "$name.zp"
	check "$name: rewritten within 20 s" [ "$RUN_RC" = 0 ]
	last_ok || return 0
	ZPT_EXPECT_RC=$want RUN_TIMEOUT=20 check_same "$name: exits $want, as the original" "./$name" "./$name.zp"
	check "$name: the original exits $want (the case itself works)" [ "$LAST_RC" = "$want" ]
}

# The caller of every case: f(rdi) returns what exits.
start() {
	cat <<'EOF'
.globl _start
.text
.type _start,@function
_start:
	mov $1234, %rdi
	call f
	mov %rax, %rdi
	and $255, %edi
	mov $60, %eax
	syscall
.size _start, .-_start
.type f,@function
f:
EOF
}

{
	start
	echo '	jmp B24'
	cat <<'EOF'
S:	mov $39, %eax
	syscall
	mov -8(%rsp), %rax
	ret
B1:	mov %rdi, -8(%rsp)
	jmp S
EOF
	for i in $(seq 2 24); do echo "B$i:	jmp B$((i - 1))"; done
	echo '.size f, .-f'
} | asm chain
check "chain: the site in f is sent through a stub" eval '"$ZPREWRITE" --list chain | grep -q " f+0x[0-9a-f]* .* stub "'
same chain 210

{
	start
	cat <<'EOF'
	push %rdi
	push %rdi
	push %rdi
	mov $3, %edx
1:	pop %rcx
	dec %edx
	jnz 1b
	mov %rdi, -8(%rsp)
	mov $39, %eax
	syscall
	mov -8(%rsp), %rax
	ret
.size f, .-f
EOF
} | asm popper
same popper 210

# windows LIST: the stub windows ("moves A..B") in address order, none
# overlapping the next.
windows() {
	grep -o 'moves 0x[0-9a-f]*\.\.0x[0-9a-f]*' "$1" | sed 's/moves //; s/\.\./ /' |
	while read -r a b; do echo "$((a)) $((b))"; done | sort -n |
	awk 'NR > 1 && $1 < end { bad = 1 } { end = $2 } END { exit bad }'
}
{
	start
	cat <<'EOF'
	mov %rdi, -8(%rsp)
	mov $39, %eax
	lea buf(%rip), %rsi
	syscall
	mov $186, %eax
	syscall
	mov -8(%rsp), %rax
	ret
.size f, .-f
.bss
buf: .space 64
EOF
} | asm twosites
"$ZPREWRITE" --list twosites >twosites.list
check "twosites: two stubs" [ "$(grep -c ' stub ' twosites.list)" = 2 ]
check "twosites: the stub windows do not overlap" windows twosites.list
same twosites 210

# The second site has nothing after it to move: no room, and --list says so.
{
	start
	cat <<'EOF'
	mov %rdi, -8(%rsp)
	mov $39, %eax
	lea buf(%rip), %rsi
	syscall
	mov $186, %eax
	syscall
	jmp 1f
1:	mov -8(%rsp), %rax
	ret
.size f, .-f
.bss
buf: .space 64
EOF
} | asm twosites-cut
"$ZPREWRITE" --list twosites-cut >cut.list
check "twosites-cut: the stub windows do not overlap" windows cut.list
check "twosites-cut: the site with no room is skipped, saying why" grep -q " skip .*previous site's stub" cut.list
same twosites-cut 210

# f returns the child's exit status (42) plus the value from the red zone.
{
	start
	cat <<'EOF'
	mov %rdi, -8(%rsp)
	xor %edi, %edi
	mov $56, %esi
	mov $33, %eax               # dup2(0, 56) returns 56, clone's number
	syscall
	mov $17, %edi               # clone(SIGCHLD, child_top, 0, 0, 0)
	lea child_top(%rip), %rsi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	syscall
	test %rax, %rax
	jz 1f
	mov $-1, %rdi               # wait4(-1, &status, 0, 0)
	lea status(%rip), %rsi
	xor %edx, %edx
	xor %r10d, %r10d
	mov $61, %eax
	syscall
	mov status(%rip), %eax
	shr $8, %eax
	add -8(%rsp), %rax
	ret
1:	pop %rdi                    # the child: its stack holds its status
	mov $60, %eax
	syscall
.size f, .-f
.data
.p2align 4
status: .long 0
child_stack: .space 4096
child_top: .quad 42
.space 256
EOF
} | asm number
check "number: the clone site is skipped for its unknown number" \
	eval '"$ZPREWRITE" --list number | grep -q " skip .*number is not a constant"'
same number 252

{
	start
	for i in $(seq 40000); do echo '	add $1, %rdi'; done
	for i in $(seq 5); do printf '\tmov $39, %%eax\n\tsyscall\n'; done
	cat <<'EOF'
	mov %rdi, %rax
	ret
.size f, .-f
EOF
} | asm long
same long $(( (1234 + 40000) % 256 ))
