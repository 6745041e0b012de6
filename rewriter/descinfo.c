/*
 * descinfo.c - describe the descriptor of an already rewritten file (see
 * descinfo.h).
 *
 * The descriptor is at the start of the PT_LOAD that begins with ZP_MAGIC
 * (as zp_segment_is_rewritten finds it).  Interface version 1 has the same
 * layout without the page-0 policy (its runtime always needed page 0);
 * other versions are named but not interpreted.
 */
#include <inttypes.h>
#include <string.h>

#include "descinfo.h"
#include "page0.h"
#include "warn.h"
#include "zp_abi.h"

/* The PT_LOAD that starts with the descriptor, or NULL.  (segment.c's
 * zp_segment_is_rewritten makes the same test; it could call this once the
 * refactoring of segment.c has settled.) */
static const GElf_Phdr *desc_segment(const struct zp_elf *e)
{
	for (size_t i = 0; i < e->phnum; i++) {
		const GElf_Phdr *p = &e->phdrs[i];
		if (p->p_type == PT_LOAD && p->p_filesz >= ZP_MAGIC_LEN &&
		    !memcmp(e->bytes + p->p_offset, ZP_MAGIC, ZP_MAGIC_LEN))
			return p;
	}
	return NULL;
}

static void print_hook(const struct zp_desc *d, FILE *to)
{
	if (!(d->flags & ZP_DESC_HOOK)) {
		fputs("# hook: none (calls go through unchanged)\n", to);
		return;
	}
	const struct { uint64_t at; const char *name; } ep[] = {
		{ d->hook_init, "zp_hook_init" }, { d->hook_enter, "zp_hook_enter" },
		{ d->hook_leave, "zp_hook_leave" }, { d->hook_exit, "zp_hook_exit" },
	};
	const char *sep = "";
	fputs("# hook: embedded (", to);
	for (size_t i = 0; i < sizeof ep / sizeof ep[0]; i++)
		if (ep[i].at) {
			fprintf(to, "%s%s", sep, ep[i].name);
			sep = ", ";
		}
	fprintf(to, "%s)\n", d->flags & ZP_DESC_HOOK_XSAVE ? "; vector registers saved around it" : "");
}

static void print_known(const struct zp_desc *d, FILE *to)
{
	enum zp_page0_policy p = zp_page0_of_flags(d->flags);

	if (d->abi_version == 1)
		fputs("# page0: require (interface version 1 has no policy: its runtime "
		      "always needs page 0)\n", to);
	else
		fprintf(to, "# page0: %s (%s; ZP_PAGE0 overrides it at run time)\n",
			zp_page0_name(p), zp_page0_meaning(p));
	print_hook(d, to);
	if (d->flags & ZP_DESC_COMPLETE)
		fputs("# complete: Syscall User Dispatch catches the calls of code no rewriter saw "
		      "(where the kernel has it)\n", to);
	if (d->flags & ZP_DESC_VDSO)
		fputs("# vdso: hidden from the program: its functions are system calls the hook sees\n", to);
	fprintf(to, "# sites: %" PRIu32, d->nsites);
	if (d->nsites)
		fprintf(to, " in %#" PRIx64 "..%#" PRIx64, d->site_base, d->site_end);
	fputc('\n', to);
	if (d->flags & ZP_DESC_ENTRY)
		fprintf(to, "# entry: the runtime's initializer, then the original %#" PRIx64 "\n",
			d->orig_entry);
	else
		fputs("# entry: unchanged (the runtime starts from the loader's call)\n", to);
	if (d->loader_r_debug)
		fprintf(to, "# loader: its list of loaded objects (_r_debug) is at %#" PRIx64 "\n",
			d->loader_r_debug);
	fprintf(to, "# summary: already rewritten: %" PRIu32 " sites, page0 %s, %s%s%s\n", d->nsites,
		d->abi_version == 1 ? "require" : zp_page0_name(p),
		d->flags & ZP_DESC_HOOK ? "hook embedded" : "no hook",
		d->flags & ZP_DESC_COMPLETE ? ", complete" : "",
		d->flags & ZP_DESC_VDSO ? ", vdso" : "");
}

int zp_descinfo_list(const struct zp_elf *e, FILE *to)
{
	const GElf_Phdr *seg = desc_segment(e);
	struct zp_desc d;

	if (!seg || seg->p_filesz < sizeof d)
		return zp_error(e->path, "zprewrite's descriptor is cut short");
	memcpy(&d, e->bytes + seg->p_offset, sizeof d);
	fprintf(to, "# rewritten by zprewrite: descriptor at %#" PRIx64 ", interface version %" PRIu32 "\n",
		seg->p_vaddr, d.abi_version);
	if (d.abi_version != 1 && d.abi_version != ZP_ABI_VERSION) {
		fprintf(to, "# summary: already rewritten, by a zprewrite with interface version %" PRIu32
			" (this one reads versions 1 and %d)\n", d.abi_version, ZP_ABI_VERSION);
		return 0;
	}
	print_known(&d, to);
	return 0;
}
