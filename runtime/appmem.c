/*
 * appmem.c - reading and writing the application's memory without faulting.
 *
 * The runtime often handles a pointer the application passed (a struct
 * clone_args, a sigaction, a signal mask): a bad one must give the
 * application EFAULT, as the kernel would, not crash it in the runtime.
 * process_vm_readv/writev on our own pid copy through the kernel, which
 * answers -EFAULT where a plain load would raise SIGSEGV.  One system call
 * each: fine on the paths that need them (the trap path's handler, which
 * runs on every call there, uses safemem.S instead).
 */
#include <asm/errno.h>
#include <asm/unistd.h>

#include "runtime.h"
#include "sys.h"

struct iov {
	const void *base;
	size_t len;
};

/* The process id to name ourselves with: kept in the thread block (a new
 * process's block starts with 0, thread.c, process.c), so that a start-up
 * that reads many small things pays one getpid.  Always our own: a vfork
 * child reading through its parent's id would need ptrace rights (Yama). */
static long self_pid(void)
{
	struct zp_thread *t = zp_thread_self();
	if (!t->pid)
		t->pid = (int)zp_sys0(__NR_getpid);
	return t->pid;
}

static long copy(int write, void *dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	struct iov local = { write ? src : dst, len }, remote = { write ? dst : src, len };
	long r = zp_sys6(write ? __NR_process_vm_writev : __NR_process_vm_readv, self_pid(),
			 (long)&local, 1, (long)&remote, 1, 0);
	return r == (long)len ? 0 : -EFAULT;
}

long zp_app_read(void *dst, const void *src, size_t len)
{
	return copy(0, dst, src, len);
}

long zp_app_write(void *dst, const void *src, size_t len)
{
	return copy(1, dst, src, len);
}
