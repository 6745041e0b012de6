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
	      "       zprewrite --list [--verify] INPUT\n"
	      "       zprewrite --bundle DIR [OPTION]... PROGRAM\n"
	      "Rewrite every system call site of the x86-64 ELF program INPUT into a call\n"
	      "through a trampoline at address 0, and write the result to OUTPUT: the\n"
	      "rewritten program carries its own runtime (and hook) and needs no LD_PRELOAD.\n"
	      "\n"
	      "  -l, --list         print INPUT's system call sites and what would be done\n"
	      "                     with each, then a summary line; write nothing\n"
	      "  -k, --hook=HOOK    embed HOOK, a shared object built against\n"
	      "                     <zprewrite/hook.h>, that sees every system call\n"
	      "      --verify       cross-check every site with binutils' disassembler\n"
	      "                     (libopcodes); sites it disagrees on are not patched\n"
	      "  -b, --bundle=DIR   rewrite PROGRAM, its dynamic loader and every library it\n"
	      "                     needs into DIR; DIR/PROGRAM then runs hooked from the\n"
	      "                     loader's first system call\n"
	      "  -a, --add-lib=LIB  with --bundle: also bundle LIB (a name or a path) and\n"
	      "                     what it needs, for libraries the program dlopen()s\n"
	      "  -f, --force        with --bundle: replace DIR if it is not empty\n"
	      "  -q, --quiet        do not print warnings\n"
	      "  -h, --help         show this help and exit\n"
	      "  -V, --version      show the version and exit\n"
	      "\n"
	      "OUTPUT is written to a temporary file next to it and renamed into place, with\n"
	      "INPUT's mode bits; INPUT is never modified.  A rewritten program maps its\n"
	      "trampoline at address 0 when it starts, which needs vm.mmap_min_addr=0 or\n"
	      "CAP_SYS_RAWIO.\n"
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "hook", required_argument, NULL, 'k' },
		{ "verify", no_argument, NULL, 'v' },
		{ "page0", required_argument, NULL, 'P' },
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
	struct zp_options o = { 0 };
	int list = 0, force = 0, check_host = 0, json = 0, c;
	const char *bundle = NULL;
	size_t nextra = 0;

	extra = calloc((size_t)argc + 1, sizeof *extra);
	if (!extra) {
		fprintf(stderr, "zprewrite: out of memory\n");
		return 1;
	}

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:lk:qhVb:a:f", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': list = 1; break;
		case 'b': bundle = optarg; break;
		case 'a': extra[nextra++] = optarg; break;
		case 'f': force = 1; break;
		case 'C': check_host = 1; break;
		case 'J': json = 1; break;
		case 'k': o.hook = optarg; break;
		case 'v': o.verify = 1; break;
		case 'P': {
			int p = zp_page0_parse(optarg);
			if (p < 0) {
				char msg[160];
				snprintf(msg, sizeof msg, "--page0: '%.80s' is not a policy (" ZP_PAGE0_NAMES ")", optarg);
				return usage_error(msg);
			}
			o.page0 = (enum zp_page0_policy)p;
			o.page0_given = 1;
			break;
		}
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
	int nargs = argc - optind;
	int rc;
	if (json && !check_host)
		return usage_error("--json goes with --check-host");
	if (check_host) {
		if (nargs || list || bundle || nextra || force || o.hook || o.verify || o.page0_given)
			return usage_error("--check-host takes no other options but --json, and no files");
		free(extra);
		zp_host_report(getenv("ZP_PAGE0"), json, stdout);
		return stdout_written();
	}
	if ((nextra || force) && !bundle)
		return usage_error("--add-lib and --force go with --bundle");
	if (bundle) {
		if (list)
			return usage_error("--bundle and --list do not go together");
		if (nargs != 1)
			return usage_error(nargs ? "--bundle takes one PROGRAM" : "missing PROGRAM");
		rc = zp_bundle(bundle, argv[optind], extra, nextra, &o, force);
	} else if (list) {
		if (nargs != 1)
			return usage_error(nargs ? "--list takes one INPUT" : "missing INPUT");
		if (o.hook)
			return usage_error("--list and --hook do not go together");
		rc = zp_list_file(argv[optind], &o, stdout);
	} else {
		if (nargs != 2)
			return usage_error(nargs < 2 ? "missing INPUT or OUTPUT" : "too many arguments");
		if (!argv[optind][0] || !argv[optind + 1][0])
			return usage_error("empty file name");
		rc = zp_rewrite_file(argv[optind], argv[optind + 1], &o);
	}
	free(extra);
	if (rc) {
		const char *msg = zp_error_message();
		fprintf(stderr, "zprewrite: %s\n", msg ? msg : "failed");
		return 1;
	}
	return stdout_written();
}
