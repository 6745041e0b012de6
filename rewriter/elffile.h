/*
 * elffile.h - the input file, read and checked through libelf.
 *
 * zp_elf_open() reads a whole file into memory, lets libelf parse it, and
 * checks everything the later stages rely on (header fields, program and
 * section header tables inside the file, loadable segments sane and sorted,
 * code sections inside their segments), so that they can index the bytes
 * without further bounds checks.  Anything wrong is reported through
 * zp_error() as one line saying what is wrong.  The input file itself is only
 * ever read.
 */
#ifndef ZP_ELFFILE_H
#define ZP_ELFFILE_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

struct zp_section {
	size_t index;
	const char *name;            /* "" if the file has no names */
	GElf_Shdr shdr;
};

/* A function-like symbol (STT_FUNC, STT_GNU_IFUNC) from .symtab or .dynsym. */
struct zp_symbol {
	const char *name;
	uint64_t addr, size;
};

/* A stretch of code: an executable section, or, in a file without section
 * headers, the file part of an executable PT_LOAD. */
struct zp_code {
	const char *name;            /* section name, or "LOAD#n" */
	uint64_t addr, size;
	const unsigned char *bytes;  /* into zp_elf.bytes */
};

struct zp_elf {
	const char *path;
	unsigned char *bytes;        /* the whole file */
	size_t size;
	Elf *elf;
	GElf_Ehdr ehdr;
	size_t phnum;
	GElf_Phdr *phdrs;
	size_t shnum;                /* 0 if there is no section header table */
	size_t shstrndx;
	struct zp_section *secs;
	struct zp_symbol *syms;      /* sorted by address */
	size_t nsyms;
	struct zp_code *code;        /* sorted by address */
	size_t ncode;
	int has_interp;              /* PT_INTERP: a dynamically linked program */
	int has_dynamic;             /* PT_DYNAMIC */
	char (*loadnames)[32];       /* "LOAD#n" names, one per program header */
};

/* [off, off + len) lies inside a buffer of `size` bytes (no overflow). */
int zp_in_range(uint64_t off, uint64_t len, uint64_t size);

int zp_elf_open(const char *path, struct zp_elf *e);
void zp_elf_close(struct zp_elf *e);

const struct zp_section *zp_elf_section_by_name(const struct zp_elf *e, const char *name);

/* The contents of a section in the file, sh_size bytes; NULL if it has none
 * (SHT_NULL, SHT_NOBITS) or they are not inside the file.  Every reader of
 * section contents goes through this, never through sh_offset directly. */
const unsigned char *zp_elf_section_bytes(const struct zp_elf *e, const struct zp_section *sec);

/* The PT_LOAD whose file-backed part holds [addr, addr + len), or NULL. */
const GElf_Phdr *zp_elf_load_at(const struct zp_elf *e, uint64_t addr, uint64_t len);

/* File offset of addr in the file-backed part of a PT_LOAD, or -1. */
int64_t zp_elf_offset_of(const struct zp_elf *e, uint64_t addr, uint64_t len);

/* The file's bytes at [addr, addr + len), or NULL if not all in the file. */
const unsigned char *zp_elf_bytes_at(const struct zp_elf *e, uint64_t addr, uint64_t len);

/* The named function symbol containing addr (the closest start), or NULL. */
const struct zp_symbol *zp_elf_symbol_at(const struct zp_elf *e, uint64_t addr);

/* The value of the first symbol called `name` in elf's .symtab or .dynsym
 * that is defined in a section (not undefined, not absolute), of a function
 * type (STT_FUNC, STT_GNU_IFUNC) if funcs_only, else of any type; -1 if there
 * is none.  The one lookup by name, for any Elf (the embedded runtime's too). */
int zp_elf_find_symbol(Elf *elf, const char *name, int funcs_only, uint64_t *value);

/* zp_elf_find_symbol of any type in e; 0 if none. */
uint64_t zp_elf_symbol_value(const struct zp_elf *e, const char *name);

/* One past the highest address of any PT_LOAD. */
uint64_t zp_elf_end_vaddr(const struct zp_elf *e);

/* First PT_LOAD (lowest address), for the load-address arithmetic. */
const GElf_Phdr *zp_elf_first_load(const struct zp_elf *e);

#endif /* ZP_ELFFILE_H */
