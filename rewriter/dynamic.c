/*
 * dynamic.c - read and edit the dynamic section (see dynamic.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamic.h"
#include "warn.h"

int zp_dynamic_entries(const struct zp_elf *e, Elf64_Dyn **out, size_t *n)
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

const char *zp_dynamic_strtab(const struct zp_elf *e, const Elf64_Dyn *d, size_t n, uint64_t *size)
{
	int64_t t = find_tag(d, n, DT_STRTAB), z = find_tag(d, n, DT_STRSZ);
	if (t < 0 || z < 0)
		return NULL;
	*size = d[z].d_un.d_val;
	return (const char *)zp_elf_bytes_at(e, d[t].d_un.d_ptr, *size);
}

const char *zp_dynamic_str(const char *strs, uint64_t size, uint64_t off)
{
	if (!strs || off >= size || !memchr(strs + off, 0, size - off))
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
	if (zp_dynamic_entries(e, &d, &n))
		return -1;
	const char *strs = d ? zp_dynamic_strtab(e, d, n, &size) : NULL;
	/* The paths first: linkers write them after the NEEDED entries, and
	 * the callback searches them. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; d && i < n; i++) {
			int64_t tag = d[i].d_tag;
			if (tag != (pass ? DT_NEEDED : DT_RPATH) && (pass || tag != DT_RUNPATH))
				continue;
			const char *s = strs ? zp_dynamic_str(strs, size, d[i].d_un.d_val) : NULL;
			if (!s) {
				free(d);
				return zp_error(e->path, "corrupt dynamic section: a name outside its string table");
			}
			if (tag == DT_NEEDED) {
				if (fn)
					fn(s, arg);
			} else if (tag == DT_RPATH) {
				*rpath = s;
			} else {
				*runpath = s;
			}
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
	if (zp_dynamic_entries(e, &d, &n))
		return -1;
	if (!d)
		return zp_error(e->path, "has no dynamic section to add a library path to");
	const char *strs = zp_dynamic_strtab(e, d, n, &size);
	int64_t st = find_tag(d, n, DT_STRTAB), sz = find_tag(d, n, DT_STRSZ);
	if (!strs || st < 0 || sz < 0) {
		free(d);
		return zp_error(e->path, "corrupt dynamic section: no string table");
	}
	/* The new strings: our directories before the old path (RUNPATH, or
	 * RPATH if there is no RUNPATH: the loader ignores RPATH then), and
	 * the NEEDED names as paths into the bundle's library directory, so
	 * that the loader opens each at once instead of searching its way
	 * through the library path (and its hardware-capability directories). */
	int64_t rp = find_tag(d, n, DT_RUNPATH);
	if (rp < 0)
		rp = find_tag(d, n, DT_RPATH);
	const char *old = rp >= 0 ? zp_dynamic_str(strs, size, d[rp].d_un.d_val) : NULL;
	if (rp >= 0 && !old) {
		free(d);
		return zp_error(e->path, "corrupt dynamic section: its library path is outside its string table");
	}
	size_t add = strlen(de->search) + (old && *old ? 1 + strlen(old) : 0) + 1;
	for (size_t i = 0; i < n; i++) {
		const char *nd = d[i].d_tag == DT_NEEDED ? zp_dynamic_str(strs, size, d[i].d_un.d_val) : NULL;
		if (nd && de->needed_dir)
			add += strlen(de->needed_dir) + 1 + strlen(strrchr(nd, '/') ? strrchr(nd, '/') + 1 : nd) + 1;
	}
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
	char *end = (char *)de->dynstr + size;
	de->renamed_from = calloc(n + 1, sizeof *de->renamed_from);
	de->renamed_to = calloc(n + 1, sizeof *de->renamed_to);
	if (!de->renamed_from || !de->renamed_to) {
		free(d);
		return zp_error(e->path, "out of memory");
	}
	for (size_t i = 0; i < n && de->needed_dir; i++) {
		const char *nd = d[i].d_tag == DT_NEEDED ? zp_dynamic_str(strs, size, d[i].d_un.d_val) : NULL;
		if (!nd)
			continue;
		de->renamed_from[de->nrenamed] = d[i].d_un.d_val;
		de->renamed_to[de->nrenamed++] = (uint64_t)(end - (char *)de->dynstr);
		d[i].d_un.d_val = (uint64_t)(end - (char *)de->dynstr);
		end += sprintf(end, "%s/%s", de->needed_dir, strrchr(nd, '/') ? strrchr(nd, '/') + 1 : nd) + 1;
	}
	uint64_t path_off = (uint64_t)(end - (char *)de->dynstr);
	strcpy(end, de->search);
	if (old && *old) {
		strcat(end, ":");
		strcat(end, old);
	}
	/* Always DT_RPATH: the loader searches it before LD_LIBRARY_PATH and
	 * for the dependencies of dependencies too, where RUNPATH would not. */
	size_t k = 0;
	Elf64_Dyn *out = (Elf64_Dyn *)de->dynamic;
	for (size_t i = 0; i < n; i++) {
		if ((d[i].d_tag == DT_RPATH || d[i].d_tag == DT_RUNPATH) && (int64_t)i != rp)
			continue;   /* a second path would be ignored or override ours */
		out[k] = d[i];
		if ((int64_t)i == rp)
			out[k] = (Elf64_Dyn){ .d_tag = DT_RPATH, .d_un.d_val = path_off };
		if ((int64_t)i == st)
			de->strtab_entry = k;
		if ((int64_t)i == sz)
			out[k].d_un.d_val = de->dynstr_size;
		k++;
	}
	if (rp < 0)
		out[k++] = (Elf64_Dyn){ .d_tag = DT_RPATH, .d_un.d_val = path_off };
	free(d);
	return 0;
}

void zp_dynedit_set_strtab(struct zp_dynedit *de, uint64_t vaddr)
{
	Elf64_Dyn *d = (Elf64_Dyn *)de->dynamic;
	d[de->strtab_entry].d_un.d_ptr = vaddr;
}

void zp_dynedit_patch(const struct zp_dynedit *de, const struct zp_elf *e, unsigned char *image)
{
	Elf64_Dyn *d;
	size_t n;

	if (!de->nrenamed || zp_dynamic_entries(e, &d, &n) || !d)
		return;
	int64_t vn = find_tag(d, n, DT_VERNEED), num = find_tag(d, n, DT_VERNEEDNUM);
	uint64_t at = vn >= 0 ? d[vn].d_un.d_ptr : 0;
	for (uint64_t k = 0; vn >= 0 && num >= 0 && k < d[num].d_un.d_val; k++) {
		int64_t off = zp_elf_offset_of(e, at, sizeof(Elf64_Verneed));
		if (off < 0)
			break;   /* (elffile.c checked the file; a bad table is left alone) */
		Elf64_Verneed v;
		memcpy(&v, image + off, sizeof v);
		for (size_t r = 0; r < de->nrenamed; r++)
			if (v.vn_file == de->renamed_from[r]) {
				v.vn_file = (Elf64_Word)de->renamed_to[r];
				memcpy(image + off, &v, sizeof v);
				break;
			}
		if (!v.vn_next)
			break;
		at += v.vn_next;
	}
	free(d);
}

void zp_dynedit_free(struct zp_dynedit *de)
{
	free(de->dynstr);
	free(de->dynamic);
	free(de->renamed_from);
	free(de->renamed_to);
	de->dynstr = de->dynamic = NULL;
	de->renamed_from = de->renamed_to = NULL;
}
