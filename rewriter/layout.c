/*
 * layout.c - decide where each new segment and each part of the descriptor
 * segment goes (see layout.h).
 *
 * In four steps, each using only what the ones before settled: the sites
 * (how many go in the site table, where each stub goes in the stub
 * segment), the segments (which roles are used, their sizes and flags), the
 * descriptor segment's parts (its size depends on how many segments there
 * are: the program header table is in it), and last the addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
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

/* The site table's length, and each stub's offset in the stub segment
 * (made addresses by place_segments); returns the stub segment's size. */
static uint64_t plan_sites(const struct zp_sites *sites, struct zp_layout *lo)
{
	uint64_t at = 0;

	for (size_t i = 0; i < sites->n; i++) {
		const struct zp_site *s = &sites->v[i];
		lo->npatched += s->decision == ZP_PATCH || s->decision == ZP_STUB;
		if (s->decision != ZP_STUB)
			continue;
		lo->stub_vaddr[i] = at;
		at += align_up(zp_stub_size(s), 16);
	}
	return at;
}

static void use(struct zp_layout *lo, enum zp_seg_role role, const char *name, uint32_t flags,
		uint64_t filesz, uint64_t memsz)
{
	lo->seg[role] = (struct zp_newseg){ 1, name, flags, 0, 0, filesz, memsz };
	lo->nseg++;
}

static const char *hook_seg_name(uint32_t flags)
{
	return flags & PF_X ? ".zprewrite.hook.text" :
	       flags & PF_W ? ".zprewrite.hook.data" : ".zprewrite.hook.rodata";
}

/* Which segments this output has, with their sizes (the descriptor
 * segment's comes later, from plan_desc). */
static void choose_segments(const struct zp_blob *blob, const struct zp_embed *hook,
			    const struct zp_dynedit *dyn, uint64_t stubs_size, struct zp_layout *lo)
{
	use(lo, ZP_SEG_DESC, ".zprewrite", PF_R, 0, 0);
	use(lo, ZP_SEG_RT_TEXT, ".zprewrite.text", PF_R | PF_X, blob->text_size, blob->text_size);
	use(lo, ZP_SEG_RT_DATA, ".zprewrite.data", PF_R | PF_W, blob->data_filesz, blob->data_memsz);
	if (dyn && dyn->dynamic)
		use(lo, ZP_SEG_DYNAMIC, ".dynamic", PF_R | PF_W, dyn->dynamic_size, dyn->dynamic_size);
	if (stubs_size)
		use(lo, ZP_SEG_STUBS, ".zprewrite.stubs", PF_R | PF_X, stubs_size, stubs_size);
	for (size_t i = 0; hook && i < hook->nseg; i++)
		use(lo, ZP_SEG_HOOK + i, hook_seg_name(hook->seg[i].flags), hook->seg[i].flags,
		    hook->seg[i].filesz, hook->seg[i].memsz);
}

/* The descriptor segment's contents, in order. */
static void plan_desc(const struct zp_embed *hook, const struct zp_dynedit *dyn, struct zp_layout *lo)
{
	struct zp_desc_parts *p = &lo->in_desc;
	uint64_t r = 0;

	p->desc = r;
	r = align_up(r + sizeof(struct zp_desc), 8);
	p->phdrs = r;
	r = align_up(r + lo->phnum * sizeof(Elf64_Phdr), 8);
	p->sites = r;
	r = align_up(r + lo->npatched * 4, 8);
	p->relocs = r;
	r += (hook ? hook->nrelocs : 0) * sizeof(struct zp_reloc);
	p->interp = r;
	if (dyn && dyn->interp)
		r += strlen(dyn->interp) + 1;
	p->dynstr = r;
	if (dyn && dyn->dynstr)
		r += dyn->dynstr_size;
	p->size = r;
	lo->seg[ZP_SEG_DESC].filesz = lo->seg[ZP_SEG_DESC].memsz = r;
}

/* Where the descriptor segment goes: above everything, at the offset that
 * keeps the pre-5.18 AT_PHDR arithmetic right if the padding is reasonable. */
static void place_desc(const struct zp_elf *e, struct zp_newseg *desc)
{
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
	desc->vaddr = v0;
	desc->offset = o0;
}

/* Every segment's address and offset, in role order. */
static void place_segments(const struct zp_elf *e, const struct zp_blob *blob,
			   const struct zp_embed *hook, struct zp_layout *lo)
{
	struct zp_newseg *desc = &lo->seg[ZP_SEG_DESC], *text = &lo->seg[ZP_SEG_RT_TEXT],
		*data = &lo->seg[ZP_SEG_RT_DATA];

	place_desc(e, desc);
	text->offset = align_up(desc->offset + desc->filesz, PAGE);
	text->vaddr = desc->vaddr + (text->offset - desc->offset);
	/* The runtime's RW part at the distance it was linked at. */
	data->vaddr = text->vaddr + blob->data_vaddr;
	data->offset = align_up(text->offset + text->filesz, PAGE);

	uint64_t base = align_up(data->vaddr + data->memsz, PAGE);
	uint64_t off = align_up(data->offset + data->filesz, PAGE);
	for (enum zp_seg_role r = ZP_SEG_DYNAMIC; r <= ZP_SEG_STUBS; r++) {
		struct zp_newseg *s = &lo->seg[r];
		if (!s->used)
			continue;
		s->vaddr = base;
		s->offset = off;
		base = align_up(base + s->memsz, PAGE);
		off = align_up(off + s->filesz, PAGE);
	}
	/* The hook's segments at its own distances from the hook's base. */
	lo->hook_base = base;
	for (size_t i = 0; hook && i < hook->nseg; i++) {
		struct zp_newseg *s = &lo->seg[ZP_SEG_HOOK + i];
		s->vaddr = base + hook->seg[i].vaddr;
		s->offset = align_up(off, PAGE) + (hook->seg[i].vaddr % PAGE);
		off = s->offset + s->filesz;
	}
}

int zp_layout_plan(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_sites *sites,
		   const struct zp_embed *hook, const struct zp_dynedit *dyn, struct zp_layout *lo)
{
	memset(lo, 0, sizeof *lo);
	lo->stub_vaddr = calloc(sites->n + 1, sizeof *lo->stub_vaddr);
	if (!lo->stub_vaddr)
		return zp_error(e->path, "out of memory");
	uint64_t stubs_size = plan_sites(sites, lo);
	choose_segments(blob, hook, dyn, stubs_size, lo);
	lo->phnum = e->phnum + lo->nseg;
	if (lo->phnum >= PN_XNUM)
		return zp_error(e->path, "too many program headers (%zu)", e->phnum);
	plan_desc(hook, dyn, lo);
	place_segments(e, blob, hook, lo);
	for (size_t i = 0; i < sites->n; i++)
		if (sites->v[i].decision == ZP_STUB)
			lo->stub_vaddr[i] += lo->seg[ZP_SEG_STUBS].vaddr;
	return 0;
}

void zp_layout_free(struct zp_layout *lo)
{
	free(lo->stub_vaddr);
	lo->stub_vaddr = NULL;
}
