/*
 * dynamic.c - read and edit the dynamic section (see dynamic.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dynamic.h"
#include "warn.h"

/* The dynamic section's entries, from PT_DYNAMIC, up to DT_NULL. */
static int read_dynamic(const struct zp_elf *e, Elf64_Dyn **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < e->phnum; i++) {
		const GElf_Phdr *p = &e->phdrs[i];
		if (p->p_type != PT_DYNAMIC)
			continue;
		const unsigned char *b = zp_elf_bytes_at(e, p->p_vaddr, p->p_filesz);
		if (!b)
			return zp_error(e->path, "corrupt dynamic segment: not in the file");
		size_t max = p->p_filesz / sizeof(Elf64_Dyn);
		Elf64_Dyn *d = calloc(max + 1, sizeof *d);
		if (!d)
			return zp_error(e->path, "out of memory");
		memcpy(d, b, max * sizeof *d);
		size_t k = 0;
		while (k < max && d[k].d_tag != DT_NULL)
			k++;
		*out = d;
		*n = k;
		return 0;
	}
	return 0;
}

static int64_t find_tag(const Elf64_Dyn *d, size_t n, int64_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].d_tag == tag)
			return (int64_t)i;
	return -1;
}

/* The string table the dynamic section points to, as file bytes. */
static const char *dynstr_of(const struct zp_elf *e, const Elf64_Dyn *d, size_t n, uint64_t *size)
{
	int64_t t = find_tag(d, n, DT_STRTAB), z = find_tag(d, n, DT_STRSZ);
	if (t < 0 || z < 0)
		return NULL;
	*size = d[z].d_un.d_val;
	return (const char *)zp_elf_bytes_at(e, d[t].d_un.d_ptr, *size);
}

static const char *str_at(const char *strs, uint64_t size, uint64_t off)
{
	if (off >= size || !memchr(strs + off, 0, size - off))
		return NULL;
	return strs + off;
}

int zp_dynamic_needed(const struct zp_elf *e, void (*fn)(const char *name, void *arg), void *arg,
		      const char **rpath, const char **runpath)
{
	Elf64_Dyn *d;
	size_t n;
	uint64_t size = 0;

	*rpath = *runpath = NULL;
	if (read_dynamic(e, &d, &n))
		return -1;
	const char *strs = d ? dynstr_of(e, d, n, &size) : NULL;
	for (size_t i = 0; d && i < n; i++) {
		if (d[i].d_tag != DT_NEEDED && d[i].d_tag != DT_RPATH && d[i].d_tag != DT_RUNPATH)
			continue;
		const char *s = strs ? str_at(strs, size, d[i].d_un.d_val) : NULL;
		if (!s) {
			free(d);
			return zp_error(e->path, "corrupt dynamic section: a name outside its string table");
		}
		if (d[i].d_tag == DT_NEEDED && fn)
			fn(s, arg);
		else if (d[i].d_tag == DT_RPATH)
			*rpath = s;
		else
			*runpath = s;
	}
	free(d);
	return 0;
}

int zp_dynedit_prepare(const struct zp_elf *e, struct zp_dynedit *de)
{
	Elf64_Dyn *d;
	size_t n;
	uint64_t size = 0;

	de->dynstr = de->dynamic = NULL;
	if (!de->search)
		return 0;
	if (read_dynamic(e, &d, &n))
		return -1;
	if (!d)
		return zp_error(e->path, "has no dynamic section to add a library path to");
	const char *strs = dynstr_of(e, d, n, &size);
	int64_t st = find_tag(d, n, DT_STRTAB);
	if (!strs || st < 0) {
		free(d);
		return zp_error(e->path, "corrupt dynamic section: no string table");
	}
	/* An existing RUNPATH (or RPATH) keeps its kind and gets our directories
	 * first; otherwise DT_RPATH, which the loader also applies to the
	 * dependencies of dependencies. */
	int64_t at = find_tag(d, n, DT_RUNPATH);
	if (at < 0)
		at = find_tag(d, n, DT_RPATH);
	const char *old = at >= 0 ? str_at(strs, size, d[at].d_un.d_val) : NULL;
	if (at >= 0 && !old) {
		free(d);
		return zp_error(e->path, "corrupt dynamic section: its library path is outside its string table");
	}
	size_t add = strlen(de->search) + (old && *old ? 1 + strlen(old) : 0) + 1;
	de->dynstr_size = size + add;
	de->dynstr = malloc(de->dynstr_size);
	/* Room for the new entry and a spare DT_NULL (tools like patchelf use one). */
	de->dynamic_size = (n + 3) * sizeof(Elf64_Dyn);
	de->dynamic = calloc(1, de->dynamic_size);
	if (!de->dynstr || !de->dynamic) {
		free(d);
		return zp_error(e->path, "out of memory");
	}
	memcpy(de->dynstr, strs, size);
	char *s = (char *)de->dynstr + size;
	strcpy(s, de->search);
	if (old && *old) {
		strcat(s, ":");
		strcat(s, old);
	}
	if (at >= 0) {
		d[at].d_un.d_val = size;
	} else {
		d[n].d_tag = DT_RPATH;
		d[n].d_un.d_val = size;
		n++;
	}
	int64_t sz = find_tag(d, n, DT_STRSZ);
	d[sz].d_un.d_val = de->dynstr_size;
	memcpy(de->dynamic, d, n * sizeof *d);   /* the rest stays DT_NULL */
	de->strtab_entry = (size_t)st;
	free(d);
	return 0;
}

void zp_dynedit_set_strtab(struct zp_dynedit *de, uint64_t vaddr)
{
	Elf64_Dyn *d = (Elf64_Dyn *)de->dynamic;
	d[de->strtab_entry].d_un.d_ptr = vaddr;
}

void zp_dynedit_free(struct zp_dynedit *de)
{
	free(de->dynstr);
	free(de->dynamic);
	de->dynstr = de->dynamic = NULL;
}
