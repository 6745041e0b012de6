/*
 * hostreport.c - the report of `zprewrite --check-host` (see hostreport.h).
 *
 * The probes' answers (hostcheck.c) become a list of facts, each a key, a
 * value (text, number, yes/no, or unknown) and an optional note; the text
 * form prints each as "key: value (note)", the JSON form as "key": value and
 * "key_note": "note", so that both say exactly the same.  The path lines
 * apply the page-0 policies (page0.h) to the facts the way the runtime does:
 * page 0 needs a successful mapping; auto also needs execute-only memory.
 */
#define _GNU_SOURCE   /* strerrorname_np */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostcheck.h"
#include "hostreport.h"
#include "page0.h"

enum fact_kind { FACT_TEXT, FACT_NUM, FACT_BOOL };

struct fact {
	const char *key;
	enum fact_kind kind;
	int known;               /* 0: JSON null, text null_text */
	const char *null_text;   /* "unknown" unless said otherwise */
	const char *text;
	long long num;           /* FACT_NUM, and FACT_BOOL (0 or 1) */
	char note[200];          /* "" for none */
};

#define MAX_FACTS 20

struct report {
	struct fact f[MAX_FACTS];
	size_t n;
};

static struct fact *add(struct report *r, const char *key, enum fact_kind kind, int known)
{
	struct fact *f = &r->f[r->n++];
	memset(f, 0, sizeof *f);
	f->key = key;
	f->kind = kind;
	f->known = known;
	f->null_text = "unknown";
	return f;
}

static const char *errname(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "an unknown error";
}

/* A probe's answer as a yes/no fact; call: what failed with an errno, for
 * the note of a no; notes for yes and no. */
static struct fact *add_probe(struct report *r, const char *key, const struct zp_probe *p,
			      const char *call, const char *yes_note, const char *no_note)
{
	struct fact *f = add(r, key, FACT_BOOL, p->answer >= 0);
	f->num = p->answer > 0;
	if (p->answer < 0)
		snprintf(f->note, sizeof f->note, "%s", p->how);
	else if (p->answer > 0 && yes_note)
		snprintf(f->note, sizeof f->note, "%s", yes_note);
	else if (p->answer == 0 && p->err)
		snprintf(f->note, sizeof f->note, "%s: %s%s%s", call, errname(p->err),
			 no_note ? "; " : "", no_note ? no_note : "");
	else if (p->answer == 0 && no_note)
		snprintf(f->note, sizeof f->note, "%s", no_note);
	return f;
}

/* Why page 0 can or cannot be mapped, from the errno and the settings. */
static void page0_note(const struct zp_host *h, struct fact *f)
{
	const struct zp_probe *p = &h->page0;
	long long min = h->mmap_min_addr;

	if (p->answer > 0)
		snprintf(f->note, sizeof f->note, "%s", min == 0 ? "vm.mmap_min_addr is 0" :
			 h->cap_sys_rawio > 0 ? "this process has CAP_SYS_RAWIO" : "");
	else if (p->answer < 0)
		snprintf(f->note, sizeof f->note, "%s", p->how);
	else if (p->elsewhere)
		snprintf(f->note, sizeof f->note, "the kernel put the mapping elsewhere "
			 "(before Linux 4.17, MAP_FIXED_NOREPLACE is only a hint)");
	else if (p->err == EPERM && min > 0 && h->cap_sys_rawio == 0)
		snprintf(f->note, sizeof f->note, "EPERM: vm.mmap_min_addr is %lld and this process "
			 "lacks CAP_SYS_RAWIO", min);
	else if (p->err == EPERM || p->err == EACCES)
		snprintf(f->note, sizeof f->note, "%s: refused by a security module "
			 "(SELinux: setsebool -P mmap_low_allowed 1)", errname(p->err));
	else if (p->err == EEXIST)
		snprintf(f->note, sizeof f->note, "EEXIST: address 0 is already mapped "
			 "(personality MMAP_PAGE_ZERO?)");
	else
		snprintf(f->note, sizeof f->note, "%s", errname(p->err));
}

#define PATH_XO       "page 0 (execute-only)"
#define PATH_READABLE "page 0 (readable: NULL reads return trampoline bytes)"
#define PATH_TRAP     "trap path"
#define PATH_REFUSE   "refuses: exit 127"

/* Where a program with policy p starts on this machine (an unknown answer
 * counts as no: the runtime does not take page 0 on a guess). */
static const char *path_of(enum zp_page0_policy p, const struct zp_host *h)
{
	if (p == ZP_PAGE0_NEVER)
		return PATH_TRAP;
	if (h->page0.answer <= 0)
		return p == ZP_PAGE0_REQUIRE ? PATH_REFUSE : PATH_TRAP;
	if (h->exec_only.answer > 0)
		return PATH_XO;
	return p == ZP_PAGE0_AUTO ? PATH_TRAP : PATH_READABLE;
}

static void add_paths(struct report *r, const struct zp_host *h)
{
	static const char *const keys[] = {
		[ZP_PAGE0_AUTO] = "path_auto", [ZP_PAGE0_FAST] = "path_fast",
		[ZP_PAGE0_REQUIRE] = "path_require", [ZP_PAGE0_NEVER] = "path_never",
	};
	for (int p = 0; p < 4; p++)
		add(r, keys[p], FACT_TEXT, 1)->text = path_of((enum zp_page0_policy)p, h);
}

static void add_env(struct report *r, const struct zp_host *h, const char *env)
{
	struct fact *f = add(r, "zp_page0", FACT_TEXT, env != NULL);
	f->null_text = "not set";
	f->text = env;
	if (!env) {
		snprintf(f->note, sizeof f->note, "each program takes the path of its own policy");
		return;
	}
	int p = zp_page0_parse(env);
	if (p < 0)
		snprintf(f->note, sizeof f->note, "not one of " ZP_PAGE0_NAMES);
	else
		snprintf(f->note, sizeof f->note, "overrides every program's policy: %s",
			 path_of((enum zp_page0_policy)p, h));
}

static void collect(struct report *r, const struct zp_host *h, const char *env)
{
	struct fact *f = add(r, "kernel", FACT_TEXT, h->kernel[0] != 0);
	f->text = h->kernel;
	f = add(r, "mmap_min_addr", FACT_NUM, h->mmap_min_addr >= 0);
	f->num = h->mmap_min_addr;
	if (h->mmap_min_addr < 0)
		snprintf(f->note, sizeof f->note, "/proc/sys/vm/mmap_min_addr: %s", strerror(h->min_addr_err));
	f = add(r, "cap_sys_rawio", FACT_BOOL, h->cap_sys_rawio >= 0);
	f->num = h->cap_sys_rawio > 0;
	page0_note(h, add_probe(r, "page0_mappable", &h->page0, "mmap", NULL, NULL));
	add_probe(r, "execute_only", &h->exec_only, NULL, "reading a PROT_EXEC page faults",
		  "a PROT_EXEC page can be read");
	add_probe(r, "pkeys", &h->pkeys, "pkey_alloc", NULL,
		  "no protection keys in this CPU or kernel");
	add_probe(r, "syscall_user_dispatch", &h->sud, "prctl", NULL,
		  h->sud.err == EINVAL ? "not supported: needs Linux 5.11 or later" : NULL);
	add_paths(r, h);
	f = add(r, "path_complete", FACT_TEXT, h->sud.answer >= 0);
	f->text = h->sud.answer > 0 ? "caught: Syscall User Dispatch sends calls of code no rewriter saw to the hook"
				    : "not caught: no Syscall User Dispatch here, --complete does nothing";
	add_env(r, h, env);
}

/* A value from outside (ZP_PAGE0) must not break the one-line-per-fact form. */
static void put_line_safe(const char *s, FILE *to)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, to);
}

static void json_string(const char *s, FILE *to)
{
	fputc('"', to);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(to, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(to, "\\u%04x", *p);
		else
			fputc(*p, to);
	}
	fputc('"', to);
}

/* How values look in one of the two forms. */
struct form {
	const char *null;        /* NULL: the fact's own null_text */
	const char *yes, *no;
	void (*string)(const char *s, FILE *to);
};
static const struct form text_form = { NULL, "yes", "no", put_line_safe };
static const struct form json_form = { "null", "true", "false", json_string };

static void put_value(const struct fact *f, const struct form *fm, FILE *to)
{
	if (!f->known)
		fputs(fm->null ? fm->null : f->null_text, to);
	else if (f->kind == FACT_TEXT)
		fm->string(f->text, to);
	else if (f->kind == FACT_NUM)
		fprintf(to, "%lld", f->num);
	else
		fputs(f->num ? fm->yes : fm->no, to);
}

static void print_text(const struct report *r, FILE *to)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct fact *f = &r->f[i];
		fprintf(to, "%s: ", f->key);
		put_value(f, &text_form, to);
		if (f->note[0])
			fprintf(to, " (%s)", f->note);
		fputc('\n', to);
	}
}

static void print_json(const struct report *r, FILE *to)
{
	fputs("{\n", to);
	for (size_t i = 0; i < r->n; i++) {
		const struct fact *f = &r->f[i];
		fprintf(to, "  \"%s\": ", f->key);
		put_value(f, &json_form, to);
		if (f->note[0]) {
			fprintf(to, ",\n  \"%s_note\": ", f->key);
			json_string(f->note, to);
		}
		fputs(i + 1 < r->n ? ",\n" : "\n", to);
	}
	fputs("}\n", to);
}

void zp_host_report(const char *zp_page0_env, int json, FILE *to)
{
	struct zp_host h;
	struct report r;

	zp_host_probe(&h);
	r.n = 0;
	collect(&r, &h, zp_page0_env);
	if (json)
		print_json(&r, to);
	else
		print_text(&r, to);
}
