/*
 * funcs.c - function ranges from symbols and .eh_frame (see funcs.h).
 *
 * libdw's dwarf_next_cfi() walks the .eh_frame records; what it leaves to the
 * caller is the pointer encoding of each FDE's address range, which the
 * CIE's augmentation data states ('R').  That small decoder is written here
 * because libdw has no public call for it.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

#include "funcs.h"
#include "warn.h"

static int push(struct zp_funcs *f, size_t *cap, struct zp_func fn)
{
	if (fn.end <= fn.start)
		return 0;
	if (f->n == *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		struct zp_func *nv = realloc(f->v, *cap * sizeof *nv);
		if (!nv)
			return -1;
		f->v = nv;
	}
	f->v[f->n++] = fn;
	return 0;
}

/* ---- .eh_frame ---------------------------------------------------------- */

struct cie_info {
	uint64_t offset;
	uint8_t fde_enc;
};

/* Read a pointer encoded as `enc` at p (within [p, end)), whose own address
 * is `vaddr`.  Returns the number of bytes read, 0 if not understood. */
static size_t read_encoded(uint8_t enc, const uint8_t *p, const uint8_t *end,
			   uint64_t vaddr, uint64_t *out)
{
	uint64_t v = 0;
	size_t n;

	if (enc == DW_EH_PE_omit)
		return 0;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8: n = 8; break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4: n = 4; break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2: n = 2; break;
	default: return 0;     /* leb128 pointers do not occur in .eh_frame of x86-64 code */
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if ((enc & 0x0f) == DW_EH_PE_sdata4)
		v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
	if ((enc & 0x0f) == DW_EH_PE_sdata2)
		v = (uint64_t)(int64_t)(int16_t)(uint16_t)v;
	switch (enc & 0x70) {
	case 0: break;
	case DW_EH_PE_pcrel: v += vaddr; break;
	default: return 0;     /* textrel/datarel/funcrel: not used for FDE ranges here */
	}
	if (enc & DW_EH_PE_indirect)
		return 0;
	*out = v;
	return n;
}

/* The FDE pointer encoding from a CIE's augmentation ("zPLR" style). */
static uint8_t cie_fde_encoding(const Dwarf_CIE *cie)
{
	const char *aug = cie->augmentation;
	const uint8_t *d = cie->augmentation_data;
	const uint8_t *end = d + cie->augmentation_data_size;

	if (!aug || aug[0] != 'z')
		return DW_EH_PE_absptr;
	for (const char *a = aug + 1; *a; a++) {
		switch (*a) {
		case 'R':
			return d < end ? *d : DW_EH_PE_absptr;
		case 'L':
			d++;
			break;
		case 'P': {
			if (d >= end)
				return DW_EH_PE_absptr;
			uint8_t penc = *d++;
			uint64_t dummy;
			size_t n = read_encoded(penc & 0x0f, d, end, 0, &dummy);
			if (!n)
				return DW_EH_PE_absptr;
			d += n;
			break;
		}
		case 'S':
		case 'B':
			break;
		default:
			return DW_EH_PE_absptr;
		}
	}
	return DW_EH_PE_absptr;
}

/* The .eh_frame bytes and address: from its section, or without section
 * headers through PT_GNU_EH_FRAME's eh_frame_ptr. */
static int find_eh_frame(const struct zp_elf *e, const uint8_t **bytes, size_t *size, uint64_t *vaddr)
{
	const struct zp_section *s = zp_elf_section_by_name(e, ".eh_frame");
	if (s && s->shdr.sh_type != SHT_NOBITS && (s->shdr.sh_flags & SHF_ALLOC)) {
		*bytes = zp_elf_bytes_at(e, s->shdr.sh_addr, s->shdr.sh_size);
		*size = s->shdr.sh_size;
		*vaddr = s->shdr.sh_addr;
		return *bytes ? 0 : -1;
	}
	if (e->shnum)
		return -1;
	for (size_t i = 0; i < e->phnum; i++) {
		const GElf_Phdr *p = &e->phdrs[i];
		if (p->p_type != PT_GNU_EH_FRAME || p->p_filesz < 8)
			continue;
		const uint8_t *hdr = zp_elf_bytes_at(e, p->p_vaddr, p->p_filesz);
		uint64_t at;
		if (!hdr || hdr[0] != 1 ||
		    !read_encoded(hdr[1], hdr + 4, hdr + p->p_filesz, p->p_vaddr + 4, &at))
			return -1;
		const GElf_Phdr *seg = zp_elf_load_at(e, at, 1);
		if (!seg)
			return -1;
		*vaddr = at;
		*size = seg->p_vaddr + seg->p_filesz - at;
		*bytes = zp_elf_bytes_at(e, at, *size);
		return *bytes ? 0 : -1;
	}
	return -1;
}

static int collect_fdes(const struct zp_elf *e, struct zp_funcs *f, size_t *cap)
{
	const uint8_t *bytes;
	size_t size;
	uint64_t vaddr;

	if (find_eh_frame(e, &bytes, &size, &vaddr))
		return 0;   /* no unwind information: symbols (or sweeping) only */

	Elf_Data data = { .d_buf = (void *)bytes, .d_size = size, .d_type = ELF_T_BYTE };
	struct cie_info *cies = NULL;
	size_t ncie = 0, ciecap = 0;
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry ent;
	int r;

	while ((r = dwarf_next_cfi(e->bytes, &data, 1, off, &next, &ent)) == 0) {
		if (dwarf_cfi_cie_p(&ent)) {
			if (ncie == ciecap) {
				ciecap = ciecap ? ciecap * 2 : 64;
				struct cie_info *nc = realloc(cies, ciecap * sizeof *nc);
				if (!nc) {
					free(cies);
					return zp_error(e->path, "out of memory");
				}
				cies = nc;
			}
			cies[ncie++] = (struct cie_info){ off, cie_fde_encoding(&ent.cie) };
		} else {
			uint8_t enc = DW_EH_PE_absptr;
			int found = 0;
			/* CIEs come before their FDEs; search from the newest. */
			for (size_t i = ncie; i-- > 0;)
				if (cies[i].offset == ent.fde.CIE_pointer) {
					enc = cies[i].fde_enc;
					found = 1;
					break;
				}
			const uint8_t *p = ent.fde.start, *end = ent.fde.end;
			uint64_t start, range;
			size_t n1 = found ? read_encoded(enc, p, end, vaddr + (uint64_t)(p - bytes), &start) : 0;
			size_t n2 = n1 ? read_encoded(enc & 0x0f, p + n1, end, 0, &range) : 0;
			if (n2 && range && range < (1u << 30)) {
				f->nfde++;
				if (push(f, cap, (struct zp_func){ start, start + range, NULL, ZP_FUNC_FDE })) {
					free(cies);
					return zp_error(e->path, "out of memory");
				}
			}
		}
		if (next <= off)
			break;
		off = next;
	}
	free(cies);
	if (r < 0)
		zp_warn(e->path, ".eh_frame is damaged at offset %#lx; using the records before it",
			(unsigned long)off);
	return 0;
}

/* ---- putting it together ------------------------------------------------- */

static int cmp_func(const void *a, const void *b)
{
	const struct zp_func *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;     /* longest first */
	if (!!x->name != !!y->name)
		return x->name ? -1 : 1;             /* named first */
	return x->source - y->source;
}

int zp_funcs_collect(const struct zp_elf *e, struct zp_funcs *f)
{
	size_t cap = 0;

	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < e->nsyms; i++) {
		const struct zp_symbol *s = &e->syms[i];
		if (push(f, &cap, (struct zp_func){ s->addr, s->addr + s->size, s->name, ZP_FUNC_SYMBOL }))
			return zp_error(e->path, "out of memory");
	}
	if (collect_fdes(e, f, &cap))
		return -1;
	if (!f->n)
		return 0;
	qsort(f->v, f->n, sizeof *f->v, cmp_func);
	/* Drop repeats of the same range (aliases, a symbol and its FDE). */
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (k && f->v[k - 1].start == f->v[i].start && f->v[k - 1].end == f->v[i].end)
			continue;
		f->v[k++] = f->v[i];
		if (f->v[i].end - f->v[i].start > f->maxlen)
			f->maxlen = f->v[i].end - f->v[i].start;
	}
	f->n = k;
	return 0;
}

void zp_funcs_free(struct zp_funcs *f)
{
	free(f->v);
	memset(f, 0, sizeof *f);
}

void zp_funcs_covering(const struct zp_funcs *f, uint64_t addr,
		       void (*fn)(const struct zp_func *, void *), void *arg)
{
	/* First function starting after addr. */
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (f->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		const struct zp_func *fu = &f->v[i];
		if (addr - fu->start >= f->maxlen)
			break;
		if (addr < fu->end)
			fn(fu, arg);
	}
}
