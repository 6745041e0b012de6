#!/usr/bin/env python3
"""zpdesc.py - read (or change, for tests) the struct zp_desc of a rewritten file.

Helper of tests/t-page0-option.sh (standard library only), written from
runtime/zp_abi.h independently of the rewriter's own reader, so that the
tests check what is really in the file rather than what zprewrite says.

  zpdesc.py show FILE...
      Print one line per FILE: "FILE abi_version=N flags=0xF page0=N
      nsites=N", page0 being the policy bits (0 auto, 1 fast, 2 require,
      3 never).  (One process for many files: python starts slowly.)
  zpdesc.py set IN OUT FIELD=VALUE...
      Copy IN to OUT with descriptor fields changed (abi_version, flags,
      nsites); IN is not modified.
  zpdesc.py cut IN OUT N
      Copy IN to OUT with the descriptor's segment cut to N bytes of file
      (p_filesz), to test a descriptor that is cut short.

The descriptor is at the start of the PT_LOAD whose bytes begin with the
magic "\\x7fZPREWR\\0".
"""
import struct
import sys

MAGIC = b"\x7fZPREWR\x00"
# offsets in struct zp_desc (runtime/zp_abi.h)
FIELDS = {"abi_version": (8, "<I"), "flags": (12, "<I"), "nsites": (64, "<I")}
PAGE0_SHIFT, PAGE0_MASK = 3, 0x3 << 3


def desc_phdr(data):
    """(offset of the program header, offset of the descriptor) of the
    descriptor's PT_LOAD."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        sys.exit("zpdesc.py: not a 64-bit ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        at = phoff + i * phentsize
        p_type, = struct.unpack_from("<I", data, at)
        p_offset, = struct.unpack_from("<Q", data, at + 8)
        if p_type == 1 and data[p_offset:p_offset + len(MAGIC)] == MAGIC:
            return at, p_offset
    sys.exit("zpdesc.py: no zprewrite descriptor")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "show" and len(argv) >= 3:
        for path in argv[2:]:
            data = open(path, "rb").read()
            _, d = desc_phdr(data)
            v = {k: struct.unpack_from(f, data, d + o)[0] for k, (o, f) in FIELDS.items()}
            print(f"{path} abi_version={v['abi_version']} flags={v['flags']:#x} "
                  f"page0={(v['flags'] & PAGE0_MASK) >> PAGE0_SHIFT} nsites={v['nsites']}")
    elif cmd == "set" and len(argv) >= 5:
        data = bytearray(open(argv[2], "rb").read())
        _, d = desc_phdr(data)
        for a in argv[4:]:
            k, _, val = a.partition("=")
            o, f = FIELDS[k]
            struct.pack_into(f, data, d + o, int(val, 0))
        open(argv[3], "wb").write(data)
    elif cmd == "cut" and len(argv) == 5:
        data = bytearray(open(argv[2], "rb").read())
        ph, _ = desc_phdr(data)
        struct.pack_into("<Q", data, ph + 32, int(argv[4], 0))
        open(argv[3], "wb").write(data)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
