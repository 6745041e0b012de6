/*
 * segment.c - fill the segments that layout.c placed, and point the
 * headers at them (see segment.h).
 *
 * The descriptor segment gets struct zp_desc, the new program header table
 * (the old entries, PT_PHDR/PT_INTERP/PT_DYNAMIC updated, the new PT_LOADs
 * after the last old one), the site table and the hook's relocations; the
 * runtime's, the stubs' and the hook's segments get their bytes; the
 * section header table is copied to the end with sections for the new
 * segments (and, through debugsec.c, the added code's unwind tables and
 * symbols).  Nothing here changes the program's own code: patch.c does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "debugsec.h"
#include "dynamic.h"
#include "segment.h"
#include "stub.h"
#include "warn.h"
#include "zp_abi.h"

#define PAGE 4096u

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


/* Where the runtime's address `addr` (as linked, blob-relative) is in this
 * output: its data segment is at the distance from its text it was linked
 * at, so one offset serves both. */
static uint64_t runtime_addr(const struct zp_layout *lo, const struct zp_blob *blob, uint64_t addr)
{
	return lo->seg[ZP_SEG_RT_TEXT].vaddr + (addr - blob->text_vaddr);
}

/* Write the stubs of red-zone sites where layout.c put them (patch.c writes
 * the jumps to them); the address of each stub's call *%rax goes to calls[]
 * in site order.  Returns how many there are. */
static size_t fill_stubs(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_sites *sites,
			 const struct zp_layout *lo, struct zp_image *im, uint64_t *calls)
{
	const struct zp_newseg *ss = &lo->seg[ZP_SEG_STUBS];
	if (!ss->used)
		return 0;
	/* The runtime's data, as linked in this output (stub.h). */
	struct zp_stub_env env;
	uint64_t counter, stacks;
	if (zp_blob_symbol(blob, ZP_SYM_EXIT_COUNTER, &counter) || zp_blob_symbol(blob, ZP_SYM_EXIT_STACKS, &stacks))
		ZP_BUG("the runtime lacks its exit stacks");
	env.exit_counter = runtime_addr(lo, blob, counter);
	env.exit_stacks = runtime_addr(lo, blob, stacks);
	size_t n = 0;
	for (size_t i = 0; i < sites->n; i++) {
		const struct zp_site *s = &sites->v[i];
		if (s->decision != ZP_STUB)
			continue;
		int64_t woff = zp_elf_offset_of(e, s->win_start, s->win_len);
		if (woff < 0)
			ZP_BUG("a stub window outside the file");
		uint64_t at = lo->stub_vaddr[i];
		calls[n++] = zp_stub_emit(s, e->bytes + woff, at, &env, im->buf + ss->offset + (at - ss->vaddr));
	}
	return n;
}

/* One entry of the site table: its offset from the first. */
static void add_site(struct zp_desc *d, uint32_t *offs, uint64_t addr)
{
	if (!d->nsites)
		d->site_base = addr;
	d->site_end = addr + 2;
	offs[d->nsites++] = (uint32_t)(addr - d->site_base);
}

/* The site table, sorted as the runtime needs it: the sites patched in
 * place (in address order, as sites->v is), then the stubs' calls, which
 * lie above all code. */
static void fill_site_table(const struct zp_sites *sites, const uint64_t *stub_calls, size_t nstubs,
			    uint32_t *offs, struct zp_desc *d)
{
	for (size_t i = 0; i < sites->n; i++)
		if (sites->v[i].decision == ZP_PATCH)
			add_site(d, offs, sites->v[i].addr);
	for (size_t i = 0; i < nstubs; i++)
		add_site(d, offs, stub_calls[i]);
}

/* The hook's entry points and its relocations, as placed in this output. */
static void fill_hook(const struct zp_blob *blob, const struct zp_embed *hook, const struct zp_layout *lo,
		      struct zp_desc *d, struct zp_reloc *rel)
{
	uint64_t hb = lo->hook_base;

	d->flags |= ZP_DESC_HOOK | (hook->uses_vector ? ZP_DESC_HOOK_XSAVE : 0);
	d->hook_init = hook->init ? hb + hook->init : 0;
	d->hook_enter = hook->enter ? hb + hook->enter : 0;
	d->hook_leave = hook->leave ? hb + hook->leave : 0;
	d->hook_exit = hook->exit ? hb + hook->exit : 0;
	d->hook_relocs_vaddr = lo->seg[ZP_SEG_DESC].vaddr + lo->in_desc.relocs;
	d->hook_nrelocs = (uint32_t)hook->nrelocs;
	for (size_t i = 0; i < hook->nrelocs; i++) {
		const struct zp_embed_reloc *r = &hook->relocs[i];
		rel[i].where = hb + r->where;
		rel[i].value = r->in_runtime ? runtime_addr(lo, blob, r->value) : hb + r->value;
	}
}

/* struct zp_desc, its site table and the hook's relocations (r: the
 * descriptor segment's bytes). */
static void fill_desc(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_sites *sites,
		      const struct zp_embed *hook, const struct zp_layout *lo, uint32_t desc_flags,
		      const uint64_t *stub_calls, size_t nstubs, unsigned char *r)
{
	const struct zp_newseg *ds = &lo->seg[ZP_SEG_DESC];
	struct zp_desc d;

	memset(&d, 0, sizeof d);
	memcpy(d.magic, ZP_MAGIC, ZP_MAGIC_LEN);
	d.abi_version = ZP_ABI_VERSION;
	d.flags = (e->ehdr.e_entry ? ZP_DESC_ENTRY : 0) | desc_flags;
	d.self_vaddr = ds->vaddr + lo->in_desc.desc;
	d.orig_entry = e->ehdr.e_entry;
	d.runtime_vaddr = lo->seg[ZP_SEG_RT_TEXT].vaddr;
	d.sites_vaddr = ds->vaddr + lo->in_desc.sites;
	fill_site_table(sites, stub_calls, nstubs, (uint32_t *)(r + lo->in_desc.sites), &d);
	/* A dynamic loader (it has no interpreter and defines _r_debug). */
	if (!e->has_interp && e->ehdr.e_type == ET_DYN)
		d.loader_r_debug = zp_elf_symbol_value(e, "_r_debug");
	if (hook)
		fill_hook(blob, hook, lo, &d, (struct zp_reloc *)(r + lo->in_desc.relocs));
	memcpy(r + lo->in_desc.desc, &d, sizeof d);
}

/* An old program header, pointed at what moved into the new segments. */
static GElf_Phdr moved_phdr(GElf_Phdr p, const struct zp_layout *lo, const struct zp_dynedit *dyn)
{
	const struct zp_newseg *ds = &lo->seg[ZP_SEG_DESC], *dyns = &lo->seg[ZP_SEG_DYNAMIC];

	if (p.p_type == PT_PHDR) {
		p.p_offset = ds->offset + lo->in_desc.phdrs;
		p.p_vaddr = p.p_paddr = ds->vaddr + lo->in_desc.phdrs;
		p.p_filesz = p.p_memsz = lo->phnum * sizeof(Elf64_Phdr);
	}
	if (p.p_type == PT_INTERP && dyn && dyn->interp) {
		p.p_offset = ds->offset + lo->in_desc.interp;
		p.p_vaddr = p.p_paddr = ds->vaddr + lo->in_desc.interp;
		p.p_filesz = p.p_memsz = strlen(dyn->interp) + 1;
	}
	if (p.p_type == PT_DYNAMIC && dyns->used) {
		p.p_offset = dyns->offset;
		p.p_vaddr = p.p_paddr = dyns->vaddr;
		p.p_filesz = p.p_memsz = dyns->filesz;
	}
	return p;
}

/* The program header table: the old entries, moved_phdr() applied, and the
 * new PT_LOADs right after the last old PT_LOAD (sorted by address). */
static void fill_phdrs(const struct zp_elf *e, const struct zp_layout *lo, const struct zp_dynedit *dyn,
		       unsigned char *ph)
{
	size_t last_load = 0, n = 0;

	for (size_t i = 0; i < e->phnum; i++)
		if (e->phdrs[i].p_type == PT_LOAD)
			last_load = i;
	for (size_t i = 0; i < e->phnum; i++) {
		GElf_Phdr p = moved_phdr(e->phdrs[i], lo, dyn);
		put_phdr(ph + n++ * sizeof(Elf64_Phdr), &p);
		if (i != last_load)
			continue;
		for (size_t r = 0; r < ZP_SEG_COUNT; r++) {
			const struct zp_newseg *ns = &lo->seg[r];
			if (!ns->used)
				continue;
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
static void moved_section(const struct zp_layout *lo, const struct zp_dynedit *dyn,
			  const struct zp_section *sec, GElf_Shdr *s)
{
	const struct zp_newseg *ds = &lo->seg[ZP_SEG_DESC], *dyns = &lo->seg[ZP_SEG_DYNAMIC];

	if (!dyn)
		return;
	if (dyn->interp && !strcmp(sec->name, ".interp") && s->sh_type == SHT_PROGBITS) {
		s->sh_offset = ds->offset + lo->in_desc.interp;
		s->sh_addr = ds->vaddr + lo->in_desc.interp;
		s->sh_size = strlen(dyn->interp) + 1;
	}
	if (dyn->dynstr && !strcmp(sec->name, ".dynstr") && s->sh_type == SHT_STRTAB) {
		s->sh_offset = ds->offset + lo->in_desc.dynstr;
		s->sh_addr = ds->vaddr + lo->in_desc.dynstr;
		s->sh_size = dyn->dynstr_size;
	}
	if (dyns->used && s->sh_type == SHT_DYNAMIC) {
		s->sh_offset = dyns->offset;
		s->sh_addr = dyns->vaddr;
		s->sh_size = dyns->filesz;
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

/* The moved interpreter path, .dynstr and .dynamic (bundles). */
static void fill_moved(const struct zp_elf *e, struct zp_dynedit *dyn, const struct zp_layout *lo,
		       struct zp_image *im)
{
	const struct zp_newseg *ds = &lo->seg[ZP_SEG_DESC], *dyns = &lo->seg[ZP_SEG_DYNAMIC];

	if (!dyn)
		return;
	if (dyn->interp)
		memcpy(im->buf + ds->offset + lo->in_desc.interp, dyn->interp, strlen(dyn->interp) + 1);
	if (!dyn->dynstr)
		return;
	memcpy(im->buf + ds->offset + lo->in_desc.dynstr, dyn->dynstr, dyn->dynstr_size);
	zp_dynedit_set_strtab(dyn, ds->vaddr + lo->in_desc.dynstr);
	memcpy(im->buf + dyns->offset, dyn->dynamic, dyn->dynamic_size);
	move_dynamic_symbol(e, dyns->vaddr, im);
	zp_dynedit_patch(dyn, e, im->buf);
}

/* The runtime's and the hook's segments: their bytes as they are. */
static void fill_copies(const struct zp_blob *blob, const struct zp_embed *hook, const struct zp_layout *lo,
			struct zp_image *im)
{
	memcpy(im->buf + lo->seg[ZP_SEG_RT_TEXT].offset, blob->text, blob->text_size);
	if (blob->data_filesz)
		memcpy(im->buf + lo->seg[ZP_SEG_RT_DATA].offset, blob->data, blob->data_filesz);
	for (size_t i = 0; hook && i < hook->nseg; i++)
		if (hook->seg[i].filesz)
			memcpy(im->buf + lo->seg[ZP_SEG_HOOK + i].offset, hook->seg[i].bytes, hook->seg[i].filesz);
}

/* The runtime's link to the descriptor (init.c: zp_desc_offset): the
 * distance from the link to the descriptor, written into the link. */
static void link_descriptor(const struct zp_blob *blob, const struct zp_layout *lo, struct zp_image *im)
{
	uint64_t at = blob->desc_offset, file_off;

	if (at < blob->text_size)
		file_off = lo->seg[ZP_SEG_RT_TEXT].offset + at;
	else if (at - blob->data_vaddr + 8 <= blob->data_filesz)
		file_off = lo->seg[ZP_SEG_RT_DATA].offset + (at - blob->data_vaddr);
	else
		ZP_BUG("zp_desc_offset is not in the runtime's file bytes");
	int64_t link = (int64_t)(lo->seg[ZP_SEG_DESC].vaddr + lo->in_desc.desc - runtime_addr(lo, blob, at));
	memcpy(im->buf + file_off, &link, 8);
}

/* The sections that describe the new segments (not the moved .dynamic: the
 * input's own .dynamic section describes it); returns how many.  first:
 * the index the first gets; role_shndx[r]: the index of role r's section
 * with its file bytes (0 if none), for the symbols debugsec.c adds. */
static size_t new_sections(const struct zp_layout *lo, size_t first, const char **names, GElf_Shdr *news,
			   size_t *role_shndx)
{
	size_t n = 0;

	for (size_t r = 0; r < ZP_SEG_COUNT; r++) {
		const struct zp_newseg *s = &lo->seg[r];
		role_shndx[r] = 0;
		if (!s->used || r == ZP_SEG_DYNAMIC)
			continue;
		uint64_t fl = SHF_ALLOC | (s->flags & PF_X ? SHF_EXECINSTR : 0) | (s->flags & PF_W ? SHF_WRITE : 0);
		if (s->filesz) {
			role_shndx[r] = first + n;
			names[n] = s->name;
			news[n++] = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = fl,
				.sh_addr = s->vaddr, .sh_offset = s->offset, .sh_size = s->filesz,
				.sh_addralign = 8 };
		}
		if (s->memsz > s->filesz) {
			names[n] = s->flags & PF_X ? s->name : r == ZP_SEG_RT_DATA ?
				   ".zprewrite.bss" : ".zprewrite.hook.bss";
			news[n++] = (GElf_Shdr){ .sh_type = SHT_NOBITS, .sh_flags = fl,
				.sh_addr = s->vaddr + s->filesz, .sh_offset = s->offset + s->filesz,
				.sh_size = s->memsz - s->filesz, .sh_addralign = 8 };
		}
	}
	return n;
}

/* A section name table: the old one plus names[0..n), whose offsets go to
 * news[i].sh_name.  Returns its offset in the image (-1: out of memory). */
static int64_t add_names(const struct zp_elf *e, struct zp_image *im, const char **names, GElf_Shdr *news,
			 size_t n, size_t *len)
{
	const struct zp_section *strs = &e->secs[e->shstrndx];
	size_t oldlen = strs->shdr.sh_size;

	*len = oldlen;
	for (size_t i = 0; i < n; i++)
		*len += strlen(names[i]) + 1;
	int64_t stroff = zp_image_append(im, NULL, *len, 1);
	if (stroff < 0)
		return -1;
	memcpy(im->buf + stroff, e->bytes + strs->shdr.sh_offset, oldlen);
	size_t at = oldlen;
	for (size_t i = 0; i < n; i++) {
		news[i].sh_name = (uint32_t)at;
		size_t l = strlen(names[i]) + 1;
		memcpy(im->buf + stroff + at, names[i], l);
		at += l;
	}
	return stroff;
}

/* An input section whose contents debugsec.c extended: point at the copy,
 * which is never compressed (a compressed input's was decompressed). */
static void moved_debug_section(const struct zp_debugsec *dbg, size_t index, GElf_Shdr *s)
{
	for (size_t k = 0; k < dbg->nmoved; k++)
		if (dbg->moved[k].index == index) {
			s->sh_offset = dbg->moved[k].offset;
			s->sh_size = dbg->moved[k].size;
			if (s->sh_flags & SHF_COMPRESSED) {
				s->sh_flags &= ~(uint64_t)SHF_COMPRESSED;
				s->sh_addralign = 8;
			}
		}
}

/* Copy the section header table to the end, with sections for the new
 * segments, the unwind tables and symbols of the added code (debugsec.h),
 * and a section name table that includes their names. */
static int add_sections(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_embed *hook,
			const struct zp_sites *sites, const struct zp_layout *lo, const struct zp_dynedit *dyn,
			struct zp_image *im, GElf_Ehdr *eh)
{
	const char *names[ZP_SEG_COUNT * 2 + ZP_DEBUGSEC_MAX];
	GElf_Shdr news[ZP_SEG_COUNT * 2 + ZP_DEBUGSEC_MAX];
	size_t role_shndx[ZP_SEG_COUNT], len;
	size_t nnew = new_sections(lo, e->shnum, names, news, role_shndx);
	struct zp_debugsec dbg;

	if (zp_debugsec_add(e, blob, hook, sites, lo, role_shndx, e->shnum + nnew, im, &dbg))
		return -1;
	for (size_t i = 0; i < dbg.nnew; i++) {
		names[nnew] = dbg.names[i];
		news[nnew++] = dbg.news[i];
	}
	int64_t stroff = add_names(e, im, names, news, nnew, &len);
	if (stroff < 0)
		return zp_error(e->path, "out of memory");

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
		moved_section(lo, dyn, &e->secs[i], &s);
		moved_debug_section(&dbg, i, &s);
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

/* Grow the image to hold every new segment's file bytes (zeros so far). */
static int grow_image(const struct zp_layout *lo, struct zp_image *im)
{
	uint64_t end = 0;

	for (size_t r = 0; r < ZP_SEG_COUNT; r++)
		if (lo->seg[r].used && lo->seg[r].offset + lo->seg[r].filesz > end)
			end = lo->seg[r].offset + lo->seg[r].filesz;
	return zp_image_resize(im, end);
}

int zp_segment_add(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_sites *sites,
		   const struct zp_embed *hook, struct zp_dynedit *dyn, const struct zp_layout *lo,
		   uint32_t desc_flags, struct zp_image *im)
{
	const struct zp_newseg *ds = &lo->seg[ZP_SEG_DESC];
	uint64_t *stub_calls = calloc(sites->n + 1, sizeof *stub_calls);

	if (!stub_calls || grow_image(lo, im)) {
		free(stub_calls);
		return zp_error(e->path, "out of memory");
	}
	size_t nstubs = fill_stubs(e, blob, sites, lo, im, stub_calls);
	fill_desc(e, blob, sites, hook, lo, desc_flags, stub_calls, nstubs, im->buf + ds->offset);
	free(stub_calls);
	fill_phdrs(e, lo, dyn, im->buf + ds->offset + lo->in_desc.phdrs);
	fill_moved(e, dyn, lo, im);
	fill_copies(blob, hook, lo, im);
	link_descriptor(blob, lo, im);

	GElf_Ehdr eh = e->ehdr;
	eh.e_phoff = ds->offset + lo->in_desc.phdrs;
	eh.e_phnum = (uint16_t)lo->phnum;
	if (e->ehdr.e_entry)
		eh.e_entry = runtime_addr(lo, blob, blob->start);
	if (e->shnum && add_sections(e, blob, hook, sites, lo, dyn, im, &eh))
		return -1;
	put_ehdr(im->buf, &eh);
	return 0;
}
