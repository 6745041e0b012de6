/*
 * hostcheck.h - probes of what this machine offers a rewritten program
 * (`zprewrite --check-host`).
 *
 * Whether a rewritten program gets its trampoline at address 0, and whether
 * that page can be made execute-only, depends on the kernel, its settings,
 * the CPU and the credentials of whoever runs it, not on the file: these
 * probes find out by trying the very calls the runtime makes, each in a
 * child process with a time limit, so that no probe can crash or hang
 * zprewrite.  hostreport.c turns the answers into the report.
 */
#ifndef ZP_HOSTCHECK_H
#define ZP_HOSTCHECK_H

/* The answer of one probe. */
struct zp_probe {
	int answer;       /* 1 yes, 0 no, -1 unknown (the probe did not finish normally) */
	int err;          /* when no: the errno of the refused call, or 0 */
	int elsewhere;    /* page 0: the kernel put the mapping at another address */
	char how[64];     /* when unknown: what happened to the probe */
};

struct zp_host {
	char kernel[65];           /* uname's release */
	long long mmap_min_addr;   /* -1 if /proc/sys/vm/mmap_min_addr cannot be read */
	int min_addr_err;          /* then: why (errno) */
	int cap_sys_rawio;         /* 1 if in the effective set, 0 if not, -1 unknown */
	struct zp_probe page0;     /* mmap of page 0 */
	struct zp_probe exec_only; /* a PROT_EXEC page cannot be read */
	struct zp_probe pkeys;     /* pkey_alloc() */
	struct zp_probe sud;       /* prctl(PR_SET_SYSCALL_USER_DISPATCH) */
};

/* Run every probe. */
void zp_host_probe(struct zp_host *h);

#endif /* ZP_HOSTCHECK_H */
