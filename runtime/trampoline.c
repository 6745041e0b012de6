/*
 * trampoline.c - the code at address 0 that every rewritten site calls into.
 *
 * A rewritten site is `call *%rax` with rax = the system call number, so it
 * lands at address nr.  Every byte offset of the low pages is an entry point,
 * and from each one the CPU must reach zp_entry with rax, the other registers,
 * the flags and the stack untouched.  Low numbers (read, write) are the most
 * frequent, so the path should cost the same from every entry, unlike a slide
 * of one-byte nops where nr 0 executes ~500 of them.
 *
 * The design here: the low pages are a run of 5-byte direct jumps
 *
 *     e9 2e 2e 2e 2e        jmp .+5+0x2e2e2e2e
 *
 * 0x2e is the CS segment-override prefix, which is ignored on a jump.  Entered
 * at the e9, a group jumps; entered at one of its displacement bytes, the CPU
 * reads 1-4 prefixes followed by the next group's e9: the same jump, one group
 * later.  So every entry takes exactly one jump, to one of the "landing" spots
 * 5 bytes apart in the jump pages around 0x2e2e2e2e + a little; each landing
 * spot holds a direct jump to a common tail that ends in
 * `movabs $zp_entry, %r11; jmp *%r11` (r11 is free: `syscall` clobbers it).
 * Three predictable jumps from any number; no nops.
 *
 * The low region is two pages, [0, 8192): all of page 0 (numbers up to 4095,
 * far beyond the last real system call, which the kernel answers with -ENOSYS
 * and so does the hook's pass-through) plus page 1, so that the prefixes at the
 * very end of page 0 still find a jump after them.  A number at the last 4
 * bytes of page 1 or beyond lands outside the trampoline (see docs/runtime.md).
 *
 * Both regions end up execute-only (PROT_EXEC): on CPUs with protection keys
 * a read or write of a NULL pointer still faults, as it would without us.
 * Elsewhere PROT_EXEC pages are readable: install says so (`readable`), so
 * that init.c can choose the trap path instead (policy auto).
 *
 * The jump pages' fixed range also marks the process as claimed: the first
 * rewritten object to start maps it (PROT_NONE until page 0 is installed,
 * and on the trap path for good), and the others find it taken.
 */
#include <linux/mman.h>
#include <asm/errno.h>

#include "runtime.h"
#include "sys.h"

/* Where the jumps from the low pages go: 5 + the displacement they encode. */
#define GROUP      5
#define PREFIX     0x2e
#define DISP       0x2e2e2e2eUL
/* Bytes before the first group, so that the groups end exactly at LOW_SIZE
 * (an entry there is a prefix run too, into the first group). */
#define LEAD       (ZP_TRAMP_LOW_SIZE % GROUP)
#define NGROUPS    (ZP_TRAMP_LOW_SIZE / GROUP)

/* The landing spots: group g at LEAD + 5g jumps to LEAD + 5g + 5 + DISP. */
#define LAND_FIRST (LEAD + GROUP + DISP)
#define LAND_LAST  (LEAD + GROUP * (NGROUPS - 1) + GROUP + DISP)
#define TAIL       (LAND_LAST + GROUP)
#define JUMPS_LO   (LAND_FIRST & ~4095UL)
#define JUMPS_HI   ((TAIL + 64 + 4095) & ~4095UL)


static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void fill_low(unsigned char *low)
{
	for (unsigned i = 0; i < LEAD; i++)
		low[i] = PREFIX;
	for (unsigned g = 0; g < NGROUPS; g++) {
		unsigned char *p = low + LEAD + GROUP * g;
		p[0] = 0xe9;                     /* jmp rel32 */
		put32(p + 1, (uint32_t)DISP);    /* = four 0x2e prefixes */
	}
}

static void fill_jumps(unsigned char *page, void (*entry)(void))
{
	unsigned char *base = page - JUMPS_LO;   /* index by absolute address */

	/* Unused bytes trap (int3) rather than run into something. */
	for (uintptr_t a = JUMPS_LO; a < JUMPS_HI; a++)
		base[a] = 0xcc;
	for (uintptr_t a = LAND_FIRST; a <= LAND_LAST; a += GROUP) {
		base[a] = 0xe9;                  /* jmp rel32 to the tail */
		put32(base + a + 1, (uint32_t)(TAIL - (a + GROUP)));
	}
	unsigned char *t = base + TAIL;
	t[0] = 0x49; t[1] = 0xbb;                /* movabs $entry, %r11 */
	put64(t + 2, (uint64_t)(uintptr_t)entry);
	t[10] = 0x41; t[11] = 0xff; t[12] = 0xe3; /* jmp *%r11 */
}

static long map_fixed(uintptr_t addr, size_t len, int prot)
{
	long r = zp_sys6(__NR_mmap, (long)addr, (long)len, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	/* Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat the address
	 * as a hint: anything but the address asked for means "taken". */
	if (!zp_is_err(r) && (uintptr_t)r != addr) {
		zp_sys2(__NR_munmap, r, (long)len);
		return -EEXIST;
	}
	return r;
}

int zp_trap_path;

struct zp_tramp_result zp_trampoline_claim(void)
{
	struct zp_tramp_result res = { ZP_TRAMP_OK, 0, 0, 0 };
	long r = map_fixed(JUMPS_LO, JUMPS_HI - JUMPS_LO, PROT_NONE);

	if (r == -EEXIST) {
		/* Taken: by another rewritten object of this process (the
		 * dynamic loader of a bundle), which runs the show.  (Nothing
		 * else maps this odd address before a program's first code.) */
		res.status = ZP_TRAMP_SHARED;
	} else if (zp_is_err(r)) {
		res.status = ZP_TRAMP_FAILED;
		res.err = r;
		res.addr = JUMPS_LO;
	}
	return res;
}

/* Can the application read the execute-only pages?  Only protection keys
 * make PROT_EXEC unreadable on x86; the read goes through safemem.S, whose
 * fault the runtime's SIGSEGV handler (installed before) turns into
 * -EFAULT. */
static int readable(void)
{
	uint64_t v;
	return zp_safe_read8((const void *)JUMPS_LO, &v) == 0;
}

struct zp_tramp_result zp_trampoline_install(void (*entry)(void))
{
	struct zp_tramp_result res = { ZP_TRAMP_OK, 0, 0, 0 };
	long r = map_fixed(0, ZP_TRAMP_LOW_SIZE, PROT_READ | PROT_WRITE);

	if (zp_is_err(r)) {
		res.status = r == -EEXIST ? ZP_TRAMP_PAGE0_TAKEN :
			     (r == -EPERM || r == -EACCES) ? ZP_TRAMP_PAGE0_DENIED :
			     ZP_TRAMP_FAILED;
		res.err = r;
		return res;
	}
	r = zp_sys3(__NR_mprotect, JUMPS_LO, JUMPS_HI - JUMPS_LO, PROT_READ | PROT_WRITE);
	if (!zp_is_err(r)) {
		/* Address 0 is not a valid C pointer: go through an integer
		 * the compiler cannot reason about. */
		uintptr_t low_addr = 0;
		__asm__("" : "+r"(low_addr));
		fill_low((unsigned char *)low_addr);
		fill_jumps((unsigned char *)JUMPS_LO, entry);
		r = zp_sys3(__NR_mprotect, JUMPS_LO, JUMPS_HI - JUMPS_LO, PROT_EXEC);
	}
	if (!zp_is_err(r))
		r = zp_sys3(__NR_mprotect, 0, ZP_TRAMP_LOW_SIZE, PROT_EXEC);
	if (zp_is_err(r)) {
		zp_trampoline_remove();
		res.status = ZP_TRAMP_FAILED;
		res.err = r;
		return res;
	}
	res.readable = readable();
	return res;
}

/* Back to the claim alone: no page 0, the jump pages inaccessible. */
void zp_trampoline_remove(void)
{
	zp_sys2(__NR_munmap, 0, ZP_TRAMP_LOW_SIZE);
	zp_sys6(__NR_mmap, JUMPS_LO, JUMPS_HI - JUMPS_LO, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* Is addr in the runtime's low pages (which stand for unmapped memory)? */
int zp_trampoline_contains(uintptr_t addr)
{
	return (addr < ZP_TRAMP_LOW_SIZE && !zp_trap_path) || (addr >= JUMPS_LO && addr < JUMPS_HI);
}
