#!/usr/bin/env bash
# t-check-host.sh - `zprewrite --check-host [--json]` tells the truth about
# this machine, for the user who runs it.
# zp-test: rewriter
#
#  - Form: exit 0, nothing on stderr, every line "key: value" with the known
#    keys once each, in order; --json is one JSON object (python3 -m
#    json.tool) with the same facts: for each line, the JSON value rendered
#    (true/false as yes/no, null as unknown or "not set") and its key_note in
#    parentheses give back the line exactly, and it has no other keys.
#  - Facts against independent sources: kernel = uname -r; mmap_min_addr =
#    /proc/sys/vm/mmap_min_addr; cap_sys_rawio = bit 17 of CapEff in
#    /proc/self/status; page0_mappable, execute_only, pkeys and
#    syscall_user_dispatch = what ./probe (compiled here, each probe in a
#    child) finds; execute_only implies pkeys; SUD is "no" before Linux 5.11.
#  - The path lines follow the policies' rules from the reported facts, and
#    zp_page0 follows ZP_PAGE0 (unset, each policy, a bad value).
#  - As root and, when root can switch to it, as uid 65534 without
#    capabilities (zprewrite and the probe copied to a directory that user
#    can enter): there, with vm.mmap_min_addr > 0, page 0 is refused with
#    EPERM and the cause named, and require refuses (exit 127).
# How it fails: a fact that disagrees with its independent source, a JSON
# form that says something else than the text, a path the rules do not give.
source "$TESTS/harness.sh"
export LC_ALL=C
TMO=${ZP_TIMEOUT:-60}   # a hang is a failure (the probes have their own limits)
ulimit -c 0

cat >probe.c <<'C'
/* The independent probes: each in a child; prints "yes" or "no". */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
static int page0(void)
{
	void *p = mmap(0, 4096, PROT_READ | PROT_WRITE,
		       MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED || p != 0;
}
static int xo(void)   /* 0 if the read faults: exit 0 means readable */
{
	volatile unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 0xc3;
	mprotect((void *)p, 4096, PROT_EXEC);
	return p[0] == 0x1234;   /* reached only if readable: returns 0 */
}
static int pkeys(void) { return pkey_alloc(0, 0) < 0; }
static int sud(void)
{
	static char sel = 0;
	return prctl(59, 1, 0, 0, &sel) != 0;
}
int main(int argc, char **argv)
{
	int (*f)(void) = !strcmp(argv[1], "page0") ? page0 : !strcmp(argv[1], "xo") ? xo :
			 !strcmp(argv[1], "pkeys") ? pkeys : sud;
	pid_t pid = fork();
	if (pid == 0) { alarm(5); _exit(f()); }
	int st;
	waitpid(pid, &st, 0);
	if (!strcmp(argv[1], "xo"))
		puts(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "yes" : WIFEXITED(st) ? "no" : "?");
	else
		puts(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
	return argc < 2;
}
C
gcc -O1 -o probe probe.c || fail "cannot build the probe"

cat >check.py <<'PY'
# check.py TAG[=ZP_PAGE0]...: for each TAG, TAG.json has the facts of TAG.txt
# and its paths follow the rules (all in one process: python starts slowly).
import json, sys

KEYS = ["kernel", "mmap_min_addr", "cap_sys_rawio", "page0_mappable", "execute_only",
        "pkeys", "syscall_user_dispatch", "path_auto", "path_fast", "path_require",
        "path_never", "path_complete", "zp_page0"]
POLICIES = ["auto", "fast", "require", "never"]


def path(j, p):
    if p == "never":
        return "trap path"
    if not j["page0_mappable"]:
        return "refuses: exit 127" if p == "require" else "trap path"
    if j["execute_only"]:
        return "page 0 (execute-only)"
    return "trap path" if p == "auto" else "page 0 (readable: NULL reads return trampoline bytes)"


def check(tag, env):
    text = open(tag + ".txt").read()
    def die(msg):
        sys.exit(f"check.py: {tag}: {msg}\n{text}")
    try:
        j = json.load(open(tag + ".json"))
    except ValueError as e:
        die(f"--json is not JSON: {e}")
    lines = text.splitlines()
    if [l.split(": ", 1)[0] for l in lines] != KEYS:
        die("not the keys expected, in order")
    if set(j) != set(KEYS) | {k + "_note" for k in KEYS if k + "_note" in j}:
        die(f"JSON keys {sorted(j)}")
    for l in lines:
        k, v = l.split(": ", 1)
        x = j[k]
        if x is None:
            values = ["unknown", "not set"]
        else:
            values = ["yes" if x else "no"] if isinstance(x, bool) else [str(x)]
        note = f" ({j[k + '_note']})" if k + "_note" in j else ""
        if v not in [s + note for s in values]:
            die(f"{k}: text {v!r}, JSON {x!r}{note}")
    for p in POLICIES:
        if j["path_" + p] != path(j, p):
            die(f"path_{p} is {j['path_' + p]!r}, the rules give {path(j, p)!r}")
    if j["syscall_user_dispatch"] is not None and \
            j["path_complete"].startswith("caught") != j["syscall_user_dispatch"]:
        die(f"path_complete {j['path_complete']!r} with syscall_user_dispatch {j['syscall_user_dispatch']!r}")
    if j["zp_page0"] != env:
        die(f"zp_page0 {j['zp_page0']!r}, ZP_PAGE0 is {env!r}")
    note = j.get("zp_page0_note", "")
    if env in POLICIES and not note.endswith(": " + path(j, env)):
        die(f"ZP_PAGE0={env}: note {note!r}")
    if env is not None and env not in POLICIES and "not one of auto, fast, require, never" not in note:
        die(f"ZP_PAGE0={env}: note {note!r}")


for arg in sys.argv[1:]:
    tag, eq, env = arg.partition("=")
    check(tag, env if eq else None)
PY

# run_check TAG [RUNNER...]: zprewrite --check-host and --check-host --json,
# as RUNNER runs them, into TAG.txt and TAG.json: exit 0, no stderr, lines
# "key: value" (check.py compares the two forms later).
run_check() {
	local tag=$1; shift
	local zp=${ZP_BIN:-$ZPREWRITE}
	timeout "$TMO" "$@" "$zp" --check-host >"$tag.txt" 2>"$tag.err" || fail "$tag: --check-host: exit $?"
	[ ! -s "$tag.err" ] || fail "$tag: stderr: $(cat "$tag.err")"
	timeout "$TMO" "$@" "$zp" --check-host --json >"$tag.json" 2>"$tag.err" || fail "$tag: --json: exit $?"
	[ ! -s "$tag.err" ] || fail "$tag: stderr: $(cat "$tag.err")"
	grep -qvx '[a-z0-9_]*: .*' "$tag.txt" && fail "$tag: a line not 'key: value': $(grep -vx '[a-z0-9_]*: .*' "$tag.txt")"
	return 0
}
value() { sed -n "s/^$2: //p" "$1.txt" | sed 's/ (.*//'; }
# agree TAG [RUNNER...]: the facts of TAG.txt against the independent sources.
agree() {
	local tag=$1; shift
	[ "$(value "$tag" kernel)" = "$(uname -r)" ] || fail "$tag: kernel $(value "$tag" kernel), uname -r $(uname -r)"
	[ "$(value "$tag" mmap_min_addr)" = "$(cat /proc/sys/vm/mmap_min_addr)" ] || fail "$tag: mmap_min_addr"
	local capeff rawio=no
	capeff=$("$@" cat /proc/self/status | sed -n 's/^CapEff:\t*//p')
	(( (0x$capeff >> 17) & 1 )) && rawio=yes
	[ "$(value "$tag" cap_sys_rawio)" = $rawio ] || fail "$tag: cap_sys_rawio $(value "$tag" cap_sys_rawio), CapEff $capeff"
	local fact probe
	for pair in page0_mappable:page0 execute_only:xo pkeys:pkeys syscall_user_dispatch:sud; do
		fact=${pair%%:*}; probe=${pair#*:}
		[ "$(value "$tag" "$fact")" = "$("$@" "$PROBE" "$probe")" ] ||
			fail "$tag: $fact $(value "$tag" "$fact"), the independent probe says $("$@" "$PROBE" "$probe")"
	done
	[ "$(value "$tag" execute_only)" = no ] || [ "$(value "$tag" pkeys)" = yes ] ||
		fail "$tag: execute-only memory without protection keys"
	local rel; rel=$(uname -r); rel=${rel%%[!0-9.]*}
	if [ "${rel%%.*}" -lt 5 ] || { [ "${rel%%.*}" = 5 ] && [ "$(echo "$rel" | cut -d. -f2)" -lt 11 ]; }; then
		[ "$(value "$tag" syscall_user_dispatch)" = no ] || fail "$tag: SUD before Linux 5.11"
	fi
}

PROBE=$PWD/probe
note "as $(id -un)"
(unset ZP_PAGE0; run_check self)
python3 -m json.tool self.json >/dev/null || fail "--json is not JSON: $(cat self.json)"
agree self
tags=(self)
for env in auto fast require never bogus ''; do
	ZP_PAGE0=$env run_check "env-$env"
	diff <(head -n -1 self.txt) <(head -n -1 "env-$env.txt") >/dev/null || fail "ZP_PAGE0=$env changed other facts"
	tags+=("env-$env=$env")
done
python3 check.py "${tags[@]}" || fail "the JSON and text forms disagree, or a path breaks the rules"
cat self.txt

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	note "not root or no setpriv: the unprivileged run is left out"
	exit 0
fi
note 'as uid 65534, without capabilities'
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$ZPREWRITE" "$dir/zprewrite"
cp probe "$dir/probe"
chmod 755 "$dir" "$dir/zprewrite" "$dir/probe"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
"${NOBODY[@]}" true || { note "setpriv cannot switch to uid 65534 here: left out"; exit 0; }
PROBE=$dir/probe
(unset ZP_PAGE0; ZP_BIN=$dir/zprewrite run_check nobody "${NOBODY[@]}")
python3 check.py nobody || fail "as uid 65534: the JSON and text forms disagree, or a path breaks the rules"
agree nobody "${NOBODY[@]}"
cat nobody.txt
if [ "$(cat /proc/sys/vm/mmap_min_addr)" != 0 ]; then
	[ "$(value nobody page0_mappable)" = no ] || fail "uid 65534 could map page 0 with mmap_min_addr > 0"
	grep -qx "page0_mappable: no (EPERM: vm.mmap_min_addr is $(cat /proc/sys/vm/mmap_min_addr) and this process lacks CAP_SYS_RAWIO)" nobody.txt ||
		fail "uid 65534: the cause is not named: $(grep page0_mappable nobody.txt)"
	grep -qx 'path_require: refuses: exit 127' nobody.txt || fail "uid 65534: require does not refuse"
fi
