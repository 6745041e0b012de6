/*
 * interleave.c - time the start-up of several commands, run alternately.
 *
 * hyperfine runs all the runs of one command before the next command, so on
 * a shared machine a busy phase can fall on one side of a comparison only.
 * This runs command A, then B (then C...), then A again, and so on, the first
 * command of each round rotating, and records every run: its wall time (fork
 * to the end of wait, as hyperfine measures) and the CPU time the child used
 * (user + system, from wait4's rusage), which counts no time spent waiting
 * for a CPU, and its minor page faults.  bench/report.py pairs the runs of
 * one round.
 *
 * Usage: interleave [-n RUNS] [-w WARMUP] [-o FILE] -- CMD [ARG...] -- CMD [ARG...] ...
 *   -n RUNS    measured rounds (default 1000)
 *   -w WARMUP  unrecorded rounds first (default 20)
 *   -o FILE    output (default stdout): lines "cmd round wall_ns cpu_ns minflt",
 *              where cmd is the command's index (0, 1, ...) in the order given
 * Commands are run with execvp, stdin/stdout/stderr on /dev/null; a command
 * that fails (nonzero status or a signal) stops the measurement with an error.
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o interleave bench/interleave.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "interleave"
#include "benchutil.h"

#define MAXCMD 8

/* Run argv once; return its wall time, its CPU time in *cpu and its minor
 * page faults in *flt. */
static double run_once(char **argv, int devnull, double *cpu, long *flt)
{
	double t0 = wall_ns();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	double t = wall_ns() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("%s: failed (status %#x)", argv[0], st);
	*cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
	*flt = ru.ru_minflt;
	return t;
}

int main(int argc, char **argv)
{
	int runs = 1000, warm = 20, opt;
	const char *out_path = NULL;
	while ((opt = getopt(argc, argv, "+n:w:o:")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'o': out_path = optarg; break;
		default:
			fprintf(stderr, "usage: interleave [-n RUNS] [-w WARMUP] [-o FILE] "
					"-- CMD [ARG...] -- CMD [ARG...] ...\n");
			return 2;
		}
	}
	if (runs < 1 || warm < 0)
		die("-n must be positive and -w not negative");

	/* Split the rest at each "--" (getopt stopped after the first one). */
	char **cmds[MAXCMD];
	int ncmd = 0;
	for (int i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			argv[i] = NULL;
			continue;
		}
		if (i == optind || argv[i - 1] == NULL) {
			if (ncmd == MAXCMD)
				die("at most %d commands", MAXCMD);
			cmds[ncmd++] = &argv[i];
		}
	}
	if (ncmd < 1)
		die("no command given");

	int devnull = open("/dev/null", O_RDWR);
	if (devnull < 0)
		die("/dev/null: %s", strerror(errno));
	FILE *out = stdout;
	if (out_path && !(out = fopen(out_path, "w")))
		die("%s: %s", out_path, strerror(errno));

	double *wall = calloc((size_t)runs * ncmd, sizeof *wall);
	double *cpu = calloc((size_t)runs * ncmd, sizeof *cpu);
	long *flt = calloc((size_t)runs * ncmd, sizeof *flt);
	if (!wall || !cpu || !flt)
		die("out of memory");
	for (int r = -warm; r < runs; r++) {
		for (int k = 0; k < ncmd; k++) {
			int c = ((r < 0 ? -r : r) + k) % ncmd;
			double cp;
			long fl;
			double w = run_once(cmds[c], devnull, &cp, &fl);
			if (r >= 0) {
				wall[r * ncmd + c] = w;
				cpu[r * ncmd + c] = cp;
				flt[r * ncmd + c] = fl;
			}
		}
	}

	fprintf(out, "# bench/interleave: %d rounds after %d warm-up rounds\n", runs, warm);
	for (int c = 0; c < ncmd; c++) {
		fprintf(out, "# cmd %d:", c);
		for (char **a = cmds[c]; *a; a++)
			fprintf(out, " %s", *a);
		fputc('\n', out);
	}
	fprintf(out, "# cmd round wall_ns cpu_ns minflt\n");
	for (int r = 0; r < runs; r++)
		for (int c = 0; c < ncmd; c++)
			fprintf(out, "%d %d %.0f %.0f %ld\n", c, r, wall[r * ncmd + c],
				cpu[r * ncmd + c], flt[r * ncmd + c]);
	if (out != stdout && fclose(out))
		die("%s: %s", out_path, strerror(errno));
	return 0;
}
