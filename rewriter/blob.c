/*
 * blob.c - read the embedded runtime (see blob.h).
 */
#include <gelf.h>
#include <string.h>

#include "blob.h"
#include "elffile.h"
#include "warn.h"
#include "zp_abi.h"

extern const unsigned char zp_runtime_blob[], zp_runtime_blob_end[];

int zp_blob_symbol(const struct zp_blob *b, const char *name, uint64_t *addr)
{
	return zp_elf_find_symbol(b->elf, name, 0, addr);
}

/* The runtime's .debug_frame (runtime.ld keeps it); -1 if it has none. */
static int find_debug_frame(struct zp_blob *b)
{
	Elf *elf = b->elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -1;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(name = elf_strptr(elf, shstrndx, sh.sh_name)) || strcmp(name, ".debug_frame") ||
		    !(d = elf_rawdata(scn, NULL)) || d->d_size != sh.sh_size || !sh.sh_size)
			continue;
		b->debug_frame = d->d_buf;
		b->debug_frame_size = d->d_size;
		return 0;
	}
	return -1;
}

int zp_blob_load(struct zp_blob *b)
{
	size_t size = (size_t)(zp_runtime_blob_end - zp_runtime_blob);
	size_t phnum;

	memset(b, 0, sizeof *b);
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory((char *)zp_runtime_blob, size);
	b->elf = elf;
	if (!elf || elf_getphdrnum(elf, &phnum))
		return zp_error("zprewrite", "the embedded runtime is not a valid ELF file (build problem)");
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr p;
		if (!gelf_getphdr(elf, (int)i, &p) || p.p_type != PT_LOAD)
			continue;
		if (p.p_offset + p.p_filesz > size)
			return zp_error("zprewrite", "the embedded runtime is truncated (build problem)");
		if (p.p_flags & PF_X) {
			b->text = zp_runtime_blob + p.p_offset;
			b->text_vaddr = p.p_vaddr;
			b->text_size = p.p_filesz;
		} else if (p.p_flags & PF_W) {
			b->data = zp_runtime_blob + p.p_offset;
			b->data_vaddr = p.p_vaddr;
			b->data_filesz = p.p_filesz;
			b->data_memsz = p.p_memsz;
		}
	}
	if (!b->text || b->text_vaddr != 0 || b->data_vaddr < b->text_size ||
	    zp_blob_symbol(b, ZP_SYM_START, &b->start) ||
	    zp_blob_symbol(b, ZP_SYM_DESC_OFFSET, &b->desc_offset) || find_debug_frame(b))
		return zp_error("zprewrite", "the embedded runtime lacks its segments, symbols or "
				"unwind tables (build problem)");
	return 0;
}

void zp_blob_free(struct zp_blob *b)
{
	if (b->elf)
		elf_end(b->elf);
	memset(b, 0, sizeof *b);
}
