/*
 * elffile.c - read an input file with libelf and check it (see elffile.h).
 *
 * The checks are the ones the rest of zprewrite needs, made once here, so a
 * corrupt or hostile file is refused with a clear message instead of being
 * half-processed: every table and segment inside the file, loadable segments
 * sorted and page-congruent, code sections inside their segments, symbols and
 * names inside their tables.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elffile.h"
#include "warn.h"

#define PAGE 4096u

int zp_in_range(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int read_file(const char *path, struct zp_elf *e)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return zp_error(path, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		int err = errno;
		close(fd);
		return zp_error(path, "cannot stat: %s", strerror(err));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return zp_error(path, "is a directory, not an ELF file");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return zp_error(path, "not a regular file");
	}
	if (st.st_size == 0) {
		close(fd);
		return zp_error(path, "empty file, not an ELF file");
	}
	if ((uint64_t)st.st_size > (1ull << 34)) {
		close(fd);
		return zp_error(path, "file too large (%lld bytes)", (long long)st.st_size);
	}
	e->size = (size_t)st.st_size;
	e->bytes = malloc(e->size);
	if (!e->bytes) {
		close(fd);
		return zp_error(path, "out of memory reading %zu bytes", e->size);
	}
	size_t done = 0;
	while (done < e->size) {
		ssize_t n = read(fd, e->bytes + done, e->size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : 0;
			close(fd);
			return zp_error(path, "cannot read: %s", err ? strerror(err) : "file shrank while reading");
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

static int check_ident(struct zp_elf *e)
{
	const unsigned char *id = e->bytes;

	if (e->size < 4 || memcmp(id, ELFMAG, SELFMAG))
		return zp_error(e->path, "not an ELF file");
	if (e->size < EI_NIDENT)
		return zp_error(e->path, "truncated ELF header (%zu bytes)", e->size);
	if (id[EI_CLASS] == ELFCLASS32)
		return zp_error(e->path, "32-bit ELF file: only x86-64 (ELF64) is supported");
	if (id[EI_CLASS] != ELFCLASS64)
		return zp_error(e->path, "corrupt ELF header: unknown class %u", id[EI_CLASS]);
	if (id[EI_DATA] == ELFDATA2MSB)
		return zp_error(e->path, "big-endian ELF file: only x86-64 is supported");
	if (id[EI_DATA] != ELFDATA2LSB)
		return zp_error(e->path, "corrupt ELF header: unknown data encoding %u", id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return zp_error(e->path, "corrupt ELF header: unknown ELF version %u", id[EI_VERSION]);
	if (e->size < sizeof(Elf64_Ehdr))
		return zp_error(e->path, "truncated ELF header (%zu bytes)", e->size);
	return 0;
}

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_ARM: return "ARM";
	case EM_AARCH64: return "AArch64";
	case EM_RISCV: return "RISC-V";
	case EM_PPC64: return "PowerPC64";
	case EM_S390: return "s390";
	case EM_MIPS: return "MIPS";
	default: return NULL;
	}
}

static int check_header(struct zp_elf *e)
{
	const GElf_Ehdr *h = &e->ehdr;

	if (h->e_machine != EM_X86_64) {
		const char *m = machine_name(h->e_machine);
		if (m)
			return zp_error(e->path, "ELF file for %s: only x86-64 is supported", m);
		return zp_error(e->path, "ELF file for machine %u: only x86-64 is supported", h->e_machine);
	}
	switch (h->e_type) {
	case ET_EXEC:
	case ET_DYN:
		break;
	case ET_REL:
		return zp_error(e->path, "relocatable object file (.o): link it into an executable first");
	case ET_CORE:
		return zp_error(e->path, "core dump, not an executable");
	default:
		return zp_error(e->path, "corrupt ELF header: unknown file type %u", h->e_type);
	}
	if (h->e_version != EV_CURRENT)
		return zp_error(e->path, "corrupt ELF header: e_version is %u", h->e_version);
	if (h->e_ehsize != sizeof(Elf64_Ehdr))
		return zp_error(e->path, "corrupt ELF header: e_ehsize is %u", h->e_ehsize);
	return 0;
}

static int load_phdrs(struct zp_elf *e)
{
	const GElf_Ehdr *h = &e->ehdr;

	if (elf_getphdrnum(e->elf, &e->phnum) != 0)
		return zp_error(e->path, "corrupt program header table: %s", elf_errmsg(-1));
	if (e->phnum == 0)
		return zp_error(e->path, "no program headers: not a loadable executable");
	if (h->e_phentsize != sizeof(Elf64_Phdr))
		return zp_error(e->path, "corrupt ELF header: e_phentsize is %u", h->e_phentsize);
	if (e->phnum > 65536 || !zp_in_range(h->e_phoff, (uint64_t)e->phnum * sizeof(Elf64_Phdr), e->size))
		return zp_error(e->path, "program header table lies outside the file");
	e->phdrs = calloc(e->phnum, sizeof *e->phdrs);
	if (!e->phdrs)
		return zp_error(e->path, "out of memory");
	uint64_t prev_end = 0;
	int nload = 0, exec_entry = 0;
	for (size_t i = 0; i < e->phnum; i++) {
		GElf_Phdr *p = &e->phdrs[i];
		if (!gelf_getphdr(e->elf, (int)i, p))
			return zp_error(e->path, "corrupt program header %zu: %s", i, elf_errmsg(-1));
		if (p->p_type == PT_INTERP)
			e->has_interp = 1;
		if (p->p_type == PT_DYNAMIC)
			e->has_dynamic = 1;
		if (p->p_type != PT_LOAD)
			continue;
		if (!zp_in_range(p->p_offset, p->p_filesz, e->size))
			return zp_error(e->path, "loadable segment %zu lies outside the file "
					"(offset %#lx, size %#lx, file %#zx): truncated?",
					i, (unsigned long)p->p_offset, (unsigned long)p->p_filesz, e->size);
		if (p->p_filesz > p->p_memsz)
			return zp_error(e->path, "corrupt program header %zu: file size above memory size", i);
		if (p->p_align > 1 && (p->p_align & (p->p_align - 1)))
			return zp_error(e->path, "corrupt program header %zu: alignment %#lx is not a power of 2",
					i, (unsigned long)p->p_align);
		if (p->p_align >= PAGE && (p->p_offset - p->p_vaddr) % PAGE)
			return zp_error(e->path, "corrupt program header %zu: offset and address disagree modulo the page size", i);
		if (p->p_vaddr >= (1ull << 47) || p->p_memsz >= (1ull << 47) - p->p_vaddr)
			return zp_error(e->path, "corrupt program header %zu: address beyond the user address space", i);
		if (nload && p->p_vaddr < prev_end)
			return zp_error(e->path, "corrupt program headers: loadable segments overlap or are not sorted");
		prev_end = p->p_vaddr + p->p_memsz;
		nload++;
		if ((p->p_flags & PF_X) && h->e_entry >= p->p_vaddr && h->e_entry < p->p_vaddr + p->p_filesz)
			exec_entry = 1;
	}
	if (!nload)
		return zp_error(e->path, "no loadable segment");
	if (h->e_entry && !exec_entry)
		return zp_error(e->path, "entry point %#lx is not in an executable segment",
				(unsigned long)h->e_entry);
	return 0;
}

/* Each section header, checked against the file. */
static int read_section_headers(struct zp_elf *e)
{
	e->secs = calloc(e->shnum, sizeof *e->secs);
	if (!e->secs)
		return zp_error(e->path, "out of memory");
	for (size_t i = 0; i < e->shnum; i++) {
		struct zp_section *s = &e->secs[i];
		Elf_Scn *scn = elf_getscn(e->elf, i);
		s->index = i;
		if (!scn || !gelf_getshdr(scn, &s->shdr))
			return zp_error(e->path, "corrupt section header %zu: %s", i, elf_errmsg(-1));
		/* SHT_NULL is exempt: the gABI leaves the other fields of an
		 * inactive header undefined, so junk there is no corruption;
		 * zp_elf_section_bytes gives no contents for it. */
		if (s->shdr.sh_type != SHT_NOBITS && s->shdr.sh_type != SHT_NULL &&
		    !zp_in_range(s->shdr.sh_offset, s->shdr.sh_size, e->size))
			return zp_error(e->path, "section %zu lies outside the file (offset %#lx, size %#lx)",
					i, (unsigned long)s->shdr.sh_offset, (unsigned long)s->shdr.sh_size);
	}
	return 0;
}

/* A symbol table's names are in the string table it links to; once that is
 * one (and so inside the file), readers of names need no more checks than
 * the string's own bounds.  The section names likewise. */
static int check_names(struct zp_elf *e)
{
	for (size_t i = 0; i < e->shnum; i++) {
		const GElf_Shdr *sh = &e->secs[i].shdr;
		if (sh->sh_type != SHT_SYMTAB && sh->sh_type != SHT_DYNSYM)
			continue;
		if (sh->sh_link >= e->shnum)
			return zp_error(e->path, "corrupt section header %zu: bad link %u", i, sh->sh_link);
		if (e->secs[sh->sh_link].shdr.sh_type != SHT_STRTAB)
			return zp_error(e->path, "corrupt section header %zu: its symbol names are not in a "
					"string table (link %u)", i, sh->sh_link);
	}
	const struct zp_section *strs = &e->secs[e->shstrndx];
	if (strs->shdr.sh_type != SHT_STRTAB)
		return zp_error(e->path, "corrupt section header table: section names are not a string table");
	for (size_t i = 0; i < e->shnum; i++) {
		const char *n = elf_strptr(e->elf, e->shstrndx, e->secs[i].shdr.sh_name);
		if (!n)
			return zp_error(e->path, "corrupt section header %zu: name outside the name table", i);
		e->secs[i].name = n;
	}
	return 0;
}

static int load_sections(struct zp_elf *e)
{
	const GElf_Ehdr *h = &e->ehdr;

	if (h->e_shoff == 0) {
		e->shnum = 0;
		return 0;
	}
	if (h->e_shentsize != sizeof(Elf64_Shdr))
		return zp_error(e->path, "corrupt ELF header: e_shentsize is %u", h->e_shentsize);
	/* Check the table against the file before asking libelf, which
	 * reports a table that does not fit as no table at all. */
	uint64_t raw = h->e_shnum ? h->e_shnum : 1;   /* 0: the count is in entry 0 */
	if (!zp_in_range(h->e_shoff, raw * sizeof(Elf64_Shdr), e->size))
		return zp_error(e->path, "section header table lies outside the file (offset %#lx): truncated?",
				(unsigned long)h->e_shoff);
	if (elf_getshdrnum(e->elf, &e->shnum) != 0)
		return zp_error(e->path, "corrupt section header table: %s", elf_errmsg(-1));
	if (e->shnum == 0)
		return zp_error(e->path, "corrupt ELF header: a section header table with no entries");
	if (e->shnum > 1000000 || !zp_in_range(h->e_shoff, (uint64_t)e->shnum * sizeof(Elf64_Shdr), e->size))
		return zp_error(e->path, "section header table lies outside the file");
	if (elf_getshdrstrndx(e->elf, &e->shstrndx) != 0 || e->shstrndx >= e->shnum)
		return zp_error(e->path, "corrupt ELF header: bad section name table index");
	if (read_section_headers(e) || check_names(e))
		return -1;
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct zp_symbol *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int load_symbols(struct zp_elf *e)
{
	size_t cap = 0;

	for (size_t i = 0; i < e->shnum; i++) {
		const struct zp_section *s = &e->secs[i];
		if (s->shdr.sh_type != SHT_SYMTAB && s->shdr.sh_type != SHT_DYNSYM)
			continue;
		if (s->shdr.sh_entsize != sizeof(Elf64_Sym))
			return zp_error(e->path, "corrupt symbol table %s: entry size %lu",
					s->name, (unsigned long)s->shdr.sh_entsize);
		Elf_Data *d = elf_getdata(elf_getscn(e->elf, i), NULL);
		if (!d)
			return zp_error(e->path, "corrupt symbol table %s: %s", s->name, elf_errmsg(-1));
		size_t n = s->shdr.sh_size / sizeof(Elf64_Sym);
		for (size_t k = 1; k < n; k++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)k, &sym))
				return zp_error(e->path, "corrupt symbol table %s: %s", s->name, elf_errmsg(-1));
			int t = GELF_ST_TYPE(sym.st_info);
			if ((t != STT_FUNC && t != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
			    sym.st_value == 0)
				continue;
			const char *name = elf_strptr(e->elf, s->shdr.sh_link, sym.st_name);
			if (!name)
				return zp_error(e->path, "corrupt symbol table %s: name outside its string table", s->name);
			if (e->nsyms == cap) {
				cap = cap ? cap * 2 : 1024;
				struct zp_symbol *ns = realloc(e->syms, cap * sizeof *ns);
				if (!ns)
					return zp_error(e->path, "out of memory");
				e->syms = ns;
			}
			e->syms[e->nsyms++] = (struct zp_symbol){ name, sym.st_value, sym.st_size };
		}
	}
	if (e->nsyms)
		qsort(e->syms, e->nsyms, sizeof *e->syms, cmp_sym);
	return 0;
}

static int cmp_code(const void *a, const void *b)
{
	const struct zp_code *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int add_code(struct zp_elf *e, const char *name, uint64_t addr, uint64_t size)
{
	const unsigned char *bytes = zp_elf_bytes_at(e, addr, size);

	if (!bytes)
		return zp_error(e->path, "code section %s is not inside a loadable segment", name);
	struct zp_code *nc = realloc(e->code, (e->ncode + 1) * sizeof *nc);
	if (!nc)
		return zp_error(e->path, "out of memory");
	e->code = nc;
	e->code[e->ncode++] = (struct zp_code){ name, addr, size, bytes };
	return 0;
}

/* Code to scan: the executable sections, or without section headers the
 * file part of each executable segment. */
static int find_code(struct zp_elf *e)
{
	for (size_t i = 0; i < e->shnum; i++) {
		const struct zp_section *s = &e->secs[i];
		if (s->shdr.sh_type != SHT_PROGBITS || s->shdr.sh_size == 0 ||
		    (s->shdr.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) != (SHF_ALLOC | SHF_EXECINSTR))
			continue;
		const GElf_Phdr *p = zp_elf_load_at(e, s->shdr.sh_addr, s->shdr.sh_size);
		if (!p || p->p_offset + (s->shdr.sh_addr - p->p_vaddr) != s->shdr.sh_offset)
			return zp_error(e->path, "corrupt section header: %s is not where its segment maps it", s->name);
		if (!(p->p_flags & PF_X))
			continue;   /* marked executable but mapped without X: never runs */
		if (add_code(e, s->name, s->shdr.sh_addr, s->shdr.sh_size))
			return -1;
	}
	if (e->shnum == 0) {
		/* A name per segment, whatever the number of executable ones. */
		e->loadnames = calloc(e->phnum, sizeof *e->loadnames);
		if (!e->loadnames)
			return zp_error(e->path, "out of memory");
		for (size_t i = 0; i < e->phnum; i++) {
			const GElf_Phdr *p = &e->phdrs[i];
			if (p->p_type != PT_LOAD || !(p->p_flags & PF_X) || !p->p_filesz)
				continue;
			char *name = e->loadnames[i];
			snprintf(name, sizeof e->loadnames[i], "LOAD#%zu", i);
			if (add_code(e, name, p->p_vaddr, p->p_filesz))
				return -1;
		}
	}
	if (e->ncode)
		qsort(e->code, e->ncode, sizeof *e->code, cmp_code);
	for (size_t i = 1; i < e->ncode; i++)
		if (e->code[i].addr < e->code[i - 1].addr + e->code[i - 1].size)
			return zp_error(e->path, "corrupt section headers: code sections %s and %s overlap",
					e->code[i - 1].name, e->code[i].name);
	return 0;
}

int zp_elf_open(const char *path, struct zp_elf *e)
{
	memset(e, 0, sizeof *e);
	e->path = path;
	if (read_file(path, e) || check_ident(e))
		return -1;
	elf_version(EV_CURRENT);
	e->elf = elf_memory((char *)e->bytes, e->size);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF)
		return zp_error(path, "not an ELF file (%s)", elf_errmsg(-1));
	if (!gelf_getehdr(e->elf, &e->ehdr))
		return zp_error(path, "corrupt ELF header: %s", elf_errmsg(-1));
	if (check_header(e) || load_phdrs(e) || load_sections(e) || load_symbols(e) || find_code(e))
		return -1;
	return 0;
}

void zp_elf_close(struct zp_elf *e)
{
	if (e->elf)
		elf_end(e->elf);
	free(e->phdrs);
	free(e->secs);
	free(e->syms);
	free(e->code);
	free(e->loadnames);
	free(e->bytes);
	memset(e, 0, sizeof *e);
}

const struct zp_section *zp_elf_section_by_name(const struct zp_elf *e, const char *name)
{
	for (size_t i = 0; i < e->shnum; i++)
		if (!strcmp(e->secs[i].name, name))
			return &e->secs[i];
	return NULL;
}

const unsigned char *zp_elf_section_bytes(const struct zp_elf *e, const struct zp_section *sec)
{
	/* SHT_NULL and SHT_NOBITS have no contents whatever their offset says
	 * (the gABI leaves an SHT_NULL header's other fields undefined, so
	 * load_sections does not refuse junk there): their offset must never be
	 * used to index the file. */
	if (!sec || sec->shdr.sh_type == SHT_NULL || sec->shdr.sh_type == SHT_NOBITS ||
	    !zp_in_range(sec->shdr.sh_offset, sec->shdr.sh_size, e->size))
		return NULL;
	return e->bytes + sec->shdr.sh_offset;
}

const GElf_Phdr *zp_elf_load_at(const struct zp_elf *e, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < e->phnum; i++) {
		const GElf_Phdr *p = &e->phdrs[i];
		if (p->p_type == PT_LOAD && addr >= p->p_vaddr &&
		    zp_in_range(addr - p->p_vaddr, len, p->p_filesz))
			return p;
	}
	return NULL;
}

int64_t zp_elf_offset_of(const struct zp_elf *e, uint64_t addr, uint64_t len)
{
	const GElf_Phdr *p = zp_elf_load_at(e, addr, len);
	return p ? (int64_t)(p->p_offset + (addr - p->p_vaddr)) : -1;
}

const unsigned char *zp_elf_bytes_at(const struct zp_elf *e, uint64_t addr, uint64_t len)
{
	int64_t off = zp_elf_offset_of(e, addr, len);
	return off < 0 ? NULL : e->bytes + off;
}

const struct zp_symbol *zp_elf_symbol_at(const struct zp_elf *e, uint64_t addr)
{
	/* Last symbol starting at or before addr whose size covers it. */
	size_t lo = 0, hi = e->nsyms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (e->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		const struct zp_symbol *s = &e->syms[i];
		if (addr < s->addr + s->size)
			return s;
		if (addr - s->addr > (1u << 20))
			break;   /* nothing that far back covers it */
	}
	return NULL;
}

int zp_elf_find_symbol(Elf *elf, const char *name, int funcs_only, uint64_t *value)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    sh.sh_entsize != sizeof(Elf64_Sym))
			continue;
		/* libelf checks the table and each name against the file. */
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = d ? d->d_size / sizeof(Elf64_Sym) : 0;
		for (size_t k = 1; k < n; k++) {
			GElf_Sym sym;
			const char *sn;
			int t;
			if (!gelf_getsym(d, (int)k, &sym) || sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS)
				continue;
			t = GELF_ST_TYPE(sym.st_info);
			if (funcs_only && t != STT_FUNC && t != STT_GNU_IFUNC)
				continue;
			if ((sn = elf_strptr(elf, sh.sh_link, sym.st_name)) && !strcmp(sn, name)) {
				*value = sym.st_value;
				return 0;
			}
		}
	}
	return -1;
}

uint64_t zp_elf_symbol_value(const struct zp_elf *e, const char *name)
{
	uint64_t v;
	return zp_elf_find_symbol(e->elf, name, 0, &v) ? 0 : v;
}

uint64_t zp_elf_end_vaddr(const struct zp_elf *e)
{
	uint64_t end = 0;
	for (size_t i = 0; i < e->phnum; i++)
		if (e->phdrs[i].p_type == PT_LOAD && e->phdrs[i].p_vaddr + e->phdrs[i].p_memsz > end)
			end = e->phdrs[i].p_vaddr + e->phdrs[i].p_memsz;
	return end;
}

const GElf_Phdr *zp_elf_first_load(const struct zp_elf *e)
{
	for (size_t i = 0; i < e->phnum; i++)
		if (e->phdrs[i].p_type == PT_LOAD)
			return &e->phdrs[i];
	return NULL;
}
