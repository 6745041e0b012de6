/*
 * segment.c - lay out and append zprewrite's segments (see segment.h).
 *
 * Placement rules (REFERENCE.md, "Adding a segment to an ELF file"):
 *  - new PT_LOADs go above the highest existing address, page-aligned, with
 *    offset and address congruent modulo the page size, and are listed after
 *    the existing PT_LOADs so the table stays sorted by address;
 *  - the program header table must be inside a PT_LOAD at the address its
 *    offset implies.  Linux >= 5.18 finds it through the segment that holds
 *    it; older kernels compute AT_PHDR as (first segment's address - its
 *    offset) + e_phoff, so the new R segment is placed at the file offset
 *    that makes both agree (the gap before it is zeros, typically the size
 *    of .bss);
 *  - PT_PHDR, if present, describes the moved table (ld.so derives the load
 *    bias from it).
 * All numbers are derived from the input alone, so the same input and
 * options give the same output, byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dynamic.h"
#include "segment.h"
#include "stub.h"
#include "warn.h"
#include "zp_abi.h"

#define PAGE 4096u
/* Past this much zero padding, give up the pre-5.18 AT_PHDR placement. */
#define MAX_PAD (64u << 20)

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int zp_segment_is_rewritten(const struct zp_elf *e)
{
	for (size_t i = 0; i < e->phnum; i++) {
		const GElf_Phdr *p = &e->phdrs[i];
		if (p->p_type == PT_LOAD && p->p_filesz >= ZP_MAGIC_LEN &&
		    !memcmp(e->bytes + p->p_offset, ZP_MAGIC, ZP_MAGIC_LEN))
			return 1;
	}
	return 0;
}

/* A segment to add: where it goes and what it holds. */
struct newseg {
	const char *name;          /* section name for it */
	uint32_t flags;
	uint64_t vaddr, offset, filesz, memsz;
};

#define MAXSEG 12

struct plan {
	struct newseg seg[MAXSEG];
	size_t nseg;
	/* inside the R segment */
	uint64_t desc_off, phdr_off, sites_off, relocs_off, interp_off, dynstr_off, r_size;
	size_t phnum;
	size_t npatched;         /* sites in the table: in place and in stubs */
	uint64_t hook_base;
	int stub_seg;            /* index of the stubs' segment, -1 if none */
	uint64_t stubs_size;
	int dyn_seg;             /* index of the new .dynamic's segment, -1 if none */
	const struct zp_dynedit *dyn;
};

static void put_phdr(unsigned char *at, const GElf_Phdr *p)
{
	Elf64_Phdr ph = {
		.p_type = p->p_type, .p_flags = p->p_flags, .p_offset = p->p_offset,
		.p_vaddr = p->p_vaddr, .p_paddr = p->p_paddr, .p_filesz = p->p_filesz,
		.p_memsz = p->p_memsz, .p_align = p->p_align,
	};
	Elf_Data src = { .d_buf = &ph, .d_type = ELF_T_PHDR, .d_size = sizeof ph, .d_version = EV_CURRENT };
	Elf_Data dst = { .d_buf = at, .d_type = ELF_T_PHDR, .d_size = sizeof ph, .d_version = EV_CURRENT };
	elf64_xlatetof(&dst, &src, ELFDATA2LSB);
}

static void put_shdr(unsigned char *at, const GElf_Shdr *s)
{
	Elf64_Shdr sh = {
		.sh_name = s->sh_name, .sh_type = s->sh_type, .sh_flags = s->sh_flags,
		.sh_addr = s->sh_addr, .sh_offset = s->sh_offset, .sh_size = s->sh_size,
		.sh_link = s->sh_link, .sh_info = s->sh_info, .sh_addralign = s->sh_addralign,
		.sh_entsize = s->sh_entsize,
	};
	Elf_Data src = { .d_buf = &sh, .d_type = ELF_T_SHDR, .d_size = sizeof sh, .d_version = EV_CURRENT };
	Elf_Data dst = { .d_buf = at, .d_type = ELF_T_SHDR, .d_size = sizeof sh, .d_version = EV_CURRENT };
	elf64_xlatetof(&dst, &src, ELFDATA2LSB);
}

static void put_ehdr(unsigned char *at, const GElf_Ehdr *h)
{
	Elf64_Ehdr eh;
	memcpy(&eh, h, sizeof eh);   /* GElf_Ehdr is Elf64_Ehdr */
	Elf_Data src = { .d_buf = &eh, .d_type = ELF_T_EHDR, .d_size = sizeof eh, .d_version = EV_CURRENT };
	Elf_Data dst = { .d_buf = at, .d_type = ELF_T_EHDR, .d_size = sizeof eh, .d_version = EV_CURRENT };
	elf64_xlatetof(&dst, &src, ELFDATA2LSB);
}

static void add_seg(struct plan *pl, const char *name, uint32_t flags, uint64_t vaddr,
		    uint64_t offset, uint64_t filesz, uint64_t memsz)
{
	if (pl->nseg == MAXSEG)
		ZP_BUG("too many new segments");
	pl->seg[pl->nseg++] = (struct newseg){ name, flags, vaddr, offset, filesz, memsz };
}

/* Decide every address and offset. */
static int plan_layout(const struct zp_elf *e, const struct zp_blob *blob,
		       const struct zp_sites *sites, const struct zp_embed *hook,
		       const struct zp_dynedit *dyn, struct plan *pl)
{
	memset(pl, 0, sizeof *pl);
	pl->stub_seg = pl->dyn_seg = -1;
	pl->dyn = dyn;
	for (size_t i = 0; i < sites->n; i++) {
		pl->npatched += sites->v[i].decision == ZP_PATCH || sites->v[i].decision == ZP_STUB;
		if (sites->v[i].decision == ZP_STUB)
			pl->stubs_size += align_up(zp_stub_size(&sites->v[i]), 16);
	}

	size_t nnew = 3 + (pl->stubs_size ? 1 : 0) + (dyn && dyn->dynamic ? 1 : 0) + (hook ? hook->nseg : 0);
	pl->phnum = e->phnum + nnew;
	if (pl->phnum >= PN_XNUM)
		return zp_error(e->path, "too many program headers (%zu)", e->phnum);

	/* The R segment's contents, in order. */
	uint64_t r = 0;
	pl->desc_off = r;
	r = align_up(r + sizeof(struct zp_desc), 8);
	pl->phdr_off = r;
	r = align_up(r + pl->phnum * sizeof(Elf64_Phdr), 8);
	pl->sites_off = r;
	r = align_up(r + pl->npatched * 4, 8);
	pl->relocs_off = r;
	r += (hook ? hook->nrelocs : 0) * sizeof(struct zp_reloc);
	pl->interp_off = r;
	if (dyn && dyn->interp)
		r += strlen(dyn->interp) + 1;
	pl->dynstr_off = r;
	if (dyn && dyn->dynstr)
		r += dyn->dynstr_size;
	pl->r_size = r;

	/* Where the R segment goes: above everything, at the offset that keeps
	 * the pre-5.18 AT_PHDR arithmetic right if the padding is reasonable. */
	const GElf_Phdr *first = zp_elf_first_load(e);
	uint64_t delta = first->p_vaddr - first->p_offset;   /* may wrap: modular */
	uint64_t file_end = align_up(e->size, PAGE);
	uint64_t v0 = align_up(zp_elf_end_vaddr(e), PAGE);
	if (file_end + delta > v0)
		v0 = align_up(file_end + delta, PAGE);
	uint64_t o0 = v0 - delta;
	if (o0 - e->size > MAX_PAD || first->p_vaddr < first->p_offset) {
		o0 = file_end;
		zp_warn(e->path, "large gap before the new segments: the program header "
			"table is placed for Linux 5.18 and later only");
	}
	add_seg(pl, ".zprewrite", PF_R, v0, o0, pl->r_size, pl->r_size);

	uint64_t o1 = align_up(o0 + pl->r_size, PAGE);
	uint64_t v1 = v0 + (o1 - o0);
	add_seg(pl, ".zprewrite.text", PF_R | PF_X, v1, o1, blob->text_size, blob->text_size);

	/* The runtime's RW part at the distance it was linked at. */
	uint64_t v2 = v1 + blob->data_vaddr;
	uint64_t o2 = align_up(o1 + blob->text_size, PAGE);
	add_seg(pl, ".zprewrite.data", PF_R | PF_W, v2, o2, blob->data_filesz, blob->data_memsz);

	uint64_t base = align_up(v2 + blob->data_memsz, PAGE);
	uint64_t off = align_up(o2 + blob->data_filesz, PAGE);
	if (dyn && dyn->dynamic) {
		pl->dyn_seg = (int)pl->nseg;
		add_seg(pl, ".dynamic", PF_R | PF_W, base, off, dyn->dynamic_size, dyn->dynamic_size);
		base = align_up(base + dyn->dynamic_size, PAGE);
		off = align_up(off + dyn->dynamic_size, PAGE);
	}
	if (pl->stubs_size) {
		pl->stub_seg = (int)pl->nseg;
		add_seg(pl, ".zprewrite.stubs", PF_R | PF_X, base, off, pl->stubs_size, pl->stubs_size);
		base = align_up(base + pl->stubs_size, PAGE);
		off = align_up(off + pl->stubs_size, PAGE);
	}
	if (hook) {
		pl->hook_base = base;
		for (size_t i = 0; i < hook->nseg; i++) {
			const struct zp_embed_seg *s = &hook->seg[i];
			uint64_t so = align_up(off, PAGE) + (s->vaddr % PAGE);
			add_seg(pl, s->flags & PF_X ? ".zprewrite.hook.text" :
				    s->flags & PF_W ? ".zprewrite.hook.data" : ".zprewrite.hook.rodata",
				s->flags, base + s->vaddr, so, s->filesz, s->memsz);
			off = so + s->filesz;
		}
	}
	return 0;
}

/* The bytes each site changes (its 2 bytes in place, or its stub's window)
 * must not overlap: where they did, the later jump would overwrite the
 * earlier (decide.c keeps them apart). */
static void check_windows(const struct zp_sites *sites)
{
	uint64_t changed = 0;

	for (size_t i = 0; i < sites->n; i++) {
		const struct zp_site *s = &sites->v[i];
		uint64_t start = s->decision == ZP_STUB ? s->win_start : s->addr;
		uint64_t end = s->decision == ZP_STUB ? s->win_start + s->win_len : s->addr + 2;
		if (s->decision != ZP_STUB && s->decision != ZP_PATCH)
			continue;
		if (start < changed)
			ZP_BUG("a stub window overlaps the bytes of another site");
		changed = end;
	}
}

/* Write the stubs of red-zone sites and the jumps to them; the address of
 * each stub's call *%rax goes to calls[] in site order. */
static int fill_stubs(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_sites *sites,
		      const struct plan *pl, struct zp_image *im, uint64_t *calls)
{
	if (pl->stub_seg < 0)
		return 0;
	check_windows(sites);
	const struct newseg *ss = &pl->seg[pl->stub_seg];
	/* The runtime's data, as linked in this output (stub.h). */
	struct zp_stub_env env;
	uint64_t counter, stacks;
	if (zp_blob_symbol(blob, "zp_exit_counter", &counter) || zp_blob_symbol(blob, "zp_exit_stacks", &stacks))
		ZP_BUG("the runtime lacks its exit stacks");
	env.exit_counter = pl->seg[2].vaddr + (counter - blob->data_vaddr);
	env.exit_stacks = pl->seg[2].vaddr + (stacks - blob->data_vaddr);
	uint64_t at = 0;
	size_t n = 0;
	for (size_t i = 0; i < sites->n; i++) {
		const struct zp_site *s = &sites->v[i];
		if (s->decision != ZP_STUB)
			continue;
		int64_t woff = zp_elf_offset_of(e, s->win_start, s->win_len);
		uint64_t vaddr = ss->vaddr + at;
		int64_t dist = (int64_t)(vaddr - s->win_start);
		if (woff < 0)
			ZP_BUG("a stub window outside the file");
		if (dist > INT32_MAX - 4096 || dist < INT32_MIN + 4096)
			return zp_error(e->path, "the stub for the site at %#lx would be out of a jump's reach",
					(unsigned long)s->addr);
		calls[n++] = zp_stub_emit(s, e->bytes + woff, vaddr, &env, im->buf + ss->offset + at);
		zp_stub_jump(s, im->buf + woff, vaddr);
		at += align_up(zp_stub_size(s), 16);
	}
	return 0;
}

/* Fill the R segment: descriptor, program headers, sites, relocations. */
static void fill_r(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_sites *sites,
		   const struct zp_embed *hook, const struct plan *pl, const uint64_t *stub_calls,
		   uint32_t desc_flags, unsigned char *r)
{
	const struct newseg *rs = &pl->seg[0], *text = &pl->seg[1];
	uint64_t site_base = 0, site_end = 0;

	/* Sites as offsets from the first: those patched in place (sorted, as
	 * sites->v is), then the stubs' calls, which lie above all code. */
	uint32_t *offs = (uint32_t *)(r + pl->sites_off);
	size_t k = 0, nstub = 0;
	for (size_t i = 0; i < sites->n; i++)
		nstub += sites->v[i].decision == ZP_STUB;
	for (size_t i = 0; i < sites->n + nstub; i++) {
		uint64_t a;
		if (i < sites->n) {
			if (sites->v[i].decision != ZP_PATCH)
				continue;
			a = sites->v[i].addr;
		} else {
			a = stub_calls[i - sites->n];
		}
		if (!k)
			site_base = a;
		site_end = a + 2;
		offs[k++] = (uint32_t)(a - site_base);
	}

	struct zp_desc d;
	memset(&d, 0, sizeof d);
	memcpy(d.magic, ZP_MAGIC, ZP_MAGIC_LEN);
	d.abi_version = ZP_ABI_VERSION;
	d.flags = (e->ehdr.e_entry ? ZP_DESC_ENTRY : 0) | desc_flags;
	d.self_vaddr = rs->vaddr + pl->desc_off;
	d.orig_entry = e->ehdr.e_entry;
	d.runtime_vaddr = text->vaddr;
	d.site_base = site_base;
	d.site_end = site_end;
	d.sites_vaddr = rs->vaddr + pl->sites_off;
	d.nsites = (uint32_t)k;
	/* A dynamic loader (it has no interpreter and defines _r_debug). */
	if (!e->has_interp && e->ehdr.e_type == ET_DYN)
		d.loader_r_debug = zp_elf_symbol_value(e, "_r_debug");
	if (hook) {
		uint64_t hb = pl->hook_base;
		d.flags |= ZP_DESC_HOOK | (hook->uses_vector ? ZP_DESC_HOOK_XSAVE : 0);
		d.hook_init = hook->init ? hb + hook->init : 0;
		d.hook_enter = hook->enter ? hb + hook->enter : 0;
		d.hook_leave = hook->leave ? hb + hook->leave : 0;
		d.hook_exit = hook->exit ? hb + hook->exit : 0;
		d.hook_relocs_vaddr = rs->vaddr + pl->relocs_off;
		d.hook_nrelocs = (uint32_t)hook->nrelocs;
		struct zp_reloc *rel = (struct zp_reloc *)(r + pl->relocs_off);
		for (size_t i = 0; i < hook->nrelocs; i++) {
			rel[i].where = hb + hook->relocs[i].where;
			rel[i].value = hook->relocs[i].value +
				       (hook->relocs[i].in_runtime ? text->vaddr - blob->text_vaddr : hb);
		}
	}
	memcpy(r + pl->desc_off, &d, sizeof d);

	/* The program header table: the old entries, PT_PHDR updated, the new
	 * PT_LOADs right after the last old PT_LOAD (sorted by address). */
	size_t last_load = 0;
	for (size_t i = 0; i < e->phnum; i++)
		if (e->phdrs[i].p_type == PT_LOAD)
			last_load = i;
	unsigned char *ph = r + pl->phdr_off;
	size_t n = 0;
	for (size_t i = 0; i < e->phnum; i++) {
		GElf_Phdr p = e->phdrs[i];
		if (p.p_type == PT_PHDR) {
			p.p_offset = rs->offset + pl->phdr_off;
			p.p_vaddr = p.p_paddr = rs->vaddr + pl->phdr_off;
			p.p_filesz = p.p_memsz = pl->phnum * sizeof(Elf64_Phdr);
		}
		if (p.p_type == PT_INTERP && pl->dyn && pl->dyn->interp) {
			p.p_offset = rs->offset + pl->interp_off;
			p.p_vaddr = p.p_paddr = rs->vaddr + pl->interp_off;
			p.p_filesz = p.p_memsz = strlen(pl->dyn->interp) + 1;
		}
		if (p.p_type == PT_DYNAMIC && pl->dyn_seg >= 0) {
			const struct newseg *ds = &pl->seg[pl->dyn_seg];
			p.p_offset = ds->offset;
			p.p_vaddr = p.p_paddr = ds->vaddr;
			p.p_filesz = p.p_memsz = ds->filesz;
		}
		put_phdr(ph + n++ * sizeof(Elf64_Phdr), &p);
		if (i == last_load)
			for (size_t s = 0; s < pl->nseg; s++) {
				const struct newseg *ns = &pl->seg[s];
				GElf_Phdr np = {
					.p_type = PT_LOAD, .p_flags = ns->flags, .p_offset = ns->offset,
					.p_vaddr = ns->vaddr, .p_paddr = ns->vaddr, .p_filesz = ns->filesz,
					.p_memsz = ns->memsz, .p_align = PAGE,
				};
				put_phdr(ph + n++ * sizeof(Elf64_Phdr), &np);
			}
	}
}

/* Sections whose contents dynamic.c moved: point them at the copies. */
static void moved_section(const struct zp_elf *e, const struct plan *pl,
			  const struct zp_section *sec, GElf_Shdr *s)
{
	const struct newseg *rs = &pl->seg[0];
	(void)e;
	if (!pl->dyn)
		return;
	if (pl->dyn->interp && !strcmp(sec->name, ".interp") && s->sh_type == SHT_PROGBITS) {
		s->sh_offset = rs->offset + pl->interp_off;
		s->sh_addr = rs->vaddr + pl->interp_off;
		s->sh_size = strlen(pl->dyn->interp) + 1;
	}
	if (pl->dyn->dynstr && !strcmp(sec->name, ".dynstr") && s->sh_type == SHT_STRTAB) {
		s->sh_offset = rs->offset + pl->dynstr_off;
		s->sh_addr = rs->vaddr + pl->dynstr_off;
		s->sh_size = pl->dyn->dynstr_size;
	}
	if (pl->dyn_seg >= 0 && s->sh_type == SHT_DYNAMIC) {
		const struct newseg *ds = &pl->seg[pl->dyn_seg];
		s->sh_offset = ds->offset;
		s->sh_addr = ds->vaddr;
		s->sh_size = ds->filesz;
	}
}

/* The symbol _DYNAMIC names the dynamic section: point it at the copy (tools
 * such as elflint check it; the program itself finds the section through
 * PT_DYNAMIC). */
static void move_dynamic_symbol(const struct zp_elf *e, uint64_t vaddr, struct zp_image *im)
{
	for (size_t i = 0; i < e->shnum; i++) {
		const GElf_Shdr *sh = &e->secs[i].shdr;
		if ((sh->sh_type != SHT_SYMTAB && sh->sh_type != SHT_DYNSYM) ||
		    sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_link >= e->shnum)
			continue;
		const GElf_Shdr *str = &e->secs[sh->sh_link].shdr;
		/* The link may name any section: only a string table with its
		 * contents inside the file holds names (im->buf starts as a copy
		 * of the file, so its offsets index im->buf too). */
		if (str->sh_type != SHT_STRTAB || !zp_elf_section_bytes(e, &e->secs[i]) ||
		    !zp_elf_section_bytes(e, &e->secs[sh->sh_link]))
			continue;
		for (uint64_t k = 0; k + sizeof(Elf64_Sym) <= sh->sh_size; k += sizeof(Elf64_Sym)) {
			Elf64_Sym sym;
			memcpy(&sym, im->buf + sh->sh_offset + k, sizeof sym);
			if (sym.st_name + sizeof "_DYNAMIC" > str->sh_size ||
			    memcmp(im->buf + str->sh_offset + sym.st_name, "_DYNAMIC", sizeof "_DYNAMIC"))
				continue;
			sym.st_value = vaddr;
			memcpy(im->buf + sh->sh_offset + k, &sym, sizeof sym);
		}
	}
}

/* Copy the section header table to the end, with sections for the new
 * segments and a section name table that includes their names. */
static int add_sections(const struct zp_elf *e, const struct plan *pl, struct zp_image *im,
			GElf_Ehdr *eh)
{
	const struct zp_section *strs = &e->secs[e->shstrndx];
	size_t nnew = 0;
	const char *names[MAXSEG * 2];
	GElf_Shdr news[MAXSEG * 2];

	for (size_t i = 0; i < pl->nseg; i++) {
		const struct newseg *s = &pl->seg[i];
		if ((int)i == pl->dyn_seg)
			continue;   /* the input's .dynamic section now describes it */
		uint64_t fl = SHF_ALLOC | (s->flags & PF_X ? SHF_EXECINSTR : 0) | (s->flags & PF_W ? SHF_WRITE : 0);
		if (s->filesz) {
			names[nnew] = s->name;
			news[nnew++] = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = fl,
				.sh_addr = s->vaddr, .sh_offset = s->offset, .sh_size = s->filesz,
				.sh_addralign = 8 };
		}
		if (s->memsz > s->filesz) {
			names[nnew] = s->flags & PF_X ? s->name : strcmp(s->name, ".zprewrite.data") ?
				      ".zprewrite.hook.bss" : ".zprewrite.bss";
			news[nnew++] = (GElf_Shdr){ .sh_type = SHT_NOBITS, .sh_flags = fl,
				.sh_addr = s->vaddr + s->filesz, .sh_offset = s->offset + s->filesz,
				.sh_size = s->memsz - s->filesz, .sh_addralign = 8 };
		}
	}
	/* New section name table: the old one plus our names. */
	size_t oldlen = strs->shdr.sh_size, len = oldlen;
	for (size_t i = 0; i < nnew; i++)
		len += strlen(names[i]) + 1;
	int64_t stroff = zp_image_append(im, NULL, len, 1);
	if (stroff < 0)
		return zp_error(e->path, "out of memory");
	memcpy(im->buf + stroff, e->bytes + strs->shdr.sh_offset, oldlen);
	size_t at = oldlen;
	for (size_t i = 0; i < nnew; i++) {
		news[i].sh_name = (uint32_t)at;
		size_t l = strlen(names[i]) + 1;
		memcpy(im->buf + stroff + at, names[i], l);
		at += l;
	}

	size_t total = e->shnum + nnew;
	int64_t shoff = zp_image_append(im, NULL, total * sizeof(Elf64_Shdr), 8);
	if (shoff < 0)
		return zp_error(e->path, "out of memory");
	for (size_t i = 0; i < e->shnum; i++) {
		GElf_Shdr s = e->secs[i].shdr;
		if (i == e->shstrndx) {
			s.sh_offset = (uint64_t)stroff;
			s.sh_size = len;
		}
		moved_section(e, pl, &e->secs[i], &s);
		if (i == 0 && total >= SHN_LORESERVE)
			s.sh_size = total;   /* extended section count */
		put_shdr(im->buf + shoff + i * sizeof(Elf64_Shdr), &s);
	}
	for (size_t i = 0; i < nnew; i++)
		put_shdr(im->buf + shoff + (e->shnum + i) * sizeof(Elf64_Shdr), &news[i]);
	eh->e_shoff = (uint64_t)shoff;
	eh->e_shnum = total >= SHN_LORESERVE ? 0 : (uint16_t)total;
	return 0;
}

int zp_segment_add(const struct zp_elf *e, const struct zp_blob *blob,
		   const struct zp_sites *sites, const struct zp_embed *hook,
		   struct zp_dynedit *dyn, uint32_t desc_flags, struct zp_image *im,
		   struct zp_layout *out)
{
	struct plan pl;

	if (plan_layout(e, blob, sites, hook, dyn, &pl))
		return -1;
	const struct newseg *rs = &pl.seg[0], *text = &pl.seg[1], *data = &pl.seg[2];

	/* Grow the image and copy each segment's bytes into place. */
	uint64_t end = 0;
	for (size_t i = 0; i < pl.nseg; i++)
		if (pl.seg[i].offset + pl.seg[i].filesz > end)
			end = pl.seg[i].offset + pl.seg[i].filesz;
	if (zp_image_resize(im, end))
		return zp_error(e->path, "out of memory");
	uint64_t *stub_calls = calloc(sites->n + 1, sizeof *stub_calls);
	if (!stub_calls)
		return zp_error(e->path, "out of memory");
	if (fill_stubs(e, blob, sites, &pl, im, stub_calls)) {
		free(stub_calls);
		return -1;
	}
	fill_r(e, blob, sites, hook, &pl, stub_calls, desc_flags, im->buf + rs->offset);
	free(stub_calls);
	memcpy(im->buf + text->offset, blob->text, blob->text_size);
	if (blob->data_filesz)
		memcpy(im->buf + data->offset, blob->data, blob->data_filesz);
	if (dyn && dyn->interp)
		memcpy(im->buf + rs->offset + pl.interp_off, dyn->interp, strlen(dyn->interp) + 1);
	if (dyn && dyn->dynstr) {
		memcpy(im->buf + rs->offset + pl.dynstr_off, dyn->dynstr, dyn->dynstr_size);
		zp_dynedit_set_strtab(dyn, rs->vaddr + pl.dynstr_off);
		memcpy(im->buf + pl.seg[pl.dyn_seg].offset, dyn->dynamic, dyn->dynamic_size);
		move_dynamic_symbol(e, pl.seg[pl.dyn_seg].vaddr, im);
		zp_dynedit_patch(dyn, e, im->buf);
	}
	if (hook) {
		size_t first = 3 + (pl.stub_seg >= 0) + (pl.dyn_seg >= 0);
		for (size_t i = 0; i < hook->nseg; i++)
			if (hook->seg[i].filesz)
				memcpy(im->buf + pl.seg[first + i].offset, hook->seg[i].bytes, hook->seg[i].filesz);
	}

	/* The runtime's link to the descriptor (init.c: zp_desc_offset). */
	uint64_t link_vaddr, link_off;
	if (blob->desc_offset < blob->text_size) {
		link_vaddr = text->vaddr + blob->desc_offset;
		link_off = text->offset + blob->desc_offset;
	} else if (blob->desc_offset - blob->data_vaddr + 8 <= blob->data_filesz) {
		link_vaddr = data->vaddr + (blob->desc_offset - blob->data_vaddr);
		link_off = data->offset + (blob->desc_offset - blob->data_vaddr);
	} else {
		ZP_BUG("zp_desc_offset is not in the runtime's file bytes");
	}
	int64_t link = (int64_t)(rs->vaddr + pl.desc_off - link_vaddr);
	memcpy(im->buf + link_off, &link, 8);

	GElf_Ehdr eh = e->ehdr;
	eh.e_phoff = rs->offset + pl.phdr_off;
	eh.e_phnum = (uint16_t)pl.phnum;
	if (e->ehdr.e_entry)
		eh.e_entry = text->vaddr + blob->start;
	if (e->shnum && add_sections(e, &pl, im, &eh))
		return -1;
	put_ehdr(im->buf, &eh);

	out->desc_vaddr = rs->vaddr + pl.desc_off;
	out->runtime_vaddr = text->vaddr;
	out->data_vaddr = data->vaddr;
	out->hook_vaddr = pl.hook_base;
	out->new_entry = eh.e_entry;
	out->nsites = pl.npatched;
	return 0;
}
