/*
 * main.c - zprewrite's command line.
 *
 * Parses options, runs one pipeline (rewrite.h), and turns the recorded error,
 * if any, into the single stderr line and exit status the project promises:
 * 0 success, 1 bad input or failure, 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "hostreport.h"
#include "page0.h"
#include "rewrite.h"
#include "warn.h"

#ifndef ZP_VERSION
#define ZP_VERSION "unknown"
#endif

static void usage(FILE *to)
{
	fputs("Usage: zprewrite [OPTION]... INPUT OUTPUT\n"
	      "       zprewrite --list [--verify] [--page0=POLICY] [--complete] [--vdso] INPUT\n"
	      "       zprewrite --bundle DIR [OPTION]... PROGRAM\n"
	      "       zprewrite --check-host [--json]\n"
	      "Rewrite every system call site of the x86-64 ELF program INPUT into a call\n"
	      "through a trampoline at address 0 (or, where that page is not to be had, a\n"
	      "slower trap path), and write the result to OUTPUT: the rewritten program\n"
	      "carries its own runtime (and hook) and needs no LD_PRELOAD.\n"
	      "\n"
	      "  -l, --list         print INPUT's system call sites and what would be done\n"
	      "                     with each, then a summary line; write nothing (of a\n"
	      "                     rewritten INPUT: what its rewrite put into it)\n"
	      "  -k, --hook=HOOK    embed HOOK, a shared object built against\n"
	      "                     <zprewrite/hook.h>, that sees every system call\n"
	      "      --verify       cross-check every site with binutils' disassembler\n"
	      "                     (libopcodes); sites it disagrees on are not patched\n"
	      "      --page0=POLICY where the rewritten program puts its trampoline:\n"
	      "                     auto (default): at address 0 if that page can be made\n"
	      "                       execute-only, else the slower trap path;\n"
	      "                     fast: at address 0 whenever it can be mapped (without\n"
	      "                       execute-only memory, reading NULL then does not fault);\n"
	      "                     require: at address 0, or exit with status 127;\n"
	      "                     never: always the trap path\n"
	      "      --complete     also catch the system calls of code no rewriter saw (a\n"
	      "                     JIT, a library loaded from outside a bundle, the vDSO's\n"
	      "                     fallbacks) with Syscall User Dispatch (Linux >= 5.11)\n"
	      "      --vdso         hide the vDSO, so that clock_gettime, gettimeofday, time\n"
	      "                     and getcpu become system calls the hook sees\n"
	      "  -b, --bundle=DIR   rewrite PROGRAM, its dynamic loader and every library it\n"
	      "                     needs into DIR; DIR/PROGRAM then runs hooked from the\n"
	      "                     loader's first system call\n"
	      "  -a, --add-lib=LIB  with --bundle: also bundle LIB (a name or a path) and\n"
	      "                     what it needs, for libraries the program dlopen()s\n"
	      "  -f, --force        with --bundle: replace DIR if it is not empty\n"
	      "      --check-host   say what this machine offers a rewritten program (page 0,\n"
	      "                     execute-only memory...) and the path each policy takes\n"
	      "      --json         with --check-host: the same as one JSON object\n"
	      "  -q, --quiet        do not print warnings\n"
	      "  -h, --help         show this help and exit\n"
	      "  -V, --version      show the version and exit\n"
	      "\n"
	      "OUTPUT is written to a temporary file next to it and renamed into place, with\n"
	      "INPUT's mode bits; INPUT is never modified.  Address 0 needs\n"
	      "vm.mmap_min_addr=0 or CAP_SYS_RAWIO; the environment variable ZP_PAGE0=POLICY\n"
	      "overrides a rewritten program's policy when it runs.\n"
	      "\n"
	      "Exit status: 0 on success, 1 if INPUT cannot be rewritten, 2 on usage errors.\n"
	      "See zprewrite(1) and docs/ for how it works.\n", to);
}

static const char **extra;   /* --add-lib arguments */

static int usage_error(const char *msg)
{
	fprintf(stderr, "zprewrite: %s (try 'zprewrite --help')\n", msg);
	free(extra);
	return 2;
}

/* 0 if everything printed reached stdout, else 1 with the error line. */
static int stdout_written(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "zprewrite: <stdout>: write error\n");
		return 1;
	}
	return 0;
}

/* What the command line asks for. */
struct cmdline {
	struct zp_options o;
	int list, force, check_host, json;
	const char *bundle;
	size_t nextra;              /* in extra[] */
};

static int set_page0(struct zp_options *o, const char *name)
{
	int p = zp_page0_parse(name);

	if (p < 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "--page0: '%.80s' is not one of " ZP_PAGE0_NAMES, name);
		return usage_error(msg);
	}
	o->page0 = (enum zp_page0_policy)p;
	o->page0_given = 1;
	return -1;
}

/* Read the options into cl: -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct cmdline *cl)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "hook", required_argument, NULL, 'k' },
		{ "verify", no_argument, NULL, 'v' },
		{ "page0", required_argument, NULL, 'P' },
		{ "complete", no_argument, NULL, 'c' },
		{ "vdso", no_argument, NULL, 'd' },
		{ "check-host", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "add-lib", required_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:lk:qhVb:a:f", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': cl->list = 1; break;
		case 'b': cl->bundle = optarg; break;
		case 'a': extra[cl->nextra++] = optarg; break;
		case 'f': cl->force = 1; break;
		case 'C': cl->check_host = 1; break;
		case 'J': cl->json = 1; break;
		case 'k': cl->o.hook = optarg; break;
		case 'v': cl->o.verify = 1; break;
		case 'c': cl->o.complete = 1; break;
		case 'd': cl->o.vdso = 1; break;
		case 'P': if ((rc = set_page0(&cl->o, optarg)) >= 0) return rc; break;
		case 'q': zp_quiet = 1; break;
		case 'h': usage(stdout); free(extra); return 0;
		case 'V': printf("zprewrite %s\n", ZP_VERSION); free(extra); return 0;
		case ':': return usage_error("an option needs an argument");
		default: {
			char msg[128];
			if (optopt)
				snprintf(msg, sizeof msg, "unknown option '-%c'", optopt);
			else
				snprintf(msg, sizeof msg, "unknown option '%s'", argv[optind - 1]);
			return usage_error(msg);
		}
		}
	}
	return -1;
}

static int check_host(const struct cmdline *cl, int nargs)
{
	if (nargs || cl->list || cl->bundle || cl->nextra || cl->force || cl->o.hook ||
	    cl->o.verify || cl->o.page0_given || cl->o.complete || cl->o.vdso)
		return usage_error("--check-host takes no other options but --json, and no files");
	free(extra);
	zp_host_report(getenv("ZP_PAGE0"), cl->json, stdout);
	return stdout_written();
}

int main(int argc, char **argv)
{
	struct cmdline cl = { 0 };
	const struct zp_options *o = &cl.o;
	int rc;

	extra = calloc((size_t)argc + 1, sizeof *extra);
	if (!extra) {
		fprintf(stderr, "zprewrite: out of memory\n");
		return 1;
	}
	if ((rc = parse_options(argc, argv, &cl)) >= 0)
		return rc;
	int nargs = argc - optind;
	if (cl.json && !cl.check_host)
		return usage_error("--json goes with --check-host");
	if (cl.check_host)
		return check_host(&cl, nargs);
	if ((cl.nextra || cl.force) && !cl.bundle)
		return usage_error("--add-lib and --force go with --bundle");
	if (cl.bundle) {
		if (cl.list)
			return usage_error("--bundle and --list do not go together");
		if (nargs != 1)
			return usage_error(nargs ? "--bundle takes one PROGRAM" : "missing PROGRAM");
		rc = zp_bundle(cl.bundle, argv[optind], extra, cl.nextra, o, cl.force);
	} else if (cl.list) {
		if (nargs != 1)
			return usage_error(nargs ? "--list takes one INPUT" : "missing INPUT");
		if (o->hook)
			return usage_error("--list and --hook do not go together");
		rc = zp_list_file(argv[optind], o, stdout);
	} else {
		if (nargs != 2)
			return usage_error(nargs < 2 ? "missing INPUT or OUTPUT" : "too many arguments");
		if (!argv[optind][0] || !argv[optind + 1][0])
			return usage_error("empty file name");
		rc = zp_rewrite_file(argv[optind], argv[optind + 1], o);
	}
	free(extra);
	if (rc) {
		const char *msg = zp_error_message();
		fprintf(stderr, "zprewrite: %s\n", msg ? msg : "failed");
		return 1;
	}
	return stdout_written();
}
