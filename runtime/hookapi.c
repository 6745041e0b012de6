/*
 * hookapi.c - the helpers hook.h promises that are not about strings:
 * real system calls, the application's memory, the environment, system call
 * and errno names, ids (and whether the caller shares its parent's memory)
 * and the clock.
 */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/auxvec.h>
#include <linux/elf.h>
#include <linux/time.h>

#include "runtime.h"
#include "sys.h"
#include "sysnames.h"
#include "errnames.h"

long zp_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return zp_sys6(nr, a1, a2, a3, a4, a5, a6);
}

long zp_read_app(void *dst, const void *src, size_t len)
{
	return zp_app_read(dst, src, len);
}

const char *zp_getenv(const char *name)
{
	size_t n = zp_strlen(name);

	for (char **e = zp_environ; e && *e; e++)
		if (!zp_strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return 0;
}

const char *zp_syscall_name(long nr)
{
	if (nr < 0 || nr > ZP_SYSNAMES_MAX || zp_sysnames_off[nr] < 0)
		return 0;
	return zp_sysnames_str + zp_sysnames_off[nr];
}

long zp_syscall_number(const char *name)
{
	for (long nr = 0; nr <= ZP_SYSNAMES_MAX; nr++)
		if (zp_sysnames_off[nr] >= 0 && !zp_strcmp(zp_sysnames_str + zp_sysnames_off[nr], name))
			return nr;
	return -1;
}

const char *zp_errno_name(long err)
{
	if (err <= 0 || err > ZP_ERRNAMES_MAX || zp_errnames_off[err][0] < 0)
		return 0;
	return zp_errnames_str + zp_errnames_off[err][0];
}

const char *zp_errno_text(long err)
{
	if (err <= 0 || err > ZP_ERRNAMES_MAX || zp_errnames_off[err][1] < 0)
		return 0;
	return zp_errnames_str + zp_errnames_off[err][1];
}

long zp_gettid(void) { return zp_sys0(__NR_gettid); }
long zp_getpid(void) { return zp_sys0(__NR_getpid); }

/* The thread's block knows: set for a vfork-like child's block (thread.c),
 * cleared in a fork child (process.c). */
int zp_shares_parent_memory(void)
{
	return zp_thread_self()->shares_memory;
}

/* ---- clock: the vDSO's clock_gettime, found once from AT_SYSINFO_EHDR ---- */

typedef int (*vdso_clock_fn)(int, struct timespec *);
static vdso_clock_fn vdso_clock_gettime;
static int vdso_looked_up;

static unsigned long getauxval_env(unsigned long type)
{
	char **e = zp_environ;
	while (e && *e)
		e++;
	if (!e)
		return 0;
	for (unsigned long *a = (unsigned long *)(e + 1); a[0] != AT_NULL; a += 2)
		if (a[0] == type)
			return a[1];
	return 0;
}

/* Find a symbol in the vDSO's dynamic symbol table (it has no hash-less
 * shortcut; the table is a few dozen entries). */
static void *vdso_sym(const char *name)
{
	/* (zp_vdso_base: the program's auxiliary vector may have it hidden) */
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(zp_vdso_base ? zp_vdso_base : getauxval_env(AT_SYSINFO_EHDR));
	if (!eh)
		return 0;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	uintptr_t load = 0, base = (uintptr_t)eh;
	const Elf64_Dyn *dyn = 0;
	int have_load = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			load = base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = 1;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
		}
	}
	if (!dyn || !have_load)
		return 0;
	const Elf64_Sym *sym = 0;
	const char *str = 0;
	const uint32_t *hash = 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB) sym = (const Elf64_Sym *)(load + dyn->d_un.d_ptr);
		if (dyn->d_tag == DT_STRTAB) str = (const char *)(load + dyn->d_un.d_ptr);
		if (dyn->d_tag == DT_HASH) hash = (const uint32_t *)(load + dyn->d_un.d_ptr);
	}
	if (!sym || !str || !hash)
		return 0;
	for (uint32_t i = 0; i < hash[1]; i++)   /* hash[1] = number of symbols */
		if (sym[i].st_name && !zp_strcmp(str + sym[i].st_name, name) && sym[i].st_value)
			return (void *)(load + sym[i].st_value);
	return 0;
}

uint64_t zp_clock_ns(void)
{
	struct timespec ts;

	if (!__atomic_load_n(&vdso_looked_up, __ATOMIC_ACQUIRE)) {
		vdso_clock_gettime = (vdso_clock_fn)vdso_sym("__vdso_clock_gettime");
		__atomic_store_n(&vdso_looked_up, 1, __ATOMIC_RELEASE);
	}
	if (!vdso_clock_gettime || vdso_clock_gettime(CLOCK_MONOTONIC, &ts))
		zp_sys2(__NR_clock_gettime, CLOCK_MONOTONIC, (long)&ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
