#!/usr/bin/env python3
"""elfmutate.py - make corrupt variants of a 64-bit little-endian ELF file.

Helper of tests/t-badinput.sh and tests/t-fuzz-headers.sh (standard library
only).  It never modifies its input; it writes a new file.

  elfmutate.py info FILE
      Print the headers the other commands address (for debugging).

  elfmutate.py set IN OUT ASSIGNMENT...
      Copy IN to OUT with fields changed.  An ASSIGNMENT is FIELD=EXPR:
        e_type=4  e_phoff=size+8  ident[4]=2  truncate=e_phoff+20
        phdr[1].p_filesz=-1        phdr[exec].p_offset=size
        shdr[.text].sh_size=size   shdr[#27].sh_link=99
      phdr[N] is the N-th program header, phdr[exec] the first executable
      PT_LOAD, phdr[load] the first PT_LOAD; shdr[N] the N-th section header,
      shdr[.name] the section of that name.  EXPR is a Python expression over
      integers and these names: size (of IN), orig (the field's value in IN),
      every ELF header field (e_phoff, e_phnum, ...), x_offset and x_filesz
      (of the first executable PT_LOAD), page(x) (x rounded up to 4 KiB),
      sec_idx(".name") and sec_off(".name") (index and sh_offset of a
      section).  Values wrap to the field's width (-1 is all ones).
      u8[EXPR], u16[EXPR], u32[EXPR] and u64[EXPR] are the bytes at file
      offset EXPR: u64[sec_off(".rela.plt")]=-4 is the first PLT
      relocation's r_offset.  truncate=N cuts OUT to N bytes (applied last);
      append=N adds N zero bytes.

  elfmutate.py dynname-at-end IN OUT SYMBOL STRSZ
      Copy IN (a shared object with .dynsym) to OUT so that the name of the
      dynamic symbol SYMBOL is the last bytes of OUT, without a terminating
      NUL: the name is appended, the last PT_LOAD is extended over it, and
      DT_STRTAB is moved so that the symbol's st_name lands on it.  DT_STRSZ
      becomes STRSZ, an expression over `end` (the bytes from the new
      DT_STRTAB to the end of OUT): "end" keeps the table inside the file,
      "end+0x100000" makes it reach far past it.

  elfmutate.py bigendian IN OUT
      Rewrite IN's ELF header, program headers and section headers in
      big-endian byte order and set EI_DATA to ELFDATA2MSB: a consistent
      big-endian file that still claims to be x86-64.

  elfmutate.py fuzz --seed S --case N --input IN -o OUT
      Write random mutation number N of IN (reproducible: the mutation depends
      only on S, N and the bytes of IN) and print what was mutated, one line.
      This is how a failing case of tests/t-fuzz-headers.sh is replayed.
      "elfmutate.py --case N ..." is the same command.

  elfmutate.py fuzz --seed S --inputs IN1:IN2:... --case N [--case M...] --outdir D
      The same for several cases, case N mutating input number N mod (number
      of inputs), written to D/N/in.elf; prints "N<tab>input<tab>mutation"
      per case.  This is how tests/t-fuzz-headers.sh makes its inputs.
"""

import argparse
import os
import random
import struct
import sys

# ---- ELF64 layout ----------------------------------------------------------

EHDR = [  # name, offset, size
    ("e_type", 16, 2), ("e_machine", 18, 2), ("e_version", 20, 4),
    ("e_entry", 24, 8), ("e_phoff", 32, 8), ("e_shoff", 40, 8),
    ("e_flags", 48, 4), ("e_ehsize", 52, 2), ("e_phentsize", 54, 2),
    ("e_phnum", 56, 2), ("e_shentsize", 58, 2), ("e_shnum", 60, 2),
    ("e_shstrndx", 62, 2),
]
PHDR = [
    ("p_type", 0, 4), ("p_flags", 4, 4), ("p_offset", 8, 8),
    ("p_vaddr", 16, 8), ("p_paddr", 24, 8), ("p_filesz", 32, 8),
    ("p_memsz", 40, 8), ("p_align", 48, 8),
]
SHDR = [
    ("sh_name", 0, 4), ("sh_type", 4, 4), ("sh_flags", 8, 8),
    ("sh_addr", 16, 8), ("sh_offset", 24, 8), ("sh_size", 32, 8),
    ("sh_link", 40, 4), ("sh_info", 44, 4), ("sh_addralign", 48, 8),
    ("sh_entsize", 56, 8),
]
EHDR_F = {n: (o, s) for n, o, s in EHDR}
PHDR_F = {n: (o, s) for n, o, s in PHDR}
SHDR_F = {n: (o, s) for n, o, s in SHDR}
PHENT, SHENT = 56, 64
FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}

PT_NAMES = {0: "PT_NULL", 1: "PT_LOAD", 2: "PT_DYNAMIC", 3: "PT_INTERP",
            4: "PT_NOTE", 5: "PT_SHLIB", 6: "PT_PHDR", 7: "PT_TLS",
            0x6474e550: "PT_GNU_EH_FRAME", 0x6474e551: "PT_GNU_STACK",
            0x6474e552: "PT_GNU_RELRO", 0x6474e553: "PT_GNU_PROPERTY"}
PT_VALUES = list(PT_NAMES) + [0x60000000, 0x6fffffff, 0x70000000, 0xffffffff]
SHT_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 15, 16, 17, 18,
              0x6ffffff6, 0x6ffffffe, 0x6fffffff, 0x70000000, 0xffffffff]
ET_VALUES = [0, 1, 2, 3, 4, 5, 0xfe00, 0xfeff, 0xff00, 0xffff]
EM_VALUES = [0, 3, 8, 20, 40, 62, 183, 243, 0xffff]


def rd(buf, off, size, endian="<"):
    return struct.unpack_from(endian + FMT[size], buf, off)[0]


def wr(buf, off, size, value, endian="<"):
    struct.pack_into(endian + FMT[size], buf, off, value & ((1 << (8 * size)) - 1))


class Elf:
    """The headers of a valid ELF64 little-endian file (the mutation source)."""

    def __init__(self, data):
        if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise SystemExit("elfmutate: input is not a 64-bit little-endian ELF file")
        self.data = data
        self.size = len(data)
        self.eh = {n: rd(data, o, s) for n, o, s in EHDR}
        eh = self.eh
        if eh["e_phentsize"] != PHENT and eh["e_phnum"]:
            raise SystemExit("elfmutate: unexpected e_phentsize")
        if eh["e_phoff"] + eh["e_phnum"] * PHENT > self.size:
            raise SystemExit("elfmutate: program headers beyond the file")
        if eh["e_shnum"] and (eh["e_shentsize"] != SHENT or
                              eh["e_shoff"] + eh["e_shnum"] * SHENT > self.size):
            raise SystemExit("elfmutate: bad section header table")
        self.ph = [{n: rd(data, eh["e_phoff"] + i * PHENT + o, s) for n, o, s in PHDR}
                   for i in range(eh["e_phnum"])]
        self.sh = [{n: rd(data, eh["e_shoff"] + i * SHENT + o, s) for n, o, s in SHDR}
                   for i in range(eh["e_shnum"])]
        self.names = []
        strtab = self.sh[eh["e_shstrndx"]] if eh["e_shstrndx"] < len(self.sh) else None
        for s in self.sh:
            name = ""
            if strtab is not None:
                o = strtab["sh_offset"] + s["sh_name"]
                end = data.find(b"\0", o)
                if 0 <= o < self.size and end >= 0:
                    name = data[o:end].decode("latin-1")
            self.names.append(name)

    def ph_off(self, i):
        return self.eh["e_phoff"] + i * PHENT

    def sh_off(self, i):
        return self.eh["e_shoff"] + i * SHENT

    def loads(self):
        return [i for i, p in enumerate(self.ph) if p["p_type"] == 1]

    def exec_load(self):
        for i in self.loads():
            if self.ph[i]["p_flags"] & 1:
                return i
        raise SystemExit("elfmutate: no executable PT_LOAD")

    def ph_desc(self, i):
        return "phdr[%d](%s)" % (i, PT_NAMES.get(self.ph[i]["p_type"],
                                                 hex(self.ph[i]["p_type"])))

    def sh_desc(self, i):
        return "shdr[%d](%s)" % (i, self.names[i] or "-")


def page(x):
    return (x + 0xfff) & ~0xfff


# ---- set -------------------------------------------------------------------

def resolve(elf, target):
    """FIELD spelling -> (file offset, size, description)."""
    if target.startswith("ident[") and target.endswith("]"):
        i = int(target[6:-1], 0)
        if not 0 <= i < 16:
            raise SystemExit("elfmutate: ident index out of range: " + target)
        return i, 1, target
    if target in EHDR_F:
        o, s = EHDR_F[target]
        return o, s, target
    for kind in ("phdr", "shdr"):
        if not target.startswith(kind + "["):
            continue
        sel, _, field = target[5:].partition("].")
        if kind == "phdr":
            if sel == "exec":
                i = elf.exec_load()
            elif sel == "load":
                i = elf.loads()[0]
            else:
                i = int(sel, 0)
            if not 0 <= i < len(elf.ph) or field not in PHDR_F:
                raise SystemExit("elfmutate: no such field: " + target)
            o, s = PHDR_F[field]
            return elf.ph_off(i) + o, s, "%s.%s" % (elf.ph_desc(i), field)
        if sel.startswith("."):
            if sel not in elf.names:
                raise SystemExit("elfmutate: no section " + sel)
            i = elf.names.index(sel)
        else:
            i = int(sel.lstrip("#"), 0)
        if not 0 <= i < len(elf.sh) or field not in SHDR_F:
            raise SystemExit("elfmutate: no such field: " + target)
        o, s = SHDR_F[field]
        return elf.sh_off(i) + o, s, "%s.%s" % (elf.sh_desc(i), field)
    raise SystemExit("elfmutate: unknown field: " + target)


def sec_index(elf, name):
    if name not in elf.names:
        raise SystemExit("elfmutate: no section " + name)
    return elf.names.index(name)


RAW = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}


def cmd_set(args):
    data = open(args.input, "rb").read()
    elf = Elf(data)
    buf = bytearray(data)
    truncate = None
    append = 0
    env = dict(elf.eh)
    xl = elf.ph[elf.exec_load()]
    env.update(size=elf.size, page=page, x_offset=xl["p_offset"], x_filesz=xl["p_filesz"],
               sec_idx=lambda n: sec_index(elf, n),
               sec_off=lambda n: elf.sh[sec_index(elf, n)]["sh_offset"])
    for a in args.assign:
        target, eq, expr = a.partition("=")
        if not eq:
            raise SystemExit("elfmutate: not FIELD=EXPR: " + a)
        if target in ("truncate", "append"):
            v = eval(expr, {"__builtins__": {}}, env)
            if target == "truncate":
                truncate = v
            else:
                append = v
            continue
        raw, bracket, rest = target.partition("[")
        if raw in RAW and bracket and rest.endswith("]"):
            off, size = eval(rest[:-1], {"__builtins__": {}}, env), RAW[raw]
            if not 0 <= off <= elf.size - size:
                raise SystemExit("elfmutate: offset outside the file: " + target)
            desc = "%s[%#x]" % (raw, off)
        else:
            off, size, desc = resolve(elf, target)
        orig = rd(data, off, size)
        v = eval(expr, {"__builtins__": {}}, dict(env, orig=orig))
        wr(buf, off, size, v)
        print("%s: %#x -> %#x" % (desc, orig, rd(buf, off, size)))
    if append:
        buf += bytes(append)
    if truncate is not None:
        del buf[truncate:]
        print("truncate: %d -> %d bytes" % (elf.size, len(buf)))
    open(args.output, "wb").write(buf)


# ---- dynname-at-end ---------------------------------------------------------

DT_STRTAB, DT_STRSZ = 5, 10


def cmd_dynname_at_end(args):
    data = open(args.input, "rb").read()
    elf = Elf(data)
    buf = bytearray(data)

    def file_off(vaddr):
        for i in elf.loads():
            p = elf.ph[i]
            if p["p_vaddr"] <= vaddr < p["p_vaddr"] + p["p_filesz"]:
                return p["p_offset"] + vaddr - p["p_vaddr"]
        raise SystemExit("elfmutate: address %#x not in the file" % vaddr)

    dyn = [p for p in elf.ph if p["p_type"] == 2]
    if not dyn:
        raise SystemExit("elfmutate: no PT_DYNAMIC")
    dyn_off = dyn[0]["p_offset"]
    tags = {}
    for k in range(dyn[0]["p_filesz"] // 16):
        tag = rd(data, dyn_off + 16 * k, 8)
        if tag == 0:
            break
        tags.setdefault(tag, dyn_off + 16 * k + 8)   # where its value is
    if DT_STRTAB not in tags or DT_STRSZ not in tags:
        raise SystemExit("elfmutate: no DT_STRTAB/DT_STRSZ")
    stroff = file_off(rd(data, tags[DT_STRTAB], 8))
    name = args.symbol.encode()
    dynsym = elf.sh[sec_index(elf, ".dynsym")]
    st_name = None
    for k in range(1, dynsym["sh_size"] // 24):
        n = rd(data, dynsym["sh_offset"] + 24 * k, 4)
        if data[stroff + n:stroff + n + len(name) + 1] == name + b"\0":
            st_name = n
            break
    if st_name is None:
        raise SystemExit("elfmutate: no dynamic symbol " + args.symbol)
    last = elf.ph[elf.loads()[-1]]
    at = elf.size   # the name's file offset
    if at - last["p_offset"] < st_name:
        raise SystemExit("elfmutate: the last segment is too small to hold the table")
    buf += name
    filesz = len(buf) - last["p_offset"]
    i = elf.loads()[-1]
    wr(buf, elf.ph_off(i) + PHDR_F["p_filesz"][0], 8, filesz)
    wr(buf, elf.ph_off(i) + PHDR_F["p_memsz"][0], 8, max(filesz, last["p_memsz"]))
    strtab = last["p_vaddr"] + (at - last["p_offset"]) - st_name
    wr(buf, tags[DT_STRTAB], 8, strtab)
    end = st_name + len(name)
    wr(buf, tags[DT_STRSZ], 8, eval(args.strsz, {"__builtins__": {}}, {"end": end}))
    open(args.output, "wb").write(buf)


# ---- bigendian -------------------------------------------------------------

def cmd_bigendian(args):
    data = open(args.input, "rb").read()
    elf = Elf(data)
    buf = bytearray(data)
    for _, o, s in EHDR:
        wr(buf, o, s, rd(data, o, s), ">")
    for i in range(len(elf.ph)):
        for _, o, s in PHDR:
            wr(buf, elf.ph_off(i) + o, s, rd(data, elf.ph_off(i) + o, s), ">")
    for i in range(len(elf.sh)):
        for _, o, s in SHDR:
            wr(buf, elf.sh_off(i) + o, s, rd(data, elf.sh_off(i) + o, s), ">")
    buf[5] = 2  # EI_DATA = ELFDATA2MSB
    open(args.output, "wb").write(buf)


# ---- info ------------------------------------------------------------------

def cmd_info(args):
    elf = Elf(open(args.file, "rb").read())
    print("size %d" % elf.size)
    print(" ".join("%s=%#x" % (n, elf.eh[n]) for n, _, _ in EHDR))
    for i, p in enumerate(elf.ph):
        print("%-26s " % elf.ph_desc(i) + " ".join("%s=%#x" % (n, p[n]) for n, _, _ in PHDR[1:]))
    for i, s in enumerate(elf.sh):
        print("%-26s " % elf.sh_desc(i) + " ".join("%s=%#x" % (n, s[n]) for n, _, _ in SHDR))


# ---- fuzz ------------------------------------------------------------------

def interesting(rng, elf, width, orig):
    """A value for an unsigned field of `width` bytes that is likely to hurt."""
    bits = 8 * width
    top = (1 << bits) - 1
    size = elf.size
    xl = elf.ph[elf.exec_load()]
    choices = [
        lambda: 0, lambda: 1, lambda: 2, lambda: top, lambda: top - 1,
        lambda: top - rng.randrange(1, 0x2000),
        lambda: 1 << (bits - 1), lambda: (1 << (bits - 1)) - 1,
        lambda: size, lambda: size - 1, lambda: size + 1,
        lambda: size - rng.randrange(1, 64), lambda: size + rng.randrange(1, 0x2000),
        lambda: page(size), lambda: size // 2, lambda: size * 2,
        lambda: rng.randrange(0, size + 1), lambda: rng.getrandbits(bits),
        lambda: rng.getrandbits(rng.randrange(1, bits + 1)),
        lambda: orig + 1, lambda: orig - 1, lambda: orig + rng.randrange(1, 256),
        lambda: orig - rng.randrange(1, 256), lambda: orig ^ (1 << rng.randrange(bits)),
        lambda: orig * 2, lambda: orig + size, lambda: orig + 0x1000,
        lambda: 0x1000, lambda: 0x10000, lambda: 0x200000, lambda: 7, lambda: 64,
        lambda: elf.eh["e_phoff"], lambda: elf.eh["e_shoff"],
        lambda: xl["p_offset"] + rng.randrange(0, xl["p_filesz"] + 1),
        lambda: xl["p_vaddr"], lambda: xl["p_filesz"],
    ]
    return rng.choice(choices)() & top


def fuzz_value(rng, elf, name, width, orig):
    r = rng.random()
    if name == "p_type" and r < 0.6:
        return rng.choice(PT_VALUES)
    if name == "sh_type" and r < 0.6:
        return rng.choice(SHT_VALUES)
    if name == "e_type" and r < 0.6:
        return rng.choice(ET_VALUES)
    if name == "e_machine" and r < 0.6:
        return rng.choice(EM_VALUES)
    if name in ("p_flags",) and r < 0.5:
        return rng.choice([0, 1, 2, 4, 5, 6, 7, 0xffffffff])
    if name in ("e_phentsize", "e_shentsize", "e_ehsize") and r < 0.5:
        return rng.choice([0, 1, 32, 52, 55, 56, 57, 63, 64, 65, 128, 0xffff])
    if name in ("e_phnum", "e_shnum", "e_shstrndx") and r < 0.5:
        return rng.choice([0, 1, orig - 1, orig + 1, 0xfeff, 0xff00, 0xffff])
    return interesting(rng, elf, width, orig)


def pick_phdr(rng, elf):
    if elf.loads() and rng.random() < 0.5:
        if rng.random() < 0.5:
            return elf.exec_load()
        return rng.choice(elf.loads())
    return rng.randrange(len(elf.ph))


def pick_shdr(rng, elf):
    r = rng.random()
    exec_secs = [i for i, s in enumerate(elf.sh) if s["sh_flags"] & 4]
    special = [i for i, s in enumerate(elf.sh)
               if s["sh_type"] in (2, 3, 11) or i == elf.eh["e_shstrndx"]]
    if exec_secs and r < 0.3:
        return rng.choice(exec_secs)
    if special and r < 0.55:
        return rng.choice(special)
    return rng.randrange(len(elf.sh))


def truncation(rng, elf):
    eh = elf.eh
    xl = elf.ph[elf.exec_load()]
    phend = eh["e_phoff"] + eh["e_phnum"] * PHENT
    shend = eh["e_shoff"] + eh["e_shnum"] * SHENT
    cands = [0, 1, 4, 5, 6, 16, 52, 63, 64, 65, eh["e_phoff"] + rng.randrange(1, PHENT),
             phend - 1, phend, phend + 1, xl["p_offset"],
             xl["p_offset"] + rng.randrange(1, max(2, xl["p_filesz"])),
             xl["p_offset"] + xl["p_filesz"] - 1, rng.randrange(0, elf.size),
             elf.size - 1, elf.size - rng.randrange(1, 4096)]
    if eh["e_shnum"]:
        cands += [eh["e_shoff"], eh["e_shoff"] + rng.randrange(1, eh["e_shnum"] * SHENT),
                  shend - 1]
    return max(0, min(elf.size - 1, rng.choice(cands)))


def mutate(data, seed, case):
    """Return (bytes, description) of mutation `case` of `data`."""
    rng = random.Random("zprewrite-elfmutate:%s:%d" % (seed, case))
    elf = Elf(data)
    buf = bytearray(data)
    descs = []
    truncate = None
    for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3, 4])):
        kind = rng.choices(["ident", "ehdr", "phdr", "shdr", "truncate"],
                           weights=[8, 27, 30, 25, 10])[0]
        if kind == "shdr" and not elf.sh:
            kind = "phdr"
        if kind == "ident":
            i = rng.choice([4, 5, 6, rng.randrange(16), rng.randrange(7)])
            v = rng.choice([0, 1, 2, 3, 0x7f, 0xff, rng.randrange(256), data[i] ^ 1])
            desc, off, width = "ident[%d]" % i, i, 1
        elif kind == "ehdr":
            name, off, width = rng.choice(EHDR)
            v = fuzz_value(rng, elf, name, width, rd(data, off, width))
            desc = name
        elif kind == "phdr":
            i = pick_phdr(rng, elf)
            name, o, width = rng.choice(PHDR)
            off = elf.ph_off(i) + o
            v = fuzz_value(rng, elf, name, width, rd(data, off, width))
            desc = "%s.%s" % (elf.ph_desc(i), name)
        elif kind == "shdr":
            i = pick_shdr(rng, elf)
            name, o, width = rng.choice(SHDR)
            off = elf.sh_off(i) + o
            v = fuzz_value(rng, elf, name, width, rd(data, off, width))
            desc = "%s.%s" % (elf.sh_desc(i), name)
        else:
            t = truncation(rng, elf)
            truncate = t if truncate is None else min(truncate, t)
            continue
        old = rd(buf, off, width)
        wr(buf, off, width, v)
        descs.append("%s: %#x -> %#x" % (desc, old, rd(buf, off, width)))
    if truncate is not None:
        del buf[truncate:]
        descs.append("truncate: %d -> %d bytes" % (elf.size, truncate))
    if bytes(buf) == data:  # e.g. a field set to its own value: cut one byte
        del buf[-1:]
        descs.append("truncate: %d -> %d bytes (no-op mutation)" % (elf.size, len(buf)))
    return bytes(buf), "; ".join(descs)


def cmd_fuzz(args):
    inputs = args.inputs.split(":") if args.inputs else [args.input]
    if not inputs[0] or (args.output is None) == (args.outdir is None):
        raise SystemExit("elfmutate: fuzz needs --input or --inputs, and -o or --outdir")
    if args.output is not None and len(args.case) != 1:
        raise SystemExit("elfmutate: -o takes one --case")
    cache = {}
    for n in args.case:
        path = inputs[n % len(inputs)]
        if path not in cache:
            cache = {path: open(path, "rb").read()}
        out, desc = mutate(cache[path], args.seed, n)
        if args.output is not None:
            open(args.output, "wb").write(out)
            print(desc)
        else:
            d = os.path.join(args.outdir, str(n))
            os.makedirs(d, exist_ok=True)
            open(os.path.join(d, "in.elf"), "wb").write(out)
            print("%d\t%s\t%s" % (n, path, desc))


def main(argv):
    if argv and argv[0].startswith("--"):  # "elfmutate.py --case N ..." = fuzz
        argv = ["fuzz"] + argv
    ap = argparse.ArgumentParser(prog="elfmutate.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("info")
    p.add_argument("file")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("set")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("assign", nargs="+")
    p.set_defaults(func=cmd_set)
    p = sub.add_parser("dynname-at-end")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("symbol")
    p.add_argument("strsz")
    p.set_defaults(func=cmd_dynname_at_end)
    p = sub.add_parser("bigendian")
    p.add_argument("input")
    p.add_argument("output")
    p.set_defaults(func=cmd_bigendian)
    p = sub.add_parser("fuzz")
    p.add_argument("--seed", default="1")
    p.add_argument("--case", type=int, action="append", required=True)
    p.add_argument("--input")
    p.add_argument("--inputs", help="colon-separated; case N uses input N mod count")
    p.add_argument("-o", "--output")
    p.add_argument("--outdir", help="write OUTDIR/N/in.elf for each case")
    p.set_defaults(func=cmd_fuzz)
    args = ap.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
