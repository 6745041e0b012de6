/*
 * vmcost.c - what the operations a rewritten program's start-up adds cost
 * on this machine.
 *
 * The runtime's initializer (runtime/init.c, trampoline.c, sitetable.c) maps the
 * trampoline, writes it, changes its protection and builds the site table;
 * only when the embedded hook needs its vector registers saved does it also
 * read the CPU's extended-state size with cpuid (start_hook in init.c).  On a
 * virtual machine each of these can cost microseconds (a first write to a
 * page is a page fault, a cpuid is an exit to the hypervisor), which is what
 * docs/performance.md uses to explain the start-up difference.  Prints
 * "name ns" lines, each the median of 21 trials:
 *   fault     first write to a fresh anonymous page, per page (64 pages)
 *   mmap      mmap of 8 KiB anonymous memory
 *   mprotect  mprotect of 8 KiB just written, to PROT_EXEC (as the trampoline)
 *   munmap    munmap of those 8 KiB
 *   cpuid     one cpuid instruction (leaf 0xd, as the runtime uses)
 * and, given a directory DIR (a bundle's lib/), the two failing lookups that
 * glibc's loader makes for every hardware-capability subdirectory it tries
 * under a library path such as $ORIGIN/lib (a bundle names its libraries by
 * path and makes none; report.py quotes these only if a bundle's start
 * shows failed lookups):
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

#define BENCH_NAME "vmcost"
#include "benchutil.h"

#define TRIALS 21
#define PAGES 64

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
		double t0 = wall_ns();
		for (int i = 0; i < PAGES; i++)
			((volatile char *)p)[i * 4096] = 1;
		fault[t] = (wall_ns() - t0) / PAGES;
		munmap(p, PAGES * 4096);

		t0 = wall_ns();
		char *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		map[t] = wall_ns() - t0;
		if (q == MAP_FAILED) {
			perror("vmcost: mmap");
			return 1;
		}
		memset(q, 0x90, 8192);
		t0 = wall_ns();
		mprotect(q, 8192, PROT_EXEC);
		prot[t] = wall_ns() - t0;
		t0 = wall_ns();
		munmap(q, 8192);
		unmap[t] = wall_ns() - t0;

		unsigned a = 0xd, b, c = 0, d;
		t0 = wall_ns();
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		cpuid[t] = wall_ns() - t0;

		if (argc > 1) {
			struct stat sb;
			t0 = wall_ns();
			int fd = open(file, O_RDONLY | O_CLOEXEC);
			op[t] = wall_ns() - t0;
			if (fd >= 0)
				close(fd);
			t0 = wall_ns();
			stat(dir, &sb);
			st[t] = wall_ns() - t0;
		}
	}
	printf("fault %.0f\nmmap %.0f\nmprotect %.0f\nmunmap %.0f\ncpuid %.0f\n", median(fault, TRIALS),
	       median(map, TRIALS), median(prot, TRIALS), median(unmap, TRIALS), median(cpuid, TRIALS));
	if (argc > 1)
		printf("open_enoent %.0f\nstat_enoent %.0f\n", median(op, TRIALS), median(st, TRIALS));
	return 0;
}
