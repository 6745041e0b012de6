/*
 * symtab.h - names for the code zprewrite adds, for the rewritten file's
 * symbol table.
 *
 * With them a backtrace says zp_entry, zp_dispatch or the hook's function
 * where it would say ??, `break` takes the hook's function names, and perf
 * reports the runtime by name.  The function symbols of the runtime and of
 * the hook are collected here, at the addresses layout.c gave their code;
 * debugsec.c appends them to the input's .symtab (or makes one).  The
 * runtime's names that do not start with zp_ (its memcpy, its static
 * functions) get the prefix zp_rt_: the program may have functions of
 * those names, and `break memcpy` should not stop in the runtime.
 */
#ifndef ZP_SYMTAB_H
#define ZP_SYMTAB_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

/* Symbols to add: Elf64_Sym entries whose st_name are offsets into strs. */
struct zp_symadd {
	Elf64_Sym *syms;
	size_t nsyms, symcap;
	char *strs;              /* starts with "" (offset 0), as a string table */
	size_t strsize, strcap;
};

/* Where an object's symbols go: values in [lo, hi) to value + delta, in
 * the output's section shndx. */
struct zp_symmap {
	uint64_t lo, hi, delta;
	uint16_t shndx;
};

/* Add the function symbols of elf (its .symtab; its .dynsym if it has
 * none) whose values one of map[] covers, as global functions; names not
 * starting with "zp_" get `prefix` in front if it is not NULL.  -1: out of
 * memory. */
int zp_symadd_object(struct zp_symadd *t, Elf *elf, const char *prefix, const struct zp_symmap *map,
		     size_t nmap);
/* Add one global function symbol (zprewrite's own code: the stubs). */
int zp_symadd_one(struct zp_symadd *t, const char *name, uint64_t value, uint64_t size, uint16_t shndx);

/* Add the defined global symbols of a .dynsym (its entries and its string
 * table, as in the output: segment.c may have moved _DYNAMIC) as they
 * are: a file with a .symtab is "not stripped" to gdb and perf, which then
 * ignore .dynsym, so a .symtab made for a stripped file must hold them too.
 * -1: out of memory. */
int zp_symadd_dynamic(struct zp_symadd *t, const unsigned char *syms, size_t size, const char *strs,
		      size_t strsize);
void zp_symadd_free(struct zp_symadd *t);

#endif /* ZP_SYMTAB_H */
