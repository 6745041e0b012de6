#!/bin/sh
# gen-asm-offsets.sh - turn the "->NAME value" lines that the compiler left in
# runtime/asm-offsets.c's assembly into #defines for entry.S.
# Usage: gen-asm-offsets.sh ASM-FILE > asm-offsets.h
set -eu
echo "/* Generated from runtime/asm-offsets.c by scripts/gen-asm-offsets.sh: do not edit. */"
echo "#ifndef ZP_ASM_OFFSETS_H"
echo "#define ZP_ASM_OFFSETS_H"
sed -n 's/^[[:space:]]*->\([A-Za-z0-9_]*\) \$\{0,1\}\(-\{0,1\}[0-9][0-9]*\).*/#define \1 \2/p' "$1"
echo "#endif"
