/*
 * vmcost.c - what the operations a rewritten program's start-up adds cost
 * on this machine.
 *
 * The runtime's initializer (runtime/init.c, trampoline.c, sites.c) maps the
 * trampoline, writes it, changes its protection, builds the site table and
 * reads the CPU's extended-state size with cpuid.  On a virtual machine each
 * of these can cost microseconds (a first write to a page is a page fault, a
 * cpuid is an exit to the hypervisor), which is what docs/performance.md uses
 * to explain the start-up difference.  Prints "name ns" lines, each the
 * median of 21 trials:
 *   fault     first write to a fresh anonymous page, per page (64 pages)
 *   mmap      mmap of 8 KiB anonymous memory
 *   mprotect  mprotect of 8 KiB just written, to PROT_EXEC (as the trampoline)
 *   munmap    munmap of those 8 KiB
 *   cpuid     one cpuid instruction (leaf 0xd, as the runtime uses)
 * and, given a directory DIR (a bundle's lib/), the two failing lookups that
 * glibc's loader makes for every hardware-capability subdirectory it tries
 * under a library path such as $ORIGIN/lib:
 *   open_enoent  openat(DIR/glibc-hwcaps/x86-64-v4/libc.so.6) -> ENOENT
 *   stat_enoent  stat(DIR/glibc-hwcaps/x86-64-v4) -> ENOENT
 *
 * Usage: vmcost [DIR]
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o vmcost bench/vmcost.c
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRIALS 21
#define PAGES 64

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, TRIALS, sizeof *v, cmp_double);
	return v[TRIALS / 2];
}

int main(int argc, char **argv)
{
	double fault[TRIALS], map[TRIALS], prot[TRIALS], unmap[TRIALS], cpuid[TRIALS];
	double op[TRIALS], st[TRIALS];
	char file[4200], dir[4096];
	if (argc > 1) {
		if (snprintf(dir, sizeof dir, "%s/glibc-hwcaps/x86-64-v4", argv[1]) >= (int)sizeof dir) {
			fprintf(stderr, "vmcost: directory name too long\n");
			return 2;
		}
		snprintf(file, sizeof file, "%s/libc.so.6", dir);
	}

	for (int t = 0; t < TRIALS; t++) {
		char *p = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("vmcost: mmap");
			return 1;
		}
		double t0 = now_ns();
		for (int i = 0; i < PAGES; i++)
			((volatile char *)p)[i * 4096] = 1;
		fault[t] = (now_ns() - t0) / PAGES;
		munmap(p, PAGES * 4096);

		t0 = now_ns();
		char *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		map[t] = now_ns() - t0;
		if (q == MAP_FAILED) {
			perror("vmcost: mmap");
			return 1;
		}
		memset(q, 0x90, 8192);
		t0 = now_ns();
		mprotect(q, 8192, PROT_EXEC);
		prot[t] = now_ns() - t0;
		t0 = now_ns();
		munmap(q, 8192);
		unmap[t] = now_ns() - t0;

		unsigned a = 0xd, b, c = 0, d;
		t0 = now_ns();
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		cpuid[t] = now_ns() - t0;

		if (argc > 1) {
			struct stat sb;
			t0 = now_ns();
			int fd = open(file, O_RDONLY | O_CLOEXEC);
			op[t] = now_ns() - t0;
			if (fd >= 0)
				close(fd);
			t0 = now_ns();
			stat(dir, &sb);
			st[t] = now_ns() - t0;
		}
	}
	printf("fault %.0f\nmmap %.0f\nmprotect %.0f\nmunmap %.0f\ncpuid %.0f\n", median(fault),
	       median(map), median(prot), median(unmap), median(cpuid));
	if (argc > 1)
		printf("open_enoent %.0f\nstat_enoent %.0f\n", median(op), median(st));
	return 0;
}
