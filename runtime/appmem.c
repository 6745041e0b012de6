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

static long copy(int write, void *dst, const void *src, size_t len)
{
	if (!len)
		return 0;
	struct iov local = { write ? src : dst, len }, remote = { write ? dst : src, len };
	long r = zp_sys6(write ? __NR_process_vm_writev : __NR_process_vm_readv, zp_sys0(__NR_getpid),
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
