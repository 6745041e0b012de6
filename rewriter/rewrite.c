/*
 * rewrite.c - run the pipeline of rewrite.h on one file.
 */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blob.h"
#include "decide.h"
#include "descinfo.h"
#include "dynamic.h"
#include "embed.h"
#include "image.h"
#include "layout.h"
#include "output.h"
#include "patch.h"
#include "rewrite.h"
#include "segment.h"
#include "verify.h"
#include "warn.h"

/* The analysis of a file that zp_elf_open has read. */
static int analyze_code(const struct zp_options *o, struct zp_analysis *a)
{
	a->dec = zp_decoder_new();
	if (!a->dec)
		return zp_error(a->elf.path, "cannot set up the Zydis decoder");
	if (zp_funcs_collect(&a->elf, &a->funcs) ||
	    zp_sites_find(&a->elf, &a->funcs, a->dec, &a->sites) ||
	    zp_decide(&a->elf, &a->funcs, a->dec, &a->sites))
		return -1;
	if (o->verify && zp_verify_sites(&a->elf, &a->sites) < 0)
		return -1;
	return 0;
}

int zp_analyze(const char *path, const struct zp_options *o, struct zp_analysis *a)
{
	memset(a, 0, sizeof *a);
	if (zp_elf_open(path, &a->elf))
		return -1;
	if (zp_segment_is_rewritten(&a->elf))
		return zp_error(path, "already rewritten by zprewrite; rewrite the original file instead");
	return analyze_code(o, a);
}

void zp_analysis_free(struct zp_analysis *a)
{
	zp_sites_free(&a->sites);
	zp_funcs_free(&a->funcs);
	zp_decoder_free(a->dec);
	zp_elf_close(&a->elf);
}

/* A file that is already rewritten has no sites to decide: --list says
 * what its rewrite put into it instead. */
int zp_list_file(const char *in, const struct zp_options *o, FILE *to)
{
	struct zp_analysis a;
	int rc;

	memset(&a, 0, sizeof a);
	rc = zp_elf_open(in, &a.elf);
	if (rc == 0 && zp_segment_is_rewritten(&a.elf)) {
		if (o->page0_given)
			zp_warn(in, "already rewritten: --page0 applies to a rewrite of the original");
		rc = zp_descinfo_list(&a.elf, to);
	} else if (rc == 0 && (rc = analyze_code(o, &a)) == 0) {
		zp_list_print(&a, o, to);
	}
	zp_analysis_free(&a);
	return rc;
}

/* A library path with $ORIGIN means "the directory of the program file":
 * written elsewhere, the program looks for its libraries there (patchelf's
 * users know this; zprewrite's may not expect it from a rewrite). */
static void warn_moved_origin(const struct zp_elf *e, const char *in, const char *out)
{
	const char *rpath, *runpath;
	if (zp_dynamic_needed(e, NULL, NULL, &rpath, &runpath)) {
		zp_error_clear();   /* (reported by the rewrite itself, if it matters) */
		return;
	}
	const char *path = runpath ? runpath : rpath;
	if (!path || (!strstr(path, "$ORIGIN") && !strstr(path, "${ORIGIN}")))
		return;
	/* The loader takes $ORIGIN from the program's resolved path. */
	char in_real[PATH_MAX], out_real[PATH_MAX];
	if (!realpath(in, in_real) || !realpath(out, out_real))
		return;
	const char *in_dir = dirname(in_real), *out_dir = dirname(out_real);
	if (!strcmp(in_dir, out_dir))
		return;
	zp_warn(out, "its library path '%s' is relative to its own directory ($ORIGIN), now %s, "
		"not %s: write it next to the input or use --bundle", path, out_dir, in_dir);
}

/* The bits of zp_desc.flags the options decide. */
static uint32_t zp_desc_flags(const struct zp_options *o)
{
	return zp_page0_flags(o->page0) | (o->complete ? ZP_DESC_COMPLETE : 0) |
	       (o->vdso ? ZP_DESC_VDSO : 0);
}

int zp_rewrite_file(const char *in, const char *out, const struct zp_options *o)
{
	struct zp_analysis a;
	struct zp_blob blob;
	struct zp_embed hook;   /* zeroed: freeing it is always safe */
	struct zp_image im = { 0 };
	struct zp_layout layout = { 0 };
	struct zp_dynedit dyn = { .interp = o->interp, .search = o->search, .needed_dir = o->needed_dir };
	struct stat st;
	int have_hook = 0, rc = -1;

	memset(&a, 0, sizeof a);
	memset(&blob, 0, sizeof blob);
	memset(&hook, 0, sizeof hook);
	if (zp_output_check(in, out) || zp_analyze(in, o, &a))
		goto out_analysis;
	if (stat(in, &st) < 0) {
		zp_error(in, "cannot stat");
		goto out_analysis;
	}
	if (zp_blob_load(&blob))
		goto out;
	if (o->hook) {
		have_hook = 1;
		if (zp_embed_load(o->hook, &blob, &hook))
			goto out;
	}
	if (zp_image_init(&im, a.elf.bytes, a.elf.size)) {
		zp_error(in, "out of memory");
		goto out;
	}
	if (o->interp && !a.elf.has_interp) {
		zp_error(in, "has no interpreter to replace");
		goto out;
	}
	const struct zp_embed *h = have_hook ? &hook : NULL;
	if (zp_dynedit_prepare(&a.elf, &dyn) ||
	    zp_layout_plan(&a.elf, &blob, &a.sites, h, &dyn, &layout) ||
	    zp_patch_sites(&a.elf, &a.sites, layout.stub_vaddr, &im) ||
	    zp_segment_add(&a.elf, &blob, &a.sites, h, &dyn, &layout, zp_desc_flags(o), &im) ||
	    zp_output_write(out, st.st_mode, im.buf, im.size))
		goto out;
	if (!o->search)   /* (a bundle sets its own path) */
		warn_moved_origin(&a.elf, in, out);
	rc = 0;
out:
	zp_layout_free(&layout);
	zp_dynedit_free(&dyn);
	zp_image_free(&im);
	if (have_hook)
		zp_embed_free(&hook);
	zp_blob_free(&blob);
out_analysis:
	zp_analysis_free(&a);
	return rc;
}
