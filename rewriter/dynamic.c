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

/* The dynamic section zp_dynedit_prepare starts from. */
struct dynsrc {
	Elf64_Dyn *d;            /* its entries (zp_dynamic_entries) */
	size_t n;
	const char *strs;        /* its string table, size bytes */
	uint64_t size;
	int64_t strtab, strsz;   /* indexes of DT_STRTAB and DT_STRSZ */
	int64_t path;            /* of DT_RUNPATH, or DT_RPATH if none, or -1 */
	const char *old;         /* the library path it names, or NULL */
};

static int read_dynsrc(const struct zp_elf *e, struct dynsrc *s)
{
	memset(s, 0, sizeof *s);
	if (zp_dynamic_entries(e, &s->d, &s->n))
		return -1;
	if (!s->d)
		return zp_error(e->path, "has no dynamic section to add a library path to");
	s->strs = zp_dynamic_strtab(e, s->d, s->n, &s->size);
	s->strtab = find_tag(s->d, s->n, DT_STRTAB);
	s->strsz = find_tag(s->d, s->n, DT_STRSZ);
	if (!s->strs || s->strtab < 0 || s->strsz < 0)
		return zp_error(e->path, "corrupt dynamic section: no string table");
	/* RUNPATH, or RPATH if there is no RUNPATH: the loader ignores RPATH then. */
	s->path = find_tag(s->d, s->n, DT_RUNPATH);
	if (s->path < 0)
		s->path = find_tag(s->d, s->n, DT_RPATH);
	s->old = s->path >= 0 ? zp_dynamic_str(s->strs, s->size, s->d[s->path].d_un.d_val) : NULL;
	if (s->path >= 0 && !s->old)
		return zp_error(e->path, "corrupt dynamic section: its library path is outside its string table");
	return 0;
}

/* Strings appended to a string table; with buf NULL only counted, so that
 * the size allocated and the strings written come from the same code. */
struct strbuild {
	char *buf;
	size_t len;
};

/* Append a, b and c as one string; returns its offset. */
static uint64_t add_string(struct strbuild *sb, const char *a, const char *b, const char *c)
{
	uint64_t at = sb->len;
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);

	if (sb->buf) {
		memcpy(sb->buf + at, a, la);
		memcpy(sb->buf + at + la, b, lb);
		memcpy(sb->buf + at + la + lb, c, lc);
		sb->buf[at + la + lb + lc] = 0;
	}
	sb->len += la + lb + lc + 1;
	return at;
}

/* The new strings after the old table: the NEEDED names as paths into the
 * bundle's library directory, so that the loader opens each at once instead
 * of searching its way through the library path (and its
 * hardware-capability directories); then our directories before the old
 * path.  When writing (sb->buf), the NEEDED entries of s->d are pointed at
 * their new names and the renames noted.  Returns the path's offset. */
static uint64_t new_strings(struct zp_dynedit *de, struct dynsrc *s, struct strbuild *sb)
{
	for (size_t i = 0; i < s->n && de->needed_dir; i++) {
		const char *nd = s->d[i].d_tag == DT_NEEDED ? zp_dynamic_str(s->strs, s->size, s->d[i].d_un.d_val) : NULL;
		if (!nd)
			continue;
		const char *base = strrchr(nd, '/') ? strrchr(nd, '/') + 1 : nd;
		uint64_t at = add_string(sb, de->needed_dir, "/", base);
		if (!sb->buf)
			continue;
		de->renamed_from[de->nrenamed] = s->d[i].d_un.d_val;
		de->renamed_to[de->nrenamed++] = at;
		s->d[i].d_un.d_val = at;
	}
	int keep_old = s->old && *s->old;
	return add_string(sb, de->search, keep_old ? ":" : "", keep_old ? s->old : "");
}

/* The new .dynamic: the old entries with the new string table's size and
 * one DT_RPATH, ours (always DT_RPATH: the loader searches it before
 * LD_LIBRARY_PATH and for the dependencies of dependencies too, where
 * RUNPATH would not). */
static void new_dynamic(struct zp_dynedit *de, const struct dynsrc *s, uint64_t path_off)
{
	Elf64_Dyn *out = (Elf64_Dyn *)de->dynamic;
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++) {
		if ((s->d[i].d_tag == DT_RPATH || s->d[i].d_tag == DT_RUNPATH) && (int64_t)i != s->path)
			continue;   /* a second path would be ignored or override ours */
		out[k] = s->d[i];
		if ((int64_t)i == s->path)
			out[k] = (Elf64_Dyn){ .d_tag = DT_RPATH, .d_un.d_val = path_off };
		if ((int64_t)i == s->strtab)
			de->strtab_entry = k;
		if ((int64_t)i == s->strsz)
			out[k].d_un.d_val = de->dynstr_size;
		k++;
	}
	if (s->path < 0)
		out[k++] = (Elf64_Dyn){ .d_tag = DT_RPATH, .d_un.d_val = path_off };
}

int zp_dynedit_prepare(const struct zp_elf *e, struct zp_dynedit *de)
{
	struct dynsrc s;

	de->dynstr = de->dynamic = NULL;
	if (!de->search)
		return 0;
	if (read_dynsrc(e, &s)) {
		free(s.d);
		return -1;
	}
	struct strbuild count = { NULL, s.size };
	new_strings(de, &s, &count);
	de->dynstr_size = count.len;
	de->dynstr = malloc(de->dynstr_size);
	/* Room for the new entry and a spare DT_NULL (tools like patchelf use one). */
	de->dynamic_size = (s.n + 3) * sizeof(Elf64_Dyn);
	de->dynamic = calloc(1, de->dynamic_size);
	de->renamed_from = calloc(s.n + 1, sizeof *de->renamed_from);
	de->renamed_to = calloc(s.n + 1, sizeof *de->renamed_to);
	if (!de->dynstr || !de->dynamic || !de->renamed_from || !de->renamed_to) {
		free(s.d);
		return zp_error(e->path, "out of memory");
	}
	memcpy(de->dynstr, s.strs, s.size);
	struct strbuild sb = { (char *)de->dynstr, s.size };
	uint64_t path_off = new_strings(de, &s, &sb);
	if (sb.len != de->dynstr_size)
		ZP_BUG("the new .dynstr is not the size counted");
	new_dynamic(de, &s, path_off);
	free(s.d);
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
