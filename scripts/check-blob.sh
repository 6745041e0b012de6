#!/bin/sh
# check-blob.sh - refuse a runtime blob that would need relocations.
# The blob is linked with --emit-relocs; any relocation that is not
# PC-relative would hold a link-time (zero-based) address at run time.
# Non-loaded sections are not run: .debug_frame has absolute addresses,
# which the rewriter moves (rewriter/debugframe.c), so its relocations (and
# those of any other .debug_ section) are not checked.
set -eu
blob=$1
bad=$(readelf -rW "$blob" | awk '
	/^Relocation section / { skip = ($3 ~ /^.\.rela?\.debug_/) }
	!skip && $3 ~ /^R_X86_64_/ && $3 !~ /^R_X86_64_(PC32|PLT32|PC64|GOTPCREL|GOTPCRELX|REX_GOTPCRELX|NONE)$/ { print $3, $5 }')
if [ -n "$bad" ]; then
	echo "check-blob.sh: $blob: the runtime needs absolute relocations (use PC-relative data):" >&2
	echo "$bad" | sort | uniq -c >&2
	exit 1
fi
if readelf -SW "$blob" | grep -q ' \.got '; then
	echo "check-blob.sh: $blob: the runtime has a GOT (a symbol is not hidden?)" >&2
	exit 1
fi
