/*
 * net-lib.c - a library that tests/t-net.sh loads from outside a bundle
 * (dlopen): its raw system calls are in no file zprewrite rewrote.
 */
#include <sys/syscall.h>
#include <unistd.h>

long zp_net_lib_calls(int n);

long zp_net_lib_calls(int n)
{
	long parent = getppid(), ok = 0;

	for (int i = 0; i < n; i++) {
		long r;
		__asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_getppid) : "rcx", "r11", "memory");
		ok += r == parent;
	}
	return ok;
}
