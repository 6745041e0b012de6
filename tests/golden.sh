#!/usr/bin/env bash
# golden.sh - compare (or with --update, regenerate) tests/golden/.
#
# For each program built from tests/programs/golden/*.S, the golden files hold
#   NAME.list    `zprewrite --list` of it
#   NAME.phdrs   the program headers of its rewritten version (readelf -lW)
# so that a change in what zprewrite finds, decides or lays out shows up as
# a reviewable diff.  Usage: tests/golden.sh [--update] BUILD_DIR
set -euo pipefail
update=0
[ "${1:-}" = --update ] && { update=1; shift; }
BUILD=$(cd "${1:?usage: tests/golden.sh [--update] BUILD_DIR}" && pwd)
TESTS=$(cd "$(dirname "$0")" && pwd)
ZPREWRITE=${ZPREWRITE:-$BUILD/zprewrite}
GOLDEN=$TESTS/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Program headers only: from "Program Headers:" to the section mapping.
phdrs() { readelf -lW "$1" | sed -n '/^Program Headers:/,/^ Section to Segment/p' | sed '$d'; }

status=0
for bin in "$BUILD"/tests/golden/*; do
	name=$(basename "$bin")
	"$ZPREWRITE" --verify --list "$bin" >"$tmp/$name.list"
	"$ZPREWRITE" --verify "$bin" "$tmp/$name.out"
	phdrs "$tmp/$name.out" >"$tmp/$name.phdrs"
	for kind in list phdrs; do
		if [ $update = 1 ]; then
			cp "$tmp/$name.$kind" "$GOLDEN/$name.$kind"
		elif ! diff -u "$GOLDEN/$name.$kind" "$tmp/$name.$kind"; then
			echo "golden: $name.$kind differs (make golden regenerates it; review the diff)" >&2
			status=1
		fi
	done
done
[ $update = 1 ] && echo "golden: updated $(ls "$GOLDEN" | wc -l) files in tests/golden/"
exit $status
