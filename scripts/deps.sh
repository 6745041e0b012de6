#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages a make target needs, if missing.
#
# Called by the Makefile before building, testing, benchmarking or running
# the real suites (make check-real), so that `make demo`, `make test` and the
# others work on a fresh Debian 12 machine.  Only packages that are not
# installed yet are asked for; apt-get runs once, without questions.  Not
# root: print the command to run instead and fail.
# libc6-dev is named although gcc usually pulls it in: gcc only recommends
# it, recommends are skipped here, and static test programs need its libc.a.
set -euo pipefail

build_pkgs="gcc libc6-dev make pkg-config libelf-dev libdw-dev libzydis-dev binutils-dev zlib1g-dev musl-tools"
test_pkgs="busybox-static elfutils file strace sqlite3 python3 libcap2-bin gdb"
bench_pkgs="hyperfine redis-server redis-tools gnuplot-nox strace linux-perf"
# make check-real: Go's standard-library tests and CPython's regression tests
real_pkgs="golang-go libpython3.11-testsuite python3.11"

want=""
for set in "$@"; do
	case "$set" in
	build) want="$want $build_pkgs" ;;
	test)  want="$want $build_pkgs $test_pkgs" ;;
	bench) want="$want $build_pkgs $test_pkgs $bench_pkgs" ;;
	real)  want="$want $build_pkgs $test_pkgs $real_pkgs" ;;
	*) echo "deps.sh: unknown set '$set' (build, test, bench, real)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
