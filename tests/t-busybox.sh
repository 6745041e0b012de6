#!/usr/bin/env bash
# t-busybox.sh - Debian's static busybox, rewritten, runs a varied shell
# workload exactly like the original.
#
# busybox-static is a real, stripped, static glibc program with hundreds of
# system call sites.  The workload (written below) uses the shell (loops,
# functions, subshells, pipes, here-documents, command substitution, traps,
# background jobs, exit statuses) and the applets ls, sort, gzip/gunzip, tar
# (create, list, extract, gzip'ed too), find, awk, sed, md5sum, sha256sum,
# cp/mv/rm/mkdir, wc, head/tail, xargs, date (fixed dates), dd, od, cut, tr,
# uniq, printf, test, seq, diff: hundreds of processes, each a fork or exec of
# busybox.  Busybox picks the applet by argv[0], so each copy lives in its
# own directory as bin/busybox with a symlink per applet and PATH set to that
# directory only: every applet, in every process, is the copy under test.
# The workload runs in a directory of the same name for every copy, so no
# output depends on where the copy is.  Compared: stdout, stderr, exit status
#   - original vs rewritten (pass-through runtime);
#   - original vs rewritten with the counting test hook (tests/hooks/tcount.c,
#     making the calls itself): every busybox process that ends with
#     exit_group writes its counts, which must show calls, all from known
#     sites, from many processes.
# And `zprewrite --list /bin/busybox` must report every site patched.
source "$TESTS/harness.sh"
need_page0
BB=${ZP_BUSYBOX:-/bin/busybox}
[ -x "$BB" ] || skip "no $BB (apt-get install busybox-static)"
file -L "$BB" 2>/dev/null | grep -q 'statically linked' || skip "$BB is not the static busybox (busybox-static)"
ROOT=$PWD

build_test_hook tcount

# One directory per copy: NAME/bin/busybox and its applet links.
make_copy() { # name [zprewrite options]
	local d=$1; shift
	mkdir -p "$d/bin"
	if [ "$d" = orig ]; then cp "$BB" "$d/bin/busybox"; else rewrite "$BB" "$d/bin/busybox" "$@" || return 1; fi
	local a
	for a in $("$BB" --list); do
		[ "$a" = busybox ] || ln -s busybox "$d/bin/$a"
	done
	# The runner: a clean work directory (always the same path) and a
	# minimal, fixed environment.
	cat >"run-$d" <<EOT
#!/bin/sh
rm -rf "$ROOT/w" && mkdir "$ROOT/w" && cd "$ROOT/w" || exit 99
exec env -i PATH="$ROOT/$d/bin" HOME=/ TZ=UTC LC_ALL=C \${ZPT_COUNT_FILE:+ZPT_COUNT_FILE=\$ZPT_COUNT_FILE} \${ZPT_FORWARD:+ZPT_FORWARD=\$ZPT_FORWARD} "$ROOT/$d/bin/busybox" sh "$ROOT/workload.sh"
EOT
	chmod +x "run-$d"
}

cat >workload.sh <<'WORKLOAD'
echo "== shell"
sq() { local x=$1; echo "sq($x) = $((x * x))"; }
i=0
while [ $i -lt 5 ]; do sq $i; i=$((i + 1)); done
for w in alpha beta gamma; do echo "word $w"; done
( cd /; echo "subshell in $(pwd)" ); echo "back in $(basename "$(pwd)")"
echo "cmdsub: $(echo inner | tr a-z A-Z) nested: $(echo $(echo deep))"
cat <<EOT | sed 's/^/heredoc: /'
line one
line two $((6 * 7))
EOT
trap 'echo "trap USR1 ran"' USR1
kill -USR1 $$
echo "after kill"
trap - USR1
( trap 'echo "subshell EXIT trap"' EXIT; echo "in subshell"; exit 3 ); echo "subshell status $?"
x=$(false; echo $?); echo "false status $x"
case "abc" in a*) echo "case matched";; *) echo "no";; esac
echo "pipes: $(seq 1 100 | grep 7 | wc -l)"
sleep 0.05 & wait $!; echo "background status $?"
n=0; seq 1 50 | while read l; do n=$((n + l)); [ $l = 50 ] && echo "read loop sum $n"; done
long=""; for i in $(seq 1 200); do long="$long$i"; done; echo "long string ${#long}"
echo "== files"
mkdir -p d/sub d/other
for i in $(seq 1 20); do printf 'file %d\n' $i > d/f$i.txt; done
seq 1 1000 > d/sub/numbers
cp d/f1.txt d/copy.txt; mv d/copy.txt d/other/moved.txt; rm d/f20.txt
ls d | head -5; ls -a d/other
find d -type f | sort | head -30
find d -name '*.txt' | wc -l
wc -l d/sub/numbers; wc -c d/f1.txt
head -3 d/sub/numbers; tail -2 d/sub/numbers
sort -rn d/sub/numbers | head -3
awk '{ s += $1 } END { print "sum", s }' d/sub/numbers
awk -F: 'BEGIN { OFS = "-" } { $1 = $1; print }' <<EOT
a:b:c
EOT
sed -n '500,502p' d/sub/numbers
sed 's/file/FILE/' d/f3.txt
md5sum d/sub/numbers | cut -d' ' -f1
sha256sum d/f1.txt | cut -c1-16
cat d/f*.txt | sort | uniq -c | sort -k2 | head -3
ls d/*.txt | xargs -n 5 echo | wc -l
ls d/*.txt | xargs cat | wc -l
echo "== archives"
gzip -c d/sub/numbers > n.gz; gunzip -c n.gz | md5sum | cut -d' ' -f1
gzip -9 d/sub/numbers; ls d/sub; gunzip d/sub/numbers.gz; wc -l < d/sub/numbers
tar cf a.tar d; tar tf a.tar | sort | head -8
mkdir x; (cd x && tar xf ../a.tar); diff -r d x/d && echo "tar round trip ok"
tar czf b.tgz d; mkdir y; tar xzf b.tgz -C y; find y | wc -l; tar tzf b.tgz | wc -l
echo "== misc"
date -d @0 '+%Y-%m-%d %H:%M:%S'
date -u -d @86400 +%s
dd if=d/sub/numbers of=part bs=100 count=3 2>/dev/null; wc -c part
dd if=/dev/zero bs=1k count=64 2>/dev/null | md5sum | cut -d' ' -f1
printf 'ABC\001\n' | od -c | head -2
od -An -tx1 -N8 d/sub/numbers
echo "a:b:c" | cut -d: -f2
echo "hello world" | tr 'a-z' 'A-Z'; echo "aaabbb" | tr -s 'ab'
printf '%5s|%-5s|%03d|%x\n' ab cd 7 255
test -d d && echo "d is a directory"; [ -f d/nothing ] || echo "no d/nothing"
test 3 -gt 2 && echo "3 > 2"
rm -rf d x y a.tar b.tgz n.gz part
ls | wc -l
echo "== errors"
ls /nonexistent-zp 2>&1; echo "ls status $?"
cat missing-file 2>&1 || echo "cat failed"
sh -c 'exit 7'; echo "sh -c status $?"
echo "done" >&2
exit 5
WORKLOAD

make_copy orig
make_copy patched
make_copy hooked --hook tcount.so

# The workload ends with `exit 5`: any other status means it broke.
ZPT_EXPECT_RC=5
check_same "busybox workload" ./run-orig ./run-patched
check "busybox workload: the original exits 5 (else the workload itself is broken)" [ "${LAST_RC:-}" = 5 ]

hook_tables_ok() {
	[ -s "$1" ] || { note "  no count file"; return 1; }
	local procs badsite
	procs=$(grep -c '^total ' "$1")
	badsite=$(awk '$1 == "nosite" && $2 != 0' "$1" | wc -l)
	note "  $procs busybox processes wrote their counts; $badsite saw calls without a site"
	[ "$procs" -ge 20 ] && [ "$badsite" -eq 0 ]
}
rm -f "$ROOT/count"
ZPT_COUNT_FILE=$ROOT/count ZPT_FORWARD=1 check_same "busybox workload with the tcount hook" ./run-orig ./run-hooked
check "busybox with the hook: counts from every process" hook_tables_ok "$ROOT/count"

# Every site of busybox must be patched: "0 skipped", and none listed as
# skip.  (The sigaltstack call in glibc's ____longjmp_chk keeps data in the
# red zone, in the slot a rewritten call would overwrite: it goes through a
# red-zone stub, listed as "stub", which counts as patched.)
bb_all_patched() {
	"$ZPREWRITE" --list "$BB" >bb.list
	local summary; summary=$(tail -n 1 bb.list)
	note "  $summary"
	grep -E '  skip ' bb.list | sed 's/^/#   skipped: /' | head -5
	[[ $summary == *" 0 skipped"* ]]
}
check "zprewrite --list $BB: 0 skipped" bb_all_patched
