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
# Each condition is a check of its own; the script goes on after a failure.
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
# and its paths follow the rules (all in one process: python starts slowly):
# a line "TAG: ok", or "TAG: what is wrong" followed by the text.
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
        raise Bad(f"{msg}\n{text}")
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


class Bad(Exception):
    pass


for arg in sys.argv[1:]:
    tag, eq, env = arg.partition("=")
    try:
        check(tag, env if eq else None)
        print(f"{tag}: ok")
    except Bad as e:
        print(f"{tag}: {e}")
PY

# run_check TAG [RUNNER...]: zprewrite --check-host and --check-host --json,
# as RUNNER runs them, into TAG.txt and TAG.json; a check that both exit 0
# with nothing on stderr and the text's lines are "key: value" (check.py
# compares the two forms later).  False if it failed.
run_check() {
	local tag=$1 rc; shift
	local zp=${ZP_BIN:-$ZPREWRITE}
	begin_check "$tag: --check-host and --json exit 0, nothing on stderr, lines 'key: value'"
	timeout "$TMO" "$@" "$zp" --check-host >"$tag.txt" 2>"$tag.err" && rc=0 || rc=$?
	[ $rc = 0 ] || fault "--check-host: exit $rc"
	[ ! -s "$tag.err" ] || fault "--check-host: stderr: $(cat "$tag.err")"
	timeout "$TMO" "$@" "$zp" --check-host --json >"$tag.json" 2>"$tag.err" && rc=0 || rc=$?
	[ $rc = 0 ] || fault "--json: exit $rc"
	[ ! -s "$tag.err" ] || fault "--json: stderr: $(cat "$tag.err")"
	! grep -qvx '[a-z0-9_]*: .*' "$tag.txt" || fault "a line not 'key: value': $(grep -vx '[a-z0-9_]*: .*' "$tag.txt")"
	end_check
	last_ok
}
value() { sed -n "s/^$2: //p" "$1.txt" | sed 's/ (.*//'; }
# agree TAG [RUNNER...]: the facts of TAG.txt against the independent sources,
# a check each.
agree() {
	local tag=$1; shift
	check "$tag: kernel is uname -r ($(uname -r))" [ "$(value "$tag" kernel)" = "$(uname -r)" ]
	check "$tag: mmap_min_addr is /proc/sys/vm/mmap_min_addr" \
		[ "$(value "$tag" mmap_min_addr)" = "$(cat /proc/sys/vm/mmap_min_addr)" ]
	local capeff rawio=no
	capeff=$("$@" cat /proc/self/status | sed -n 's/^CapEff:\t*//p')
	(( (0x$capeff >> 17) & 1 )) && rawio=yes
	check "$tag: cap_sys_rawio is bit 17 of CapEff ($capeff: $rawio)" [ "$(value "$tag" cap_sys_rawio)" = $rawio ]
	local fact probe said
	for pair in page0_mappable:page0 execute_only:xo pkeys:pkeys syscall_user_dispatch:sud; do
		fact=${pair%%:*}; probe=${pair#*:}
		said=$("$@" "$PROBE" "$probe")
		check "$tag: $fact is what the independent probe finds ($said)" [ "$(value "$tag" "$fact")" = "$said" ]
	done
	check "$tag: execute-only memory only with protection keys" \
		eval '[ "$(value "$tag" execute_only)" = no ] || [ "$(value "$tag" pkeys)" = yes ]'
	local rel; rel=$(uname -r); rel=${rel%%[!0-9.]*}
	if [ "${rel%%.*}" -lt 5 ] || { [ "${rel%%.*}" = 5 ] && [ "$(echo "$rel" | cut -d. -f2)" -lt 11 ]; }; then
		check "$tag: no syscall user dispatch before Linux 5.11" [ "$(value "$tag" syscall_user_dispatch)" = no ]
	fi
}
# forms_and_paths TAG[=ZP_PAGE0]...: check.py on them, a check per tag.
forms_and_paths() {
	local arg tag
	python3 check.py "$@" >check.out 2>&1 || true
	for arg in "$@"; do
		tag=${arg%%=*}
		begin_check "$tag: the JSON says what the text says, the paths follow the policies' rules"
		grep -qx "$tag: ok" check.out || fault "$(sed -n "/^$tag: /,/^[a-z0-9-]*: /p" check.out | head -n 20)"
		end_check
	done
}

PROBE=$PWD/probe
note "as $(id -un)"
(unset ZP_PAGE0; run_check self) || true
check "--json is JSON (python3 -m json.tool)" eval 'python3 -m json.tool self.json >/dev/null'
agree self
tags=(self)
for env in auto fast require never bogus ''; do
	ZP_PAGE0=$env run_check "env-$env" || true
	check "ZP_PAGE0=$env changes no other fact" \
		eval 'diff <(head -n -1 self.txt) <(head -n -1 "env-$env.txt") >/dev/null'
	tags+=("env-$env=$env")
done
forms_and_paths "${tags[@]}"
sed "s/^/# /" self.txt

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	skip_check "as uid 65534, without capabilities" "not root, or no setpriv"
	exit 0
fi
note 'as uid 65534, without capabilities'
dir=$(mktemp -d)
on_exit 'rm -rf "$dir"'
cp "$ZPREWRITE" "$dir/zprewrite"
cp probe "$dir/probe"
chmod 755 "$dir" "$dir/zprewrite" "$dir/probe"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
if ! "${NOBODY[@]}" true; then
	skip_check "as uid 65534, without capabilities" "setpriv cannot switch to uid 65534 here"
	exit 0
fi
PROBE=$dir/probe
(unset ZP_PAGE0; ZP_BIN=$dir/zprewrite run_check nobody "${NOBODY[@]}") || true
forms_and_paths nobody
agree nobody "${NOBODY[@]}"
sed "s/^/# /" nobody.txt
if [ "$(cat /proc/sys/vm/mmap_min_addr)" != 0 ]; then
	check "nobody: page 0 cannot be mapped with mmap_min_addr > 0" [ "$(value nobody page0_mappable)" = no ]
	check "nobody: the cause is named" grep -qx "page0_mappable: no (EPERM: vm.mmap_min_addr is $(cat /proc/sys/vm/mmap_min_addr) and this process lacks CAP_SYS_RAWIO)" nobody.txt
	check "nobody: require refuses" grep -qx 'path_require: refuses: exit 127' nobody.txt
fi
