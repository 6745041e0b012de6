/*
 * embed.c - read and check a hook object for --hook (see embed.h).
 *
 * A hook is an ELF shared object built with -shared -fPIC -nostdlib against
 * zprewrite/hook.h.  zprewrite does the loader's work for it once, at rewrite
 * time: it keeps the hook's segments as they are (relative to a base the
 * layout chooses) and turns its dynamic relocations into a list the runtime
 * applies at start-up:
 *   R_X86_64_RELATIVE                     hook base + addend
 *   R_X86_64_64 / GLOB_DAT / JUMP_SLOT    a symbol of the hook, or a runtime
 *                                         helper (zp_*, mem*) by name
 * Anything else (TLS, COPY, IFUNC, text relocations, other libraries) is
 * refused with a message saying what and how to rebuild.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "dynamic.h"
#include "embed.h"
#include "warn.h"

#include "zprewrite/hook.h"   /* ZP_HOOK_ABI: the version this runtime implements */
#define MAX_SPAN (64u << 20)

/* Dynamic table entries of the hook, read through its program headers. */
struct dyninfo {
	uint64_t rela, relasz, jmprel, pltrelsz, symtab;
	const char *strs;            /* the dynamic string table, NULL if none in the file */
	uint64_t strsz;
	int pltrel_is_rela, has_needed, has_textrel;
};

static int read_dynamic(const struct zp_elf *e, struct dyninfo *di)
{
	Elf64_Dyn *d;
	size_t n;

	memset(di, 0, sizeof *di);
	di->pltrel_is_rela = 1;
	if (zp_dynamic_entries(e, &d, &n))
		return -1;
	for (size_t k = 0; k < n; k++) {
		switch (d[k].d_tag) {
		case DT_RELA: di->rela = d[k].d_un.d_ptr; break;
		case DT_RELASZ: di->relasz = d[k].d_un.d_val; break;
		case DT_JMPREL: di->jmprel = d[k].d_un.d_ptr; break;
		case DT_PLTRELSZ: di->pltrelsz = d[k].d_un.d_val; break;
		case DT_PLTREL: di->pltrel_is_rela = d[k].d_un.d_val == DT_RELA; break;
		case DT_SYMTAB: di->symtab = d[k].d_un.d_ptr; break;
		case DT_NEEDED: di->has_needed = 1; break;
		case DT_TEXTREL: di->has_textrel = 1; break;
		case DT_REL: case DT_RELSZ:
			free(d);
			return zp_error(e->path, "hook uses REL relocations; x86-64 objects use RELA");
		default: break;
		}
	}
	/* Checked here as a whole (all DT_STRSZ bytes in the file), so that a
	 * name is only ever looked for inside it. */
	di->strs = zp_dynamic_strtab(e, d, n, &di->strsz);
	free(d);
	return 0;
}

static int seg_writable_at(const struct zp_embed *h, uint64_t addr)
{
	for (size_t i = 0; i < h->nseg; i++)
		if (addr >= h->seg[i].vaddr && zp_in_range(addr - h->seg[i].vaddr, 8, h->seg[i].memsz))
			return (h->seg[i].flags & PF_W) != 0;
	return -1;
}

static int runtime_helper_name(const char *n)
{
	return !strncmp(n, "zp_", 3) || !strcmp(n, "memcpy") || !strcmp(n, "memset") ||
	       !strcmp(n, "memmove") || !strcmp(n, "memcmp");
}

static int add_reloc(struct zp_embed *h, size_t *cap, struct zp_embed_reloc r)
{
	if (h->nrelocs == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		struct zp_embed_reloc *nr = realloc(h->relocs, *cap * sizeof *nr);
		if (!nr)
			return -1;
		h->relocs = nr;
	}
	h->relocs[h->nrelocs++] = r;
	return 0;
}

/* What a relocation against symbol symi of the hook resolves to: a value in
 * the hook, or (*in_runtime) one of the runtime's helpers. */
static int symbol_value(const struct zp_embed *h, const struct zp_blob *blob, const struct dyninfo *di,
			uint32_t symi, uint64_t *value, int *in_runtime)
{
	const struct zp_elf *e = &h->elf;
	uint64_t symoff = (uint64_t)symi * sizeof(Elf64_Sym);
	/* (a DT_SYMTAB near the top would wrap round to other bytes) */
	const unsigned char *sb = symoff <= UINT64_MAX - di->symtab ?
		zp_elf_bytes_at(e, di->symtab + symoff, sizeof(Elf64_Sym)) : NULL;
	Elf64_Sym sym;

	if (!sb)
		return zp_error(e->path, "corrupt hook: relocation symbol %u not in the file", symi);
	if (!di->strs)
		return zp_error(e->path, "corrupt hook: its dynamic string table (DT_STRTAB, "
				"DT_STRSZ) is not in the file");
	memcpy(&sym, sb, sizeof sym);
	const char *name = zp_dynamic_str(di->strs, di->strsz, sym.st_name);
	if (!name)
		return zp_error(e->path, "corrupt hook: relocation symbol name not in the file");
	*in_runtime = sym.st_shndx == SHN_UNDEF;
	if (!*in_runtime) {
		*value = sym.st_value;
		return 0;
	}
	if (!runtime_helper_name(name) || zp_blob_symbol(blob, name, value))
		return zp_error(e->path, "hook uses '%s', which is neither defined in it nor a "
				"zprewrite runtime helper (a hook cannot use libc: see zprewrite/hook.h)", name);
	return 0;
}

/* One relocation of the hook, resolved; 1 if there is nothing to do. */
static int take_reloc(struct zp_embed *h, const struct zp_blob *blob, const struct dyninfo *di,
		      const Elf64_Rela *r, struct zp_embed_reloc *out)
{
	const struct zp_elf *e = &h->elf;
	uint32_t type = ELF64_R_TYPE(r->r_info);

	*out = (struct zp_embed_reloc){ r->r_offset, 0, 0 };
	if (type == R_X86_64_NONE)
		return 1;
	int w = seg_writable_at(h, r->r_offset);
	if (w < 0)
		return zp_error(e->path, "corrupt hook: relocation at %#lx outside its segments",
				(unsigned long)r->r_offset);
	if (!w)
		return zp_error(e->path, "hook has a relocation in read-only code at %#lx "
				"(text relocation): build it with -fPIC", (unsigned long)r->r_offset);
	switch (type) {
	case R_X86_64_RELATIVE:
		out->value = (uint64_t)r->r_addend;
		return 0;
	case R_X86_64_64:
	case R_X86_64_GLOB_DAT:
	case R_X86_64_JUMP_SLOT:
		if (symbol_value(h, blob, di, ELF64_R_SYM(r->r_info), &out->value, &out->in_runtime))
			return -1;
		out->value += (uint64_t)(type == R_X86_64_64 ? r->r_addend : 0);
		return 0;
	default:
		return zp_error(e->path, "hook has an unsupported relocation (type %u at %#lx): "
				"hooks cannot use thread-local storage, IFUNCs or copy relocations",
				type, (unsigned long)r->r_offset);
	}
}

static int take_relocs(struct zp_embed *h, const struct zp_blob *blob, const struct dyninfo *di,
		       uint64_t table, uint64_t size, size_t *cap)
{
	const struct zp_elf *e = &h->elf;
	if (!size)
		return 0;
	const unsigned char *b = zp_elf_bytes_at(e, table, size);
	if (!b || size % sizeof(Elf64_Rela))
		return zp_error(e->path, "corrupt hook: relocation table not in the file");
	for (uint64_t k = 0; k < size; k += sizeof(Elf64_Rela)) {
		Elf64_Rela r;
		struct zp_embed_reloc out;
		memcpy(&r, b + k, sizeof r);
		int rc = take_reloc(h, blob, di, &r, &out);
		if (rc < 0)
			return -1;
		if (rc == 0 && add_reloc(h, cap, out))
			return zp_error(e->path, "out of memory");
	}
	return 0;
}

/* A function the hook defines (hook-relative), or 0 if it has none. */
static uint64_t entry_point(const struct zp_elf *e, const char *name)
{
	uint64_t v;
	return zp_elf_find_symbol(e->elf, name, 1, &v) ? 0 : v;
}

static int check_abi(const struct zp_elf *e)
{
	const struct zp_section *s = zp_elf_section_by_name(e, ".zp_hook_abi");
	if (!e->shnum)
		return 0;   /* stripped of section headers: nothing to check against */
	/* A section without contents in the file (NOBITS, SHT_NULL) holds no
	 * version either. */
	const unsigned char *b = zp_elf_section_bytes(e, s);
	if (!b || s->shdr.sh_size < 4)
		return zp_error(e->path, "not built with zprewrite/hook.h (no interface version): "
				"include the header and define zp_hook_enter");
	for (uint64_t k = 0; k + 4 <= s->shdr.sh_size; k += 4) {
		uint32_t v;
		memcpy(&v, b + k, 4);
		if (v != ZP_HOOK_ABI)
			return zp_error(e->path, "built for hook interface version %u, this zprewrite "
					"supports version %u: rebuild the hook", v, ZP_HOOK_ABI);
	}
	return 0;
}

/* A .o is the usual mistake: say how to make a hook of it. */
static int refuse_object_file(const char *path)
{
	unsigned char id[18];
	FILE *f = fopen(path, "rb");

	if (!f)
		return 0;   /* (zp_elf_open says why) */
	size_t n = fread(id, 1, sizeof id, f);
	fclose(f);
	if (n == sizeof id && !memcmp(id, ELFMAG, SELFMAG) && id[EI_CLASS] == ELFCLASS64 &&
	    id[EI_DATA] == ELFDATA2LSB && id[16] == ET_REL && id[17] == 0)
		return zp_error(path, "a relocatable object (.o), not a hook: link it with "
				"-shared -fPIC -nostdlib (see zprewrite/hook.h)");
	return 0;
}

/* The hook's loadable segments (and no thread-local storage). */
static int take_segments(struct zp_embed *h)
{
	const struct zp_elf *e = &h->elf;

	for (size_t i = 0; i < e->phnum; i++) {
		const GElf_Phdr *p = &e->phdrs[i];
		if (p->p_type == PT_TLS)
			return zp_error(e->path, "hook uses thread-local storage (__thread), which hooks cannot have");
		if (p->p_type != PT_LOAD)
			continue;
		if (h->nseg == ZP_EMBED_MAX_SEGS)
			return zp_error(e->path, "hook has too many segments");
		h->seg[h->nseg++] = (struct zp_embed_seg){ p->p_vaddr, p->p_filesz, p->p_memsz,
			p->p_flags & (PF_R | PF_W | PF_X), e->bytes + p->p_offset };
		if (p->p_vaddr + p->p_memsz > h->span)
			h->span = p->p_vaddr + p->p_memsz;
		if ((p->p_flags & (PF_W | PF_X)) == (PF_W | PF_X))
			return zp_error(e->path, "hook has a writable and executable segment");
	}
	if (h->span > MAX_SPAN)
		return zp_error(e->path, "hook is too large (%lu bytes)", (unsigned long)h->span);
	return 0;
}

int zp_embed_load(const char *path, const struct zp_blob *blob, struct zp_embed *h)
{
	struct dyninfo di;
	size_t cap = 0;

	memset(h, 0, sizeof *h);
	if (refuse_object_file(path) || zp_elf_open(path, &h->elf))
		return -1;
	const struct zp_elf *e = &h->elf;
	if (e->ehdr.e_type != ET_DYN)
		return zp_error(path, "a hook must be a shared object: build it with -shared -fPIC -nostdlib");
	if (e->has_interp)
		return zp_error(path, "a hook must be a shared object, not a program (it has an interpreter)");
	if (take_segments(h) || check_abi(e) || read_dynamic(e, &di))
		return -1;
	if (di.has_needed)
		return zp_error(path, "hook depends on shared libraries: build it with -nostdlib, "
				"using only the helpers of zprewrite/hook.h");
	if (di.has_textrel)
		return zp_error(path, "hook has text relocations: build it with -fPIC");
	if (take_relocs(h, blob, &di, di.rela, di.relasz, &cap) ||
	    (di.pltrel_is_rela && take_relocs(h, blob, &di, di.jmprel, di.pltrelsz, &cap)))
		return -1;
	h->init = entry_point(e, "zp_hook_init");
	h->enter = entry_point(e, "zp_hook_enter");
	h->leave = entry_point(e, "zp_hook_leave");
	h->exit = entry_point(e, "zp_hook_exit");
	if (!h->enter)
		return zp_error(path, "hook defines no zp_hook_enter (export it with ZP_HOOK_EXPORT)");

	struct zp_decoder *d = zp_decoder_new();
	if (!d)
		return zp_error(path, "cannot set up the Zydis decoder");
	for (size_t i = 0; i < e->ncode && !h->uses_vector; i++)
		h->uses_vector = zp_code_uses_vector(d, e->code[i].bytes, e->code[i].size, e->code[i].addr);
	zp_decoder_free(d);
	return 0;
}

void zp_embed_free(struct zp_embed *h)
{
	free(h->relocs);
	zp_elf_close(&h->elf);
	memset(h, 0, sizeof *h);
}
