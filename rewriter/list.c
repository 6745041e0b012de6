/*
 * list.c - `zprewrite --list`: one line per site and a summary.
 *
 * Columns: address, instruction, section, location (symbol+offset; for code
 * known only from .eh_frame "fde@START+off", for swept code "sweep@START+off"),
 * decision and reason.  Byte pairs that turned out to be inside another
 * instruction are listed too (decision "none"), so that the list accounts for
 * every 0f 05 / 0f 34 in the code.  The format is stable: tests compare it
 * with golden files.  With --page0, the summary line ends with the policy
 * the output would carry ("; page0 never"), and so on with --complete and
 * --vdso ("; complete", "; vdso").
 */
#include <inttypes.h>
#include <stdio.h>

#include "rewrite.h"

static const char *insn_name(const struct zp_site *s)
{
	switch (s->kind) {
	case ZP_INSN_SYSCALL: return "syscall";
	case ZP_INSN_SYSENTER: return "sysenter";
	default: return "-";
	}
}

static const char *decision_name(enum zp_decision d)
{
	switch (d) {
	case ZP_PATCH: return "patch";
	case ZP_STUB: return "stub";
	case ZP_SKIP: return "skip";
	default: return "none";
	}
}

static void location(const struct zp_analysis *a, const struct zp_site *s, char *buf, size_t size)
{
	const struct zp_symbol *sym = zp_elf_symbol_at(&a->elf, s->addr);

	if (sym)
		snprintf(buf, size, "%s+%#" PRIx64, sym->name, s->addr - sym->addr);
	else if (s->found == ZP_FOUND_SWEEP)
		snprintf(buf, size, "sweep@%#" PRIx64 "+%#" PRIx64, s->decode_start, s->addr - s->decode_start);
	else if (s->decode_start)
		snprintf(buf, size, "fde@%#" PRIx64 "+%#" PRIx64, s->decode_start, s->addr - s->decode_start);
	else
		snprintf(buf, size, "?");
}

void zp_list_print(const struct zp_analysis *a, const struct zp_options *o, FILE *to)
{
	char loc[256], why[256];

	fprintf(to, "%-18s  %-8s  %-18s  %-40s  %-8s  %s\n",
		"# address", "insn", "section", "location", "decision", "reason");
	for (size_t i = 0; i < a->sites.n; i++) {
		const struct zp_site *s = &a->sites.v[i];
		location(a, s, loc, sizeof loc);
		if (s->decision == ZP_NOT_INSN)
			snprintf(why, sizeof why, "%s (%s at %#" PRIx64 ")", s->reason,
				 s->enclosing_mnemonic ? zp_mnemonic_name(s->enclosing_mnemonic) : "bad bytes",
				 s->enclosing);
		else if (s->decision == ZP_PATCH)
			snprintf(why, sizeof why, "%s (%s)", s->reason, s->func_source);
		else if (s->decision == ZP_STUB && s->stub_kind == ZP_STUB_REDZONE)
			snprintf(why, sizeof why, "%s (data used at %#" PRIx64 "; moves %#" PRIx64 "..%#" PRIx64 ")",
				 s->reason, s->slot_user, s->win_start, s->win_start + s->win_len);
		else if (s->decision == ZP_STUB)
			snprintf(why, sizeof why, "%s (moves %#" PRIx64 "..%#" PRIx64 ")",
				 s->reason, s->win_start, s->win_start + s->win_len);
		else if (s->slot_user)
			snprintf(why, sizeof why, "%s (at %#" PRIx64 ")", s->reason, s->slot_user);
		else
			snprintf(why, sizeof why, "%s", s->reason);
		fprintf(to, "%#018" PRIx64 "  %-8s  %-18s  %-40s  %-8s  %s\n", s->addr, insn_name(s),
			s->code->name, loc, decision_name(s->decision), why);
	}
	struct zp_site_counts c = zp_sites_count(&a->sites);
	fprintf(to, "# summary: %zu sites: %zu patched (%zu through stubs), %zu skipped "
		"(%zu found by linear sweep); %zu byte pairs inside other instructions",
		c.sites, c.patched + c.stubs, c.stubs, c.skipped, c.by_sweep, c.not_insn);
	/* Only when asked: the golden files hold the line without it. */
	if (o->page0_given)
		fprintf(to, "; page0 %s", zp_page0_name(o->page0));
	if (o->complete)
		fputs("; complete", to);
	if (o->vdso)
		fputs("; vdso", to);
	fputc('\n', to);
}
