/*
 * debugsec.c - add the unwind tables and function names of the runtime and
 * the hook to the output (see debugsec.h).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "debugframe.h"
#include "debugsec.h"
#include "stub.h"
#include "stubcfi.h"
#include "symtab.h"
#include "warn.h"

/* Prefix for the runtime's names that lack zp_ (symtab.h). */
#define RT_PREFIX "zp_rt_"

static void add_new(struct zp_debugsec *out, const char *name, GElf_Shdr sh)
{
	out->names[out->nnew] = name;
	out->news[out->nnew++] = sh;
}

static void add_moved(struct zp_debugsec *out, size_t index, uint64_t offset, uint64_t size)
{
	out->moved[out->nmoved].index = index;
	out->moved[out->nmoved].offset = offset;
	out->moved[out->nmoved++].size = size;
}

/* A section's contents if they can be extended: in the file, not
 * compressed, of the type given; NULL (with a warning saying what is
 * left out) otherwise. */
static const unsigned char *own_bytes(const struct zp_elf *e, const struct zp_section *s, uint32_t type,
				      const char *what)
{
	const unsigned char *b = zp_elf_section_bytes(e, s);

	if (b && s->shdr.sh_type == type && !(s->shdr.sh_flags & (SHF_COMPRESSED | SHF_ALLOC)))
		return b;
	zp_warn(e->path, "its %s cannot be extended: %s", s->name, what);
	return NULL;
}

/* A .debug_frame's contents, decompressed if the file has them compressed
 * (SHF_COMPRESSED with zlib, as Go's linker and gcc -gz write them): in
 * *buf (to free) or in the file; NULL with a warning if they cannot be
 * had.  zlib, not libelf's elf_compress, because that one rewrites the
 * section in the Elf handle that everything else reads the input from. */
static const unsigned char *frame_bytes(const struct zp_elf *e, const struct zp_section *s, const char *what,
					size_t *size, unsigned char **buf)
{
	const unsigned char *b = zp_elf_section_bytes(e, s);
	Elf64_Chdr ch;

	*buf = NULL;
	*size = s->shdr.sh_size;
	if (!b || !(s->shdr.sh_flags & SHF_COMPRESSED) || s->shdr.sh_type != SHT_PROGBITS ||
	    (s->shdr.sh_flags & SHF_ALLOC))
		return own_bytes(e, s, SHT_PROGBITS, what);
	if (*size < sizeof ch)
		goto bad;
	memcpy(&ch, b, sizeof ch);
	uLongf out = (uLongf)ch.ch_size;
	/* (a sane bound: unwind tables are a small part of any program) */
	if (ch.ch_type != ELFCOMPRESS_ZLIB || !ch.ch_size || ch.ch_size > (1u << 30) || !(*buf = malloc(ch.ch_size)))
		goto bad;
	if (uncompress(*buf, &out, b + sizeof ch, (uLong)(*size - sizeof ch)) != Z_OK || out != ch.ch_size) {
		free(*buf);
		*buf = NULL;
		goto bad;
	}
	*size = ch.ch_size;
	return *buf;
bad:
	zp_warn(e->path, "its compressed %s cannot be read: %s", s->name, what);
	return NULL;
}

/* The hook's .debug_frame, moved to where its code is; a warning if it is
 * there but cannot be used (without one, nothing is said: hooks.md). */
static int hook_frames(const struct zp_embed *hook, const struct zp_layout *lo, struct zp_dframe *d)
{
	const struct zp_section *s = zp_elf_section_by_name(&hook->elf, ".debug_frame");
	const unsigned char *b;
	unsigned char *buf;
	size_t size;

	if (!s)
		return 0;
	if (!(b = frame_bytes(&hook->elf, s, "gdb and perf cannot unwind through the hook", &size, &buf)))
		return 0;
	int rc = zp_dframe_append_moved(d, b, size, lo->hook_base);
	free(buf);
	if (rc == 1)
		zp_warn(hook->elf.path, "its .debug_frame is not understood (not gcc's?): "
			"gdb and perf cannot unwind through the hook");
	return rc < 0 ? -1 : 0;
}

/* .debug_frame: the input's, the runtime's, the hook's, the stubs'. */
static int add_frames(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_embed *hook,
		      const struct zp_sites *sites, const struct zp_layout *lo, struct zp_image *im,
		      struct zp_debugsec *out)
{
	const char *lost = "gdb and perf cannot unwind through the runtime";
	const struct zp_section *own = zp_elf_section_by_name(e, ".debug_frame");
	unsigned char *obuf = NULL;
	size_t osize = 0;
	const unsigned char *ob = own ? frame_bytes(e, own, lost, &osize, &obuf) : NULL;
	struct zp_dframe d = { 0 };
	int rc = -1;

	if (own && !ob)
		return 0;
	int appended = ob ? zp_dframe_append_raw(&d, ob, osize) : 0;
	free(obuf);
	if (appended)
		goto out;
	int moved = zp_dframe_append_moved(&d, blob->debug_frame, blob->debug_frame_size,
					   lo->seg[ZP_SEG_RT_TEXT].vaddr - blob->text_vaddr);
	if (moved == 1)
		ZP_BUG("the runtime's .debug_frame is not understood");
	if (moved < 0 || (hook && hook_frames(hook, lo, &d)) || zp_stubcfi_append(&d, sites, lo))
		goto out;
	int64_t off = zp_image_append(im, d.buf, d.size, 8);
	if (off < 0)
		goto out;
	if (own)   /* (written uncompressed: segment.c clears SHF_COMPRESSED) */
		add_moved(out, own->index, (uint64_t)off, d.size);
	else
		add_new(out, ".debug_frame", (GElf_Shdr){ .sh_type = SHT_PROGBITS,
			.sh_offset = (uint64_t)off, .sh_size = d.size, .sh_addralign = 8 });
	rc = 0;
out:
	zp_dframe_free(&d);
	return rc;
}

/* The runtime's, the stubs' and the hook's function symbols, where their
 * code went. */
static int collect_symbols(const struct zp_blob *blob, const struct zp_embed *hook, const struct zp_sites *sites,
			   const struct zp_layout *lo, const size_t *role_shndx, struct zp_symadd *t)
{
	struct zp_symmap rt = { blob->text_vaddr, blob->text_vaddr + blob->text_size,
		lo->seg[ZP_SEG_RT_TEXT].vaddr - blob->text_vaddr, (uint16_t)role_shndx[ZP_SEG_RT_TEXT] };
	struct zp_symmap hm[ZP_EMBED_MAX_SEGS];
	size_t n = 0;

	if (zp_symadd_object(t, blob->elf, RT_PREFIX, &rt, 1))
		return -1;
	for (size_t i = 0; i < sites->n; i++)
		if (sites->v[i].decision == ZP_STUB && role_shndx[ZP_SEG_STUBS] &&
		    zp_symadd_one(t, "zp_stub", lo->stub_vaddr[i], zp_stub_size(&sites->v[i]),
				  (uint16_t)role_shndx[ZP_SEG_STUBS]))
			return -1;
	for (size_t i = 0; hook && i < hook->nseg; i++)
		if ((hook->seg[i].flags & PF_X) && role_shndx[ZP_SEG_HOOK + i])
			hm[n++] = (struct zp_symmap){ hook->seg[i].vaddr, hook->seg[i].vaddr + hook->seg[i].filesz,
				lo->hook_base, (uint16_t)role_shndx[ZP_SEG_HOOK + i] };
	return n ? zp_symadd_object(t, hook->elf.elf, NULL, hm, n) : 0;
}

/* The input's symbol table and its string table, if they can be extended:
 * 1 if there is none, -1 (warned) if they cannot. */
static int own_symtab(const struct zp_elf *e, const struct zp_section **st, const struct zp_section **str)
{
	const char *lost = "the runtime's functions have no names in it";

	*st = *str = NULL;
	for (size_t i = 0; i < e->shnum; i++) {
		if (e->secs[i].shdr.sh_type == SHT_SYMTAB_SHNDX) {
			zp_warn(e->path, "its symbol table has extended section indices: %s", lost);
			return -1;
		}
		if (e->secs[i].shdr.sh_type == SHT_SYMTAB && !*st)
			*st = &e->secs[i];
	}
	if (!*st)
		return 1;
	size_t link = (*st)->shdr.sh_link;
	if ((*st)->shdr.sh_entsize != sizeof(Elf64_Sym) || (*st)->shdr.sh_size % sizeof(Elf64_Sym) ||
	    !link || link >= e->shnum || link == e->shstrndx) {
		zp_warn(e->path, "its %s is unusual: %s", (*st)->name, lost);
		return -1;
	}
	*str = &e->secs[link];
	return own_bytes(e, *st, SHT_SYMTAB, lost) && own_bytes(e, *str, SHT_STRTAB, lost) ? 0 : -1;
}

/* .symtab and .strtab: the input's (if any) with the new symbols after. */
static int write_symbols(const struct zp_elf *e, const struct zp_symadd *t, const struct zp_section *st,
			 const struct zp_section *str, size_t first, struct zp_image *im, struct zp_debugsec *out)
{
	uint64_t nold = st ? st->shdr.sh_size / sizeof(Elf64_Sym) : 1;
	uint64_t strold = str ? str->shdr.sh_size : 0;
	int64_t stroff = zp_image_append(im, NULL, strold + t->strsize, 1);
	int64_t symoff = stroff < 0 ? -1 : zp_image_append(im, NULL, (nold + t->nsyms) * sizeof(Elf64_Sym), 8);

	if (symoff < 0)
		return zp_error(e->path, "out of memory");
	/* The input's tables as they are in the image (segment.c moved
	 * _DYNAMIC's value there), else one null symbol (zeros). */
	if (str)
		memcpy(im->buf + stroff, im->buf + str->shdr.sh_offset, strold);
	memcpy(im->buf + stroff + strold, t->strs, t->strsize);
	if (st)
		memcpy(im->buf + symoff, im->buf + st->shdr.sh_offset, st->shdr.sh_size);
	for (size_t i = 0; i < t->nsyms; i++) {
		Elf64_Sym s = t->syms[i];
		s.st_name += (uint32_t)strold;
		memcpy(im->buf + symoff + (nold + i) * sizeof s, &s, sizeof s);
	}
	uint64_t symsize = (nold + t->nsyms) * sizeof(Elf64_Sym), strsize = strold + t->strsize;
	if (st) {   /* locals first: appending globals leaves sh_info as it is */
		add_moved(out, st->index, (uint64_t)symoff, symsize);
		add_moved(out, str->index, (uint64_t)stroff, strsize);
		return 0;
	}
	add_new(out, ".symtab", (GElf_Shdr){ .sh_type = SHT_SYMTAB, .sh_offset = (uint64_t)symoff,
		.sh_size = symsize, .sh_link = (uint32_t)(first + out->nnew + 1), .sh_info = 1,
		.sh_addralign = 8, .sh_entsize = sizeof(Elf64_Sym) });
	add_new(out, ".strtab", (GElf_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = (uint64_t)stroff,
		.sh_size = strsize, .sh_addralign = 1 });
	return 0;
}

/* A stripped input's .dynsym symbols, as in the image, for its new
 * .symtab (symtab.h says why). */
static int add_dynamic(const struct zp_elf *e, const struct zp_image *im, struct zp_symadd *t)
{
	for (size_t i = 0; i < e->shnum; i++) {
		const struct zp_section *ds = &e->secs[i], *str;
		if (ds->shdr.sh_type != SHT_DYNSYM || ds->shdr.sh_entsize != sizeof(Elf64_Sym) ||
		    ds->shdr.sh_link >= e->shnum || !zp_elf_section_bytes(e, ds))
			continue;
		str = &e->secs[ds->shdr.sh_link];
		if (str->shdr.sh_type != SHT_STRTAB || !zp_elf_section_bytes(e, str))
			continue;
		return zp_symadd_dynamic(t, im->buf + ds->shdr.sh_offset, ds->shdr.sh_size,
					 (const char *)im->buf + str->shdr.sh_offset, str->shdr.sh_size);
	}
	return 0;
}

static int add_symbols(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_embed *hook,
		       const struct zp_sites *sites, const struct zp_layout *lo, const size_t *role_shndx,
		       size_t first, struct zp_image *im, struct zp_debugsec *out)
{
	const struct zp_section *st, *str;
	struct zp_symadd t = { 0 };

	/* Section indices from SHN_LORESERVE on need SHT_SYMTAB_SHNDX. */
	if (first + ZP_DEBUGSEC_MAX >= SHN_LORESERVE || own_symtab(e, &st, &str) < 0)
		return 0;
	/* (A new .symtab starts with the .dynsym's symbols: symtab.h.) */
	int rc = (!st && add_dynamic(e, im, &t)) || collect_symbols(blob, hook, sites, lo, role_shndx, &t) ?
		 zp_error(e->path, "out of memory") : t.nsyms ? write_symbols(e, &t, st, str, first, im, out) : 0;
	zp_symadd_free(&t);
	return rc;
}

int zp_debugsec_add(const struct zp_elf *e, const struct zp_blob *blob, const struct zp_embed *hook,
		    const struct zp_sites *sites, const struct zp_layout *lo, const size_t *role_shndx,
		    size_t first, struct zp_image *im, struct zp_debugsec *out)
{
	memset(out, 0, sizeof *out);
	if (add_frames(e, blob, hook, sites, lo, im, out))
		return zp_error(e->path, "out of memory");
	return add_symbols(e, blob, hook, sites, lo, role_shndx, first, im, out);
}
