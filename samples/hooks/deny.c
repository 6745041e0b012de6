/*
 * deny.c - a sample zprewrite hook: refuse chosen system calls with EPERM.
 *
 *   zprewrite --hook build/samples/deny.so PROG PROG.denied
 *   ZP_DENY=socket,connect ./PROG.denied
 *
 * ZP_DENY is a comma-separated list of system call names (or numbers).  A
 * denied call fails with -EPERM without reaching the kernel, and one line is
 * written to stderr:
 *
 *   zprewrite-deny: socket(0x2, 0x80801, 0) denied
 *
 * Unset or empty, nothing is denied.  Unknown names are reported once, at
 * start-up, and ignored.  exit, exit_group and rt_sigreturn cannot be denied:
 * a process has no sane way to go on after them.
 */
#include "hookutil.h"

#define MAX_NR 512

/* One bit per call number; written only by zp_hook_init. */
static uint64_t denied[MAX_NR / 64];
static int any_denied;

static int is_denied(long nr)
{
	return nr >= 0 && nr < MAX_NR && (denied[nr / 64] >> (nr % 64) & 1);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* One entry of the list, [s, e), already trimmed. */
static void deny_one(const char *s, const char *e)
{
	char name[64];
	size_t n = (size_t)(e - s);
	const char *end;
	long nr;

	if (n >= sizeof(name)) {
		zp_dprintf(2, "zprewrite-deny: ZP_DENY: name too long, ignored: %.*s...\n",
			   (int)(sizeof(name) - 1), s);
		return;
	}
	zp_memcpy(name, s, n);
	name[n] = '\0';
	if (name[0] >= '0' && name[0] <= '9') {
		nr = zp_strtol(name, &end, 10);
		if (*end)
			nr = -1;
	} else {
		nr = zp_syscall_number(name);
	}
	if (nr < 0 || nr >= MAX_NR) {
		zp_dprintf(2, "zprewrite-deny: ZP_DENY: unknown system call \"%s\", ignored\n", name);
		return;
	}
	if (nr == __NR_exit || nr == __NR_exit_group || nr == __NR_rt_sigreturn) {
		zp_dprintf(2, "zprewrite-deny: ZP_DENY: %s cannot be denied, ignored\n", name);
		return;
	}
	denied[nr / 64] |= 1ULL << (nr % 64);
	any_denied = 1;
}

ZP_HOOK_EXPORT int zp_hook_init(const struct zp_process *proc)
{
	const char *list = zp_getenv("ZP_DENY");

	(void)proc;
	while (list && *list) {
		const char *s = list, *e;

		while (*list && *list != ',')
			list++;
		e = list;
		if (*list)
			list++;
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		if (s < e)
			deny_one(s, e);
	}
	return 0;
}

ZP_HOOK_EXPORT long zp_hook_enter(struct zp_syscall *call)
{
	char buf[320];
	struct hu_sb sb;

	if (!any_denied || !is_denied(call->nr))
		return ZP_PASS;
	/* Raw arguments: this hook knows nothing of their types. */
	hu_sb_init(&sb, buf, sizeof(buf) - 1);
	hu_sb_puts(&sb, "zprewrite-deny: ");
	hu_sb_raw_call(&sb, call);
	hu_sb_puts(&sb, " denied");
	buf[sb.len] = '\n';
	zp_write_all(2, buf, sb.len + 1);
	return -EPERM;
}
