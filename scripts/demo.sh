#!/usr/bin/env bash
# demo.sh - `make demo`: rewrite a small program (samples/hello.c) and
# Debian's static busybox on disk, run them, and show that their system calls
# went through a hook carried inside the binary.
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
ZP=$BUILD/zprewrite
out=$BUILD/demo
HELLO=$BUILD/samples/hello
rm -rf "$out"; mkdir -p "$out/trace" "$out/count"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ ! -x /bin/busybox ]; then
	echo "demo: /bin/busybox (Debian's busybox-static) is missing; run 'make test' once to install it" >&2
	exit 1
fi
[ -x "$HELLO" ] || { echo "demo: $HELLO is missing: run make" >&2; exit 1; }
min=$(cat /proc/sys/vm/mmap_min_addr)
if [ "$min" != 0 ] && [ "$(id -u)" != 0 ]; then
	echo "demo: rewritten programs map their trampoline at address 0, which needs root" >&2
	echo "demo: (CAP_SYS_RAWIO) or 'sysctl -w vm.mmap_min_addr=0' (now $min)" >&2
	exit 1
fi

say "1. A small program (samples/hello.c): the system call sites zprewrite finds in it (summary)"
"$ZP" --list "$HELLO" | tail -n 1

say "2. Rewrite it with the trace hook and run it: its output, and every call it made (stderr)"
"$ZP" -q --hook "$BUILD/samples/trace.so" "$HELLO" "$out/trace/hello"
"$out/trace/hello"

say "3. The system call sites zprewrite finds in /bin/busybox (first lines, then the summary)"
"$ZP" --list /bin/busybox | sed -n 1,6p
"$ZP" --list /bin/busybox | tail -n 1

say "4. Rewrite it, embedding the trace hook: $ZP --hook trace.so /bin/busybox $out/trace/busybox"
TIMEFORMAT="   (took %R s)"
time "$ZP" --hook "$BUILD/samples/trace.so" /bin/busybox "$out/trace/busybox"
readelf -lW "$out/trace/busybox" | grep -E 'LOAD|Entry' | sed 's/^/   /'

say "5. Run the rewritten busybox: every system call is printed by the hook inside it (stderr)"
"$out/trace/busybox" sh -c 'echo "hello from a rewritten busybox"; ls -d /etc'

say "6. The same with the count hook (like strace -c) on a small workload"
"$ZP" -q --hook "$BUILD/samples/count.so" /bin/busybox "$out/count/busybox"
"$out/count/busybox" sh -c 'for i in 1 2 3; do echo line $i; done | sort -r | md5sum; ls /usr/bin | wc -l'

say "7. No LD_PRELOAD, static binary, and the original is untouched"
cmp -s /bin/busybox "$out/trace/busybox" && echo "   (unexpected: identical files)" || echo "   /bin/busybox is unchanged; the rewritten copies are in $out"
