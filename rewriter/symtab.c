/*
 * symtab.c - collect the function symbols of the runtime and the hook at
 * their addresses in the output (see symtab.h).
 */
#include <stdlib.h>
#include <string.h>

#include "symtab.h"

static int add_str(struct zp_symadd *t, const char *prefix, const char *name, size_t *off)
{
	size_t lp = prefix ? strlen(prefix) : 0, ln = strlen(name);
	size_t need = (t->strsize ? 0 : 1) + lp + ln + 1;

	if (t->strcap - t->strsize < need) {
		size_t cap = t->strcap ? t->strcap : 4096;
		while (cap - t->strsize < need)
			cap *= 2;
		char *ns = realloc(t->strs, cap);
		if (!ns)
			return -1;
		t->strs = ns;
		t->strcap = cap;
	}
	if (!t->strsize)
		t->strs[t->strsize++] = 0;   /* offset 0: the empty name */
	*off = t->strsize;
	if (lp)
		memcpy(t->strs + t->strsize, prefix, lp);
	memcpy(t->strs + t->strsize + lp, name, ln + 1);
	t->strsize += lp + ln + 1;
	return 0;
}

static int add_sym(struct zp_symadd *t, const Elf64_Sym *s)
{
	if (t->nsyms == t->symcap) {
		size_t cap = t->symcap ? t->symcap * 2 : 256;
		Elf64_Sym *ns = realloc(t->syms, cap * sizeof *ns);
		if (!ns)
			return -1;
		t->syms = ns;
		t->symcap = cap;
	}
	t->syms[t->nsyms++] = *s;
	return 0;
}

/* A global function named prefix + name (prefix may be NULL). */
static int add_func(struct zp_symadd *t, const char *prefix, const char *name, uint64_t value, uint64_t size,
		    uint16_t shndx)
{
	size_t off;
	if (add_str(t, prefix, name, &off))
		return -1;
	Elf64_Sym out = {
		.st_name = (uint32_t)off, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
		.st_other = STV_DEFAULT, .st_shndx = shndx, .st_value = value, .st_size = size,
	};
	return add_sym(t, &out);
}

int zp_symadd_one(struct zp_symadd *t, const char *name, uint64_t value, uint64_t size, uint16_t shndx)
{
	return add_func(t, NULL, name, value, size, shndx);
}

static const struct zp_symmap *map_of(const struct zp_symmap *map, size_t nmap, uint64_t v)
{
	for (size_t i = 0; i < nmap; i++)
		if (v >= map[i].lo && v < map[i].hi)
			return &map[i];
	return NULL;
}

/* The first symbol table of that type, or NULL. */
static Elf_Scn *table_of_type(Elf *elf, uint32_t type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type && sh.sh_entsize == sizeof(Elf64_Sym))
			return scn;
	return NULL;
}

/* The symbol table to read: .symtab (every function), else .dynsym. */
static Elf_Scn *symbol_table(Elf *elf)
{
	Elf_Scn *scn = table_of_type(elf, SHT_SYMTAB);
	return scn ? scn : table_of_type(elf, SHT_DYNSYM);
}

int zp_symadd_dynamic(struct zp_symadd *t, const unsigned char *syms, size_t size, const char *strs,
		      size_t strsize)
{
	for (size_t k = sizeof(Elf64_Sym); k + sizeof(Elf64_Sym) <= size; k += sizeof(Elf64_Sym)) {
		Elf64_Sym sym;
		size_t off;
		memcpy(&sym, syms + k, sizeof sym);
		if (ELF64_ST_BIND(sym.st_info) == STB_LOCAL || sym.st_shndx == SHN_UNDEF ||
		    (sym.st_shndx >= SHN_LORESERVE && sym.st_shndx != SHN_ABS) || sym.st_name >= strsize ||
		    !strs[sym.st_name] || !memchr(strs + sym.st_name, 0, strsize - sym.st_name))
			continue;
		if (add_str(t, NULL, strs + sym.st_name, &off))
			return -1;
		sym.st_name = (uint32_t)off;
		if (add_sym(t, &sym))
			return -1;
	}
	return 0;
}

int zp_symadd_object(struct zp_symadd *t, Elf *elf, const char *prefix, const struct zp_symmap *map,
		     size_t nmap)
{
	Elf_Scn *scn = symbol_table(elf);
	GElf_Shdr sh;
	Elf_Data *d = scn && gelf_getshdr(scn, &sh) ? elf_getdata(scn, NULL) : NULL;
	size_t n = d ? d->d_size / sizeof(Elf64_Sym) : 0;

	for (size_t k = 1; k < n; k++) {
		GElf_Sym sym;
		const char *name;
		const struct zp_symmap *m;
		if (!gelf_getsym(d, (int)k, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE ||
		    !(m = map_of(map, nmap, sym.st_value)) ||
		    !(name = elf_strptr(elf, sh.sh_link, sym.st_name)) || !*name)
			continue;
		if (add_func(t, strncmp(name, "zp_", 3) ? prefix : NULL, name, sym.st_value + m->delta,
			     sym.st_size, m->shndx))
			return -1;
	}
	return 0;
}

void zp_symadd_free(struct zp_symadd *t)
{
	free(t->syms);
	free(t->strs);
	memset(t, 0, sizeof *t);
}
