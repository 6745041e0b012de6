/*
 * contract-null.c - NULL stays NULL in a rewritten program.
 *
 * Used by tests/t-contract-null.sh and tests/t-contract-null-siginfo.sh.  The
 * runtime maps its trampoline at address 0 (and page 1), yet a program that
 * dereferences or calls a NULL pointer must still die of SIGSEGV, and a call
 * into page 0 that does not come from a rewritten site must not become a
 * system call.  Each mode does one bad thing; the unpatched program dies of
 * SIGSEGV in every one of them, and so must the rewritten one:
 *   read0 write0 read8       load/store at 0, load at 8 (a field of NULL)
 *   read-page1 write-page1   load/store at 0x1800 (the trampoline's page 1)
 *   read-jumps               load at 0x2e2e3000 (a wild pointer that hits
 *                            the runtime's jump pages)
 *   callnull                 call through a NULL function pointer
 *   call-rax0                `call *%rax` with rax = 0 (the bytes of a
 *                            rewritten site, but not at one)
 *   call-exit                `call *%rax` with rax = 231 (exit_group) and
 *                            rdi = 42: if the runtime made it a system
 *                            call, the process would exit with status 42
 *   call-write               `call *%rax` with rax = 1 (write) of a message
 *                            to stdout: made, it would print
 *   jmp-exit                 `jmp *%rax` with rax = 231, rdi = 42
 *   call-page1               `call *%rax` with rax = 4096 + 39
 * "siginfo MODE" runs MODE with a SIGSEGV handler that prints what a program
 * could see of the fault (si_code, si_addr, whether rip is the bad address)
 * and exits 0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#include "ptest.h"

static uintptr_t expect_addr;   /* the address the fault is about */

static void segv_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	const char *code = si->si_code == SEGV_MAPERR ? "SEGV_MAPERR" :
			   si->si_code == SEGV_ACCERR ? "SEGV_ACCERR" :
#ifdef SEGV_PKUERR
			   si->si_code == SEGV_PKUERR ? "SEGV_PKUERR" :
#endif
			   si->si_code == SI_KERNEL ? "SI_KERNEL" : "other";
	uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	say("signal %d, si_code %s, si_addr %s, rip %s\n", sig, code,
	    (uintptr_t)si->si_addr == expect_addr ? "= the bad address" : "elsewhere",
	    rip == expect_addr ? "= the bad address" : "elsewhere");
	_exit(0);
}

static void call_rax(long rax, long rdi, long rsi, long rdx)
{
	__asm__ volatile("call *%%rax" : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx)
			 : : "rcx", "r8", "r9", "r10", "r11", "memory");
}

static void jmp_rax(long rax, long rdi)
{
	__asm__ volatile("jmp *%%rax" : "+a"(rax), "+D"(rdi) : : "memory");
}

int main(int argc, char **argv)
{
	static const char msg[] = "A SYSTEM CALL WAS MADE\n";
	int a = 1;

	if (argc > 2 && !strcmp(argv[1], "siginfo")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = segv_handler;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		a = 2;
	}
	if (argc < 2)
		die("usage: %s [siginfo] MODE", argv[0]);
	const char *m = argv[a];
	volatile uintptr_t p;   /* keeps the compiler from seeing NULL */

	if (!strcmp(m, "read0")) {
		p = expect_addr = 0;
		say("read %d\n", *(volatile int *)p);
	} else if (!strcmp(m, "write0")) {
		p = expect_addr = 0;
		*(volatile int *)p = 1;
	} else if (!strcmp(m, "read8")) {
		p = expect_addr = 8;
		say("read %d\n", *(volatile int *)p);
	} else if (!strcmp(m, "read-page1")) {
		p = expect_addr = 0x1800;
		say("read %d\n", *(volatile int *)p);
	} else if (!strcmp(m, "write-page1")) {
		p = expect_addr = 0x1800;
		*(volatile int *)p = 1;
	} else if (!strcmp(m, "read-jumps")) {
		p = expect_addr = 0x2e2e3000;
		say("read %d\n", *(volatile int *)p);
	} else if (!strcmp(m, "callnull")) {
		p = expect_addr = 0;
		((void (*)(void))p)();
	} else if (!strcmp(m, "call-rax0")) {
		expect_addr = 0;
		call_rax(0, 0, 0, 0);
	} else if (!strcmp(m, "call-exit")) {
		expect_addr = 231;
		call_rax(231, 42, 0, 0);
	} else if (!strcmp(m, "call-write")) {
		expect_addr = 1;
		call_rax(1, 1, (long)msg, sizeof msg - 1);
	} else if (!strcmp(m, "jmp-exit")) {
		expect_addr = 231;
		jmp_rax(231, 42);
	} else if (!strcmp(m, "call-page1")) {
		expect_addr = 4096 + 39;
		call_rax(4096 + 39, 0, 0, 0);
	} else {
		die("unknown mode %s", m);
	}
	say("%s: survived\n", m);
	return 0;
}
