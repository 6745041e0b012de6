#!/usr/bin/env python3
"""report.py - turn the raw results of bench/run.sh into docs/performance.md.

Usage: bench/report.py RESULTS_DIR WORK_DIR DOCS_DIR

Reads what bench/run.sh left in RESULTS_DIR (bench/mech's per-repetition
files, hyperfine's JSON exports, smaps_rollup extracts, redis-benchmark CSV),
computes medians, spreads and paired ratios, and writes
  DOCS_DIR/performance.md          the page: every number in it comes from here
  WORK_DIR/plot-syscall.txt        bench/plot.gp input: cost per number
  WORK_DIR/plot-getpid.txt         bench/plot.gp input: getpid, every mechanism
Explanations are templates filled with the measured values; the verdicts
(MET / MISSED) are computed against the targets below.
"""
import glob
import json
import os
import statistics
import struct
import sys

# ---- targets (from the project's brief) ---------------------------------------
T_FLOOR_NS = 2.0        # 1. patched pass-through: at most this much above the call floor
T_HOOK_NS = 3.0         # 2. fakepid hook: at most this much above a plain call
T_PTRACE_X = 100.0      # 3. at least this many times cheaper than ptrace
T_SUD_X = 20.0          #    and than Syscall User Dispatch
T_START_STATIC = 1.05   # 4. start-up, rewritten / original
T_START_BUNDLE = 1.10
T_RW_SPEEDUP = 10.0     # 6. busybox: zprewrite at least 10x faster than objdump -d
T_RW_MS = 20.0          #    and at most 20 ms
T_BUNDLE_S = 1.0        #    --bundle of python3 at most 1 s
T_REDIS = 0.97          # 7. bundled redis throughput / original
T_TRAP_X = 1.15         # 8. trap path getpid, pass-through: at most this times the fault floor
T_CAUGHT_X = 1.10       # 10. --complete: a caught call at most this times a bare SUD trap
T_LEARN_X = 2.0         #     a learned run-time site at most this times a rewritten site

RES, WORK, DOCS = sys.argv[1:4]
ENV = {}
with open(os.path.join(RES, "env.txt")) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("=")
        ENV.setdefault(k, v)
HOST_PKU = ENV.get("pku") == "1"   # protection keys: page 0 can be execute-only
# Page-table isolation without PCID: every kernel entry and exit flushes the TLB.
TLB_FLUSH = "PTI" in ENV.get("vuln_meltdown", "") and ENV.get("pcid") == "0"
TLB_NOTE = ("This machine's kernel isolates its page tables (meltdown: PTI) and the CPU has no "
            "PCID, so every entry into the kernel and every return from it flushes the TLB: after "
            "each system call, each page the path touches (the trampoline at 0, the landing page, "
            "the runtime's code, its site table and `zp_slow_nr`, the stack below the red zone) "
            "costs a page walk, which a virtual machine makes longer. That likely accounts for "
            "most of the added cost here; it is not measured separately.")


# ---- statistics -------------------------------------------------------------------
def med(v):
    return statistics.median(v)


def quant(v, p):
    s = sorted(v)
    if len(s) == 1:
        return s[0]
    x = p * (len(s) - 1)
    i = int(x)
    j = min(i + 1, len(s) - 1)
    return s[i] + (s[j] - s[i]) * (x - i)


def iqr(v, fmt="{:.1f}"):
    """Interquartile range as text: the spread quoted next to a median."""
    return (fmt + " … " + fmt).format(quant(v, 0.25), quant(v, 0.75))


def iqr_ns(v):
    """The interquartile range of ns values, each formatted as ns() does."""
    return f"{ns(quant(v, 0.25))} … {ns(quant(v, 0.75))}"


def more_less(v, unit="ns"):
    """+3.2 -> '3.2 ns more', -1.5 -> '1.5 ns less'."""
    return f"{ns(abs(v))} {unit} {'more' if v >= 0 else 'less'}"


def rng(v, fmt="{:.1f}"):
    return (fmt + " … " + fmt).format(min(v), max(v))


def ns(v):
    return f"{v:.1f}" if abs(v) < 1000 else f"{v:.0f}"


def sgn(v):
    return f"{v:+.1f}" if abs(v) < 1000 else f"{v:+.0f}"


def verdict(ok):
    return "**MET**" if ok else "**MISSED**"


# ---- result files ---------------------------------------------------------------
def numbered(fmt):
    """The paths fmt with {r} = 0, 1, 2... that exist, up to the first missing one
    (bench/run.sh numbers the files of its rounds and repetitions so)."""
    out = []
    while os.path.exists(fmt.replace("{r}", str(len(out)))):
        out.append(fmt.replace("{r}", str(len(out))))
    return out


def read_num(path):
    with open(path) as f:
        return float(f.read())


# ---- bench/mech per-repetition files (mech -a) ------------------------------------
SYSC_NAMES = {}   # number -> mech's name for it, as the files give them


def load_mech(path, page0=None):
    """{(mech, nr): [ns per repetition]}; page0: what mech must have found at
    address 0 ("mapped" or "unmapped": the path a rewritten mech took)."""
    d = {}
    with open(path) as f:
        for line in f:
            if line.startswith("# page0 ") and page0 and line.split()[2] != page0:
                sys.exit(f"report: {path}: page 0 {line.split()[2]}, expected {page0} "
                         "(was ZP_PAGE0 honoured?)")
            if line.startswith("#") or not line.strip():
                continue
            m, nr, name, _rep, v = line.split()
            d.setdefault((m, int(nr)), []).append(float(v))
            SYSC_NAMES[int(nr)] = name
    return d


def load_rounds(kind, page0=None):
    return [load_mech(p, page0) for p in numbered(os.path.join(RES, "mech", kind + ".{r}.txt"))]


# Page 0 in every rewritten mech (ZP_PAGE0=fast, or a runtime from before the
# trap path), none in the original nor on the trap path (ZP_PAGE0=never).
ORIG, ZPR, FAKE = load_rounds("orig", "unmapped"), load_rounds("zp", "mapped"), load_rounds("fake", "mapped")
WORIG, WZP = load_rounds("wall-orig", "unmapped"), load_rounds("wall-zp", "mapped")
FLOOR, TRAP = load_rounds("floor", "unmapped"), load_rounds("trap", "unmapped")
# Item 10: --complete (page 0, trap path, with fakepid) and --vdso (with clockhook).
COMP, COMPT = load_rounds("comp", "mapped"), load_rounds("comp-trap", "unmapped")
COMPF = load_rounds("comp-fake", "mapped")
VDSO, VDSOH = load_rounds("vdso", "mapped"), load_rounds("vdso-hook", "mapped")
FAKET, FWD = load_rounds("fake-trap", "unmapped"), load_rounds("fwd", "mapped")
# The runtime before a change (bench/run.sh BENCH_BEFORE), if measured.
ZPO, FAKEO, FWDO = load_rounds("zp-old", "mapped"), load_rounds("fake-old", "mapped"), load_rounds("fwd-old", "mapped")
BEFORE = ENV.get("before_sha", "") if ZPO else ""
NR = len(ORIG)
GETPID = 39
# Every number the rewritten mech measured with all of its loops (bench/run.sh's
# ALL_NRS, from mech.c's table), in ascending order as there.
SYSCALLS = sorted((nr, SYSC_NAMES[nr]) for m, nr in ZPR[0] if m == "native")
SYSC_DESC = {0: "read(-1) → EBADF", 1: "write(-1) → EBADF", 39: "getpid", 110: "getppid",
             318: "getrandom(len 0), for 231", 500: "500 → ENOSYS",
             4000: "4000 → ENOSYS (deep in the trampoline)",
             100000: "100000 → ENOSYS (outside the trampoline: fault path)"}
# The first number whose `call *%rax` lands outside the trampoline (its last 4
# bytes, runtime/trampoline.c): from there on a call takes the fault path.
FAULT_NR = 8188


def kg(m):
    """The getpid item of mechanism m."""
    return (m, GETPID)


def pairs(rounds, a, b, op):
    """In-process pairs: op(a, b) for every repetition of every round."""
    out = []
    for d in rounds:
        for x, y in zip(d[a], d[b]):
            out.append(op(x, y))
    return out


def allreps(rounds, key):
    return [v for d in rounds for v in d[key]]


def per_round(ra, ka, rb, kb, op):
    """Cross-process pairs: op(median of a in round r, median of b in round r)."""
    return [op(med(x[ka]), med(y[kb])) for x, y in zip(ra, rb)]


def sub(x, y):
    return x - y


def div(x, y):
    return x / y


# ---- ELF: bytes of executable code (sum of SHF_EXECINSTR sections) ------------------
def exec_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
    total = 0
    for i in range(shnum):
        off = shoff + i * shentsize
        _name, typ, flags = struct.unpack_from("<IIQ", data, off)
        size, = struct.unpack_from("<Q", data, off + 0x20)
        if flags & 0x4 and typ != 8:        # SHF_EXECINSTR, not SHT_NOBITS
            total += size
    return total


def load_segments(path):
    """Number of PT_LOAD program headers."""
    with open(path, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return sum(1 for i in range(phnum)
               if struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 1)


# ---- a model of the runtime's site table (runtime/sitetable.c, runtime/entry.S) ----
HASH_MULT = 0x9e3779b97f4a7c15   # entry.S and sitetable.c: 2^64 / golden ratio


def list_sites(path, bias=0):
    """Patched sites from `zprewrite --list` output: [(address + bias, location)]."""
    out = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if line.startswith("0x") and len(w) >= 5 and w[4] in ("patch", "stub"):
                out.append((int(w[0], 16) + bias, w[3]))
    return out


class SiteTable:
    """Open addressing as in sitetable.c: 2^bits slots, at least 4x the sites, home slot
    (site * HASH_MULT mod 2^64) >> (64 - bits), linear probing, sites inserted in order."""

    def __init__(self, sites):
        n = len(sites)
        self.bits = 1
        while (1 << self.bits) < 4 * n:
            self.bits += 1
        self.mask = (1 << self.bits) - 1
        self.slots = [0] * (1 << self.bits)
        for site in sites:
            i = self.home(site)
            while self.slots[i] and self.slots[i] != site:
                i = (i + 1) & self.mask
            self.slots[i] = site
        self.homes = len({self.home(x) for x in sites})
        self.n = n

    def home(self, site):
        return ((site * HASH_MULT) & (2 ** 64 - 1)) >> (64 - self.bits)

    def probes(self, site):
        i, k = self.home(site), 1
        while self.slots[i] != site:
            i, k = (i + 1) & self.mask, k + 1
        return k


def hf(path, idx=0):
    with open(path) as f:
        return json.load(f)["results"][idx]


def hf_by_cmd(path):
    with open(path) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


out = []
summary = []   # (item, what, value, target, result)


def emit(s=""):
    out.append(s)


# =====================================================================================
# 1. pass-through cost per number
# =====================================================================================
rows1 = []
for nr, name in SYSCALLS:
    k = lambda m: (m, nr)
    d_nat = pairs(ZPR, k("native"), k("jit-native"), sub)
    d_floor = pairs(ZPR, k("native"), k("jit-floor"), sub)
    d_find = pairs(ZPR, k("native"), k("jit-floor-ind"), sub)
    r_nat = pairs(ZPR, k("native"), k("jit-native"), div)
    x_nat = per_round(ZPR, k("native"), ORIG, k("native"), sub)
    x_floor = per_round(ZPR, k("native"), ORIG, k("floor"), sub)
    row = dict(nr=nr, name=name,
               native=med(allreps(ZPR, k("jit-native"))),
               floor=med(allreps(ZPR, k("jit-floor"))),
               find=med(allreps(ZPR, k("jit-floor-ind"))),
               zp=med(allreps(ZPR, k("native"))),
               d_nat=d_nat, d_floor=d_floor, d_find=d_find, r_nat=r_nat,
               x_nat=x_nat, x_floor=x_floor,
               s_native=pairs(ORIG, k("jit-native"), k("native"), div),
               s_floor=pairs(ORIG, k("jit-floor"), k("floor"), div),
               o_native=med(allreps(ORIG, k("native"))),
               o_floor=med(allreps(ORIG, k("floor"))),
               fault=(nr >= FAULT_NR))
    row["ok"] = row["fault"] or med(d_floor) <= T_FLOOR_NS
    rows1.append(row)
in_tramp = [r for r in rows1 if not r["fault"]]
real = [r for r in rows1 if r["nr"] < 500]          # system calls that exist
invalid = [r for r in in_tramp if r["nr"] >= 500]   # numbers the kernel refuses
ok1 = all(r["ok"] for r in real)
ok1i = all(r["ok"] for r in invalid)
worst = max(real, key=lambda r: med(r["d_floor"]))
worst_i = max(invalid, key=lambda r: med(r["d_floor"]))
gp = next(r for r in rows1 if r["nr"] == GETPID)
summary.append(("1", "pass-through, added over the call floor, real system calls 0 … 318 "
                f"(worst: {worst['name']})", f"{med(worst['d_floor']):+.1f} ns",
                f"≤ {T_FLOOR_NS:.0f} ns", verdict(ok1)))
summary.append(("1", "pass-through, added over the call floor, numbers 500 and 4000 "
                f"(worst: {worst_i['nr']})", f"{med(worst_i['d_floor']):+.1f} ns",
                f"≤ {T_FLOOR_NS:.0f} ns", verdict(ok1i)))
# The cost by call site: the loop's own site against the C library's getpid() and
# syscall(), whose sites come later in the site table.
MECH_SITES = list_sites(os.path.join(RES, "mech-sites.txt"))
MTAB = SiteTable([a for a, _ in MECH_SITES])


def site_probes(sites, table, func):
    return [table.probes(a) for a, loc in sites if loc.rsplit("+", 1)[0] == func]


site_rows = []
for mech, func, label in (("native", "zpb_loop_native", "mech's loop (`syscall` in mech_loops.S)"),
                          ("libc-getpid", "getpid", "the C library's getpid()"),
                          ("libc-syscall", "syscall", "the C library's syscall(SYS_getpid)")):
    ref = "jit-native"
    row = dict(label=label, probes=site_probes(MECH_SITES, MTAB, func),
               orig=med(allreps(ORIG, kg(mech))), zp=med(allreps(ZPR, kg(mech))),
               cross=per_round(ZPR, kg(mech), ORIG, kg(mech), sub),
               zp_in=pairs(ZPR, kg(mech), kg(ref), sub),
               orig_in=pairs(ORIG, kg(mech), kg("native"), sub))
    site_rows.append(row)
worst_site = max(site_rows, key=lambda r: med(r["cross"]))
# Cost of one probe: the slope between the loop's site and the C library's syscall().
_p0 = site_rows[0]["probes"][0] if site_rows[0]["probes"] else 0
_p2 = site_rows[-1]["probes"][0] if site_rows[-1]["probes"] else 0
ns_per_probe = ((med(site_rows[-1]["cross"]) - med(site_rows[0]["cross"])) / (_p2 - _p0)
                if _p2 != _p0 else float("nan"))
# A site that costs clearly more than the loop's means slow lookups in the table:
# more by 2 ns, and with three quarters of its rounds above the loop's median
# (cross-process pairs spread widely on a shared machine).
site_spread = med(worst_site["cross"]) - med(site_rows[0]["cross"])
site_problem = site_spread > 2 and quant(worst_site["cross"], 0.25) > med(site_rows[0]["cross"])
summary.append(("1", "the same getpid from the C library's syscall(), added by the rewrite "
                f"(site table: {worst_site['probes'][0] if worst_site['probes'] else '?'} probes)",
                f"{med(worst_site['cross']):+.1f} ns", "(see item 1)",
                "**problem**" if site_problem else "-"))
summary.append(("1", "pass-through getpid, added over an unpatched getpid",
                f"{med(gp['d_nat']):+.1f} ns (×{med(gp['r_nat']):.3f})",
                "(zpoline: +15 … +24 ns)", "-"))

# =====================================================================================
# 2. fakepid
# =====================================================================================
f_over = pairs(FAKE, kg("native"), kg("cached"), sub)
f_vs_kernel = pairs(FAKE, kg("jit-native"), kg("native"), div)
f_minus_kernel = pairs(FAKE, kg("native"), kg("jit-native"), sub)
f_x_over = per_round(FAKE, kg("native"), ORIG, kg("cached"), sub)
f_hook = med(allreps(FAKE, kg("native")))
f_cached = med(allreps(FAKE, kg("cached")))
f_kernel = med(allreps(FAKE, kg("jit-native")))
ok2 = med(f_over) <= T_HOOK_NS
summary.append(("2", "fakepid hook: getpid answered without the kernel, added over a plain call",
                f"{med(f_over):+.1f} ns", f"≤ {T_HOOK_NS:.0f} ns (zpoline: 12 … 15 ns per call)",
                verdict(ok2)))

# =====================================================================================
# 3. other mechanisms
# =====================================================================================
w_zp = [med(d[kg("native")]) for d in WZP]
mech3 = {}
for m in ("ptrace", "seccomp", "sud"):
    mech3[m] = dict(
        wall=[med(d[kg(m)]) for d in WORIG],
        ratio=per_round(WORIG, kg(m), WZP, kg("native"), div),
        vs_native=pairs(WORIG, kg(m), kg("native"), div),
        cpu_ratio=(per_round(ORIG, kg(m), ZPR, kg("native"), div) if m != "ptrace" else None))
ok3p = med(mech3["ptrace"]["ratio"]) >= T_PTRACE_X
ok3s = med(mech3["sud"]["ratio"]) >= T_SUD_X
summary.append(("3", "ptrace / zprewrite pass-through (getpid)",
                f"×{med(mech3['ptrace']['ratio']):.0f}", f"≥ ×{T_PTRACE_X:.0f}", verdict(ok3p)))
summary.append(("3", "SUD / zprewrite pass-through (getpid)",
                f"×{med(mech3['sud']['ratio']):.1f}", f"≥ ×{T_SUD_X:.0f}", verdict(ok3s)))

# =====================================================================================
# 4. start-up
# =====================================================================================
TRUE = ENV["true"]
VMCOST = {}
with open(os.path.join(RES, "vmcost.txt")) as f:
    for line in f:
        k, v = line.split()
        VMCOST[k] = float(v)


def load_il(name):
    """bench/interleave output: {cmd index: [(wall_us, cpu_us, minflt)] by round}"""
    d = {}
    with open(os.path.join(RES, "startup", f"{name}.txt")) as f:
        for line in f:
            if line.startswith("#"):
                continue
            c, _r, w, cp, fl = line.split()
            d.setdefault(int(c), []).append((float(w) / 1e3, float(cp) / 1e3, int(fl)))
    return d


def strace_counts(path):
    """{system call name: count} from an `strace -f -o` log."""
    import re
    n = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^(?:\d+\s+)?([a-z_0-9]+)\(", line)
            if m:
                n[m.group(1)] = n.get(m.group(1), 0) + 1
    return n


def startup(name, target):
    d = load_il(name)
    a, b = d[0], d[1]
    row = dict(name=name, target=target,
               o=med([x[0] for x in a]), z=med([x[0] for x in b]),
               oq=iqr([x[0] for x in a], "{:.0f}"), zq=iqr([x[0] for x in b], "{:.0f}"),
               diff=[y[0] - x[0] for x, y in zip(a, b)],
               ratio=[y[0] / x[0] for x, y in zip(a, b)],
               cratio=[y[1] / x[1] for x, y in zip(a, b) if x[1] > 0],
               cdiff=[y[1] - x[1] for x, y in zip(a, b)],
               oflt=med([x[2] for x in a]), zflt=med([x[2] for x in b]), n=len(a))
    hfr = []
    for p in numbered(os.path.join(RES, "startup", f"hf-{name}" + ".{r}.json")):
        # The pair's order alternates: the original is the one named first in pairs.txt.
        res = hf_by_cmd(p)
        hfr.append(res[row_cmds[name][1]]["median"] / res[row_cmds[name][0]]["median"])
    row["hf"] = hfr
    so = strace_counts(os.path.join(RES, "startup", f"{name}.orig.strace"))
    sz = strace_counts(os.path.join(RES, "startup", f"{name}.zp.strace"))
    row["sys_o"] = sum(so.values())
    row["sys_z"] = sum(sz.values())
    row["sys_added"] = {k: sz.get(k, 0) - so.get(k, 0) for k in sorted(set(so) | set(sz))
                        if sz.get(k, 0) != so.get(k, 0)}
    row["ok"] = target is None or med(row["ratio"]) <= target
    return row


row_cmds = {}
with open(os.path.join(RES, "startup", "pairs.txt")) as f:
    for line in f:
        name, _, rest = line.strip().partition(" ")
        row_cmds[name] = rest.split(" :: ")
st = [startup("busybox", T_START_STATIC), startup("empty", None), startup("mimic", None),
      startup("bundle", T_START_BUNDLE)]
st_by = {r["name"]: r for r in st}
ok4s = st_by["busybox"]["ok"]
ok4b = st_by["bundle"]["ok"]
summary.append(("4", "start-up, static busybox `true`, rewritten / original",
                f"×{med(st_by['busybox']['ratio']):.3f} ({med(st_by['busybox']['diff']):+.0f} µs)",
                f"≤ ×{T_START_STATIC:.2f} (zpoline: 276 … 344 ms)", verdict(ok4s)))
summary.append(("4", "start-up, bundled /bin/true / /bin/true",
                f"×{med(st_by['bundle']['ratio']):.3f} ({med(st_by['bundle']['diff']):+.0f} µs)",
                f"≤ ×{T_START_BUNDLE:.2f}", verdict(ok4b)))

# =====================================================================================
# 5. memory
# =====================================================================================
MEMF = ["Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
        "Anonymous", "maps"]


def load_mem(name):
    vals = {}
    page0 = set()
    for p in sorted(glob.glob(os.path.join(RES, "mem", f"{name}.*.txt"))):
        with open(p) as f:
            for line in f:
                w = line.split()
                if not w:
                    continue
                if w[0] == "page0":
                    page0.add(" ".join(w[1:]))
                elif w[0] in MEMF:
                    vals.setdefault(w[0], []).append(int(w[1]))
    return {k: med(v) for k, v in vals.items()}, page0


mem = {n: load_mem(n) for n in ("busybox", "busybox.zp", "sleep", "sleep.bundle")}
files = []
with open(os.path.join(RES, "rewrite", "files.txt")) as f:
    for line in f:
        key, src, dst, osize, zsize = line.split()
        files.append(dict(key=key, src=src, dst=dst, osize=int(osize), zsize=int(zsize),
                          code=exec_bytes(src)))
bb_added_rss = mem["busybox.zp"][0]["Rss"] - mem["busybox"][0]["Rss"]
bb_added_pd = mem["busybox.zp"][0]["Private_Dirty"] - mem["busybox"][0]["Private_Dirty"]
summary.append(("5", "memory added per process, static busybox (Rss / Private_Dirty)",
                f"{bb_added_rss:+.0f} / {bb_added_pd:+.0f} kB", "(no target)", "-"))
fb = files[0]
summary.append(("5", "file size added, busybox",
                f"{fb['zsize'] - fb['osize']:+,} bytes ({(fb['zsize'] / fb['osize'] - 1) * 100:+.1f} %)",
                "(no target; E9Patch ~+30 %)", "-"))

# =====================================================================================
# 6. rewriter speed
# =====================================================================================
for fi in files:
    z = hf(os.path.join(RES, "rewrite", f"zp-{fi['key']}.json"))
    o = hf(os.path.join(RES, "rewrite", f"objdump-{fi['key']}.json"))
    fi.update(zbest=z["min"] * 1e3, zmed=z["median"] * 1e3, zcpu=(z["user"] + z["system"]) * 1e3,
              obest=o["min"] * 1e3, omed=o["median"] * 1e3, ocpu=(o["user"] + o["system"]) * 1e3,
              zn=len(z["times"]), on=len(o["times"]))
    fi["mbs"] = fi["code"] / 1e6 / (fi["zbest"] / 1e3)
    fi["speedup"] = fi["omed"] / fi["zmed"]
    with open(os.path.join(RES, "rewrite", f"{fi['key']}.summary")) as f:
        fi["sites"] = f.read().strip().lstrip("# ").replace("summary: ", "")
parts = hf_by_cmd(os.path.join(RES, "rewrite", "zp-parts.json"))
p_version = next(v for c, v in parts.items() if c.endswith("--version"))
p_list = next(v for c, v in parts.items() if "--list" in c)
bp = hf(os.path.join(RES, "rewrite", "bundle-python3.json"))
bp_bytes = int(read_num(os.path.join(RES, "rewrite", "bundle-python3.bytes")))
bp_libs = int(read_num(os.path.join(RES, "rewrite", "bundle-python3.libs")))
ok6x = fb["speedup"] >= T_RW_SPEEDUP
ok6t = fb["zmed"] <= T_RW_MS
ok6b = bp["median"] <= T_BUNDLE_S
summary.append(("6", "rewriting busybox: objdump -d time / zprewrite time",
                f"×{fb['speedup']:.1f}", f"≥ ×{T_RW_SPEEDUP:.0f}", verdict(ok6x)))
summary.append(("6", "rewriting busybox: median time (best)",
                f"{fb['zmed']:.1f} ms ({fb['zbest']:.1f} ms)", f"≤ {T_RW_MS:.0f} ms", verdict(ok6t)))
summary.append(("6", "--bundle python3: median time",
                f"{bp['median'] * 1e3:.0f} ms", f"≤ {T_BUNDLE_S * 1e3:.0f} ms", verdict(ok6b)))

# =====================================================================================
# 7. redis
# =====================================================================================
def load_csv(path):
    d = {}
    with open(path) as f:
        for line in f:
            w = [x.strip('"') for x in line.strip().split(",")]
            if w[0] in ("SET", "GET"):
                d[w[0]] = dict(rps=float(w[1]), p50=float(w[4]))
    return d


redis_rounds = [(load_csv(p), load_csv(os.path.join(RES, "redis", f"zp.{i}.csv")))
                for i, p in enumerate(numbered(os.path.join(RES, "redis", "orig.{r}.csv")))]
redis = {}
for t in ("SET", "GET"):
    redis[t] = dict(o=[a[t]["rps"] for a, _ in redis_rounds], z=[b[t]["rps"] for _, b in redis_rounds],
                    ratio=[b[t]["rps"] / a[t]["rps"] for a, b in redis_rounds],
                    op50=[a[t]["p50"] for a, _ in redis_rounds], zp50=[b[t]["p50"] for _, b in redis_rounds])
redis_all = [x for t in ("SET", "GET") for x in redis[t]["ratio"]]
ok7 = med(redis_all) >= T_REDIS


# Server CPU time per request (both tests: 2 × N requests), µs; paired per round.
nreq = 2 * int(ENV["redis_n"])
redis_cpu_o = [read_num(os.path.join(RES, "redis", f"orig.{i}.cpu")) / nreq / 1e3
               for i in range(len(redis_rounds))]
redis_cpu_z = [read_num(os.path.join(RES, "redis", f"zp.{i}.cpu")) / nreq / 1e3
               for i in range(len(redis_rounds))]
redis_cpu_ratio = [z / o for o, z in zip(redis_cpu_o, redis_cpu_z)]
# The bundled server's site table, modelled with its objects' load addresses.
redis_objs = {}
with open(os.path.join(RES, "redis", "zp-maps.txt")) as f:
    for line in f:
        w = line.split()
        if len(w) >= 6 and "/redis.bundle/" in w[5]:
            name = os.path.basename(w[5])
            start, off = int(w[0].split("-")[0], 16), int(w[2], 16)
            if off == 0 and (name not in redis_objs or start < redis_objs[name]):
                redis_objs[name] = start
order = sorted(redis_objs, key=lambda n: (not n.startswith("ld-linux"), redis_objs[n]))
redis_sites = []
for name in order:
    p_ = os.path.join(RES, "redis", "sites", name + ".txt")
    if os.path.exists(p_):
        redis_sites += [(a, name, loc) for a, loc in list_sites(p_, redis_objs[name])]
RTAB = SiteTable([a for a, _, _ in redis_sites])
redis_hot = [(name, loc, RTAB.probes(a)) for a, name, loc in redis_sites
             if name.startswith("libc.so") and loc.rsplit("+", 1)[0] in ("read", "write", "epoll_wait")]
redis_mean_probes = statistics.mean(RTAB.probes(a) for a, _, _ in redis_sites) if redis_sites else 0

servers = {}
with open(os.path.join(RES, "redis", "servers.txt")) as f:
    for line in f:
        k, _, v = line.strip().partition(" ")
        servers[k] = v
summary.append(("7", "redis-server bundled / original, requests per second (SET and GET)",
                f"×{med(redis_all):.3f}", f"≥ ×{T_REDIS:.2f}", verdict(ok7)))
summary.append(("7", "redis-server bundled / original, server CPU time per request",
                f"×{med(redis_cpu_ratio):.3f}", "(no target)", "-"))

# =====================================================================================
# 8. page 0 and the trap path
# =====================================================================================
def round_pairs(rounds, a, b, op):
    """Per round: the median of the in-process pairs op(a, b) of its repetitions."""
    return [med([op(x, y) for x, y in zip(d[a], d[b])]) for d in rounds]


def slower(diffs):
    """A clear slow-down, as for the sites of item 1: more by 1 ns in the median,
    and in three quarters of the rounds."""
    return med(diffs) > 1 and quant(diffs, 0.25) > 0


# getpid through each path: (label, rounds, mechanism, its unpatched reference
# in the same process, the floor it is held against, in-process or not).
trap_rows = [
    ("raw `syscall` (unpatched)", FLOOR, "native", "native", "fault"),
    ("page 0, pass-through", ZPR, "native", "jit-native", "fault"),
    ("trap path, pass-through (`ZP_PAGE0=never`)", TRAP, "native", "jit-native", "fault"),
    ("trap path, fakepid hook (answered without the kernel)", FAKET, "native", "jit-native",
     "fault-cached"),
    ("fault floor: `call *%rax` faults, a minimal SIGSEGV handler makes the getpid", FLOOR,
     "fault", "native", "fault"),
    ("fault floor, the handler answers a stored value", FLOOR, "fault-cached", "native",
     "fault-cached"),
    ("Syscall User Dispatch + SIGSYS handler (stored value)", FLOOR, "sud", "native", "fault-cached"),
    ("seccomp RET_TRAP + SIGSYS handler (stored value)", FLOOR, "seccomp", "native", "fault-cached"),
]
if BEFORE:
    trap_rows.insert(2, (f"page 0, pass-through, before ({BEFORE})", ZPO, "native", "jit-native", "fault"))
for i, (label, rounds, m, ref, fl) in enumerate(trap_rows):
    row = dict(label=label, ns=allreps(rounds, kg(m)), raw=pairs(rounds, kg(m), kg(ref), div))
    if fl and rounds is FLOOR:
        row["floor"] = pairs(FLOOR, kg(m), kg(fl), div)
    elif fl:
        row["floor"] = per_round(rounds, kg(m), FLOOR, kg(fl), div)
    row["paired"] = rounds is FLOOR
    trap_rows[i] = row
tr = next(r for r in trap_rows if r["label"].startswith("trap path, pass"))
trap_x = tr["floor"]
ok8 = med(trap_x) <= T_TRAP_X
# The same ratio with each side first divided by its own process's raw getpid:
# what is left of the difference between the two processes' speeds.
trap_xn = [t / f for t, f in zip(round_pairs(TRAP, kg("native"), kg("jit-native"), div),
                                 round_pairs(FLOOR, kg("fault"), kg("native"), div))]
# Where the trap path's time goes.
fl_cached = med(allreps(FLOOR, kg("fault-cached")))
fl_getpid = pairs(FLOOR, kg("fault"), kg("fault-cached"), sub)
trap_extra = per_round(TRAP, kg("native"), FLOOR, kg("fault"), sub)
fault_vs_sud = pairs(FLOOR, kg("fault-cached"), kg("sud"), sub)
trap_vs_sud = per_round(TRAP, kg("native"), FLOOR, kg("sud"), div)
summary.append(("8", "trap path (no page 0), getpid pass-through / the fault floor",
                f"×{med(trap_x):.3f} ({ns(med(allreps(TRAP, kg('native'))))} ns)",
                f"≤ ×{T_TRAP_X:.2f}", verdict(ok8)))
summary.append(("8", "trap path / Syscall User Dispatch (getpid)", f"×{med(trap_vs_sud):.2f}",
                "(no target)", "-"))
# Page 0 before and after (BENCH_BEFORE): the pass-through path's added cost
# over an unpatched call, per number, compared round by round.
p0_rows = []
if BEFORE:
    for nr, name in SYSCALLS:
        if nr >= FAULT_NR:
            continue
        k = lambda m: (m, nr)
        new = round_pairs(ZPR, k("native"), k("jit-native"), sub)
        old = round_pairs(ZPO, k("native"), k("jit-native"), sub)
        p0_rows.append(dict(nr=nr, name=name, new=pairs(ZPR, k("native"), k("jit-native"), sub),
                            old=pairs(ZPO, k("native"), k("jit-native"), sub),
                            diff=[a - b for a, b in zip(new, old)]))
    p0_gp = next(r for r in p0_rows if r["nr"] == GETPID)
    p0_slow = [r for r in p0_rows if slower(r["diff"])]
    summary.append(("8", f"page 0 pass-through getpid, added over an unpatched call: before "
                    f"({BEFORE}) → now", f"{sgn(med(p0_gp['old']))} → {sgn(med(p0_gp['new']))} ns "
                    f"(change {sgn(med(p0_gp['diff']))})", "no slower", verdict(not p0_slow)))

# =====================================================================================
# 9. the hook path, before and after the runtime stack
# =====================================================================================
# (label, rounds now, rounds before, mechanism, reference in the same process)
hook_rows = []
for label, now, old, ref in (
        ("pass-through fast path (no hook), added over an unpatched getpid", ZPR, ZPO, "jit-native"),
        ("fakepid hook (answers getpid), added over a plain call", FAKE, FAKEO, "cached"),
        ("fwdhook (forwards with zp_forward), added over an unpatched getpid", FWD, FWDO,
         "jit-native")):
    row = dict(label=label, ns=allreps(now, kg("native")), new=pairs(now, kg("native"), kg(ref), sub))
    if BEFORE:
        row["ns_old"] = allreps(old, kg("native"))
        row["old"] = pairs(old, kg("native"), kg(ref), sub)
        row["diff"] = [a - b for a, b in zip(round_pairs(now, kg("native"), kg(ref), sub),
                                             round_pairs(old, kg("native"), kg(ref), sub))]
    hook_rows.append(row)
# The hook path's own share around a real call: fwdhook's added cost minus the
# fast path's, round by round.
def hook_share_of(fwd, fast):
    return [a - b for a, b in zip(round_pairs(fwd, kg("native"), kg("jit-native"), sub),
                                  round_pairs(fast, kg("native"), kg("jit-native"), sub))]


hook_share = hook_share_of(FWD, ZPR)
hook_share_old = hook_share_of(FWDO, ZPO) if BEFORE else []
for r in hook_rows[1:]:
    what = r["label"].split(" (")[0]
    if BEFORE:
        summary.append(("9", f"hook path, {what}, added per call: before ({BEFORE}) → now",
                        f"{sgn(med(r['old']))} → {sgn(med(r['new']))} ns (change {sgn(med(r['diff']))})",
                        "(no target)", "-"))
    else:
        summary.append(("9", f"hook path, {what}, added per call", f"{sgn(med(r['new']))} ns",
                        "(no target)", "-"))

# =====================================================================================
# 10. every system call: --complete and --vdso
# =====================================================================================
CLOCK = 228


def kc(m):
    """The clock_gettime item of mechanism m."""
    return (m, CLOCK)


# (label, rounds, mechanism, reference label, reference rounds, its mechanism):
# in-process when both rounds are the same, else per round (adjacent processes).
c_rows = []
for label, ra, ma, rlabel, rb, mb in (
        ("rewritten site, `--complete`, page 0", COMP, "native",
         "the same site without --complete (mech.zp)", ZPR, "native"),
        ("rewritten site, `--complete`, trap path", COMPT, "native",
         "the same site without --complete, trap path", TRAP, "native"),
        ("an allowed call with dispatch on (`sud-pass`, original mech)", FLOOR, "sud-pass",
         "the same loop, dispatch off", FLOOR, "native"),
        ("run-time site, learned (`jit-native`), page 0", COMP, "jit-native",
         "the rewritten site, same process", COMP, "native"),
        ("run-time site, learned (`jit-native`), trap path", COMPT, "jit-native",
         "the rewritten site, same process", COMPT, "native"),
        ("file-backed site, caught at every call (`file-native`), pass-through", COMP,
         "file-native", "bare SUD: a SIGSYS handler answers (`sud`)", FLOOR, "sud"),
        ("the same", COMP, "file-native",
         "SUD, the handler makes the getpid (`sud-real`)", FLOOR, "sud-real"),
        ("the same, trap path", COMPT, "file-native", "bare SUD (`sud`)", FLOOR, "sud"),
        ("file-backed site, caught, fakepid hook answers", COMPF, "file-native",
         "bare SUD (`sud`, original mech)", ORIG, "sud"),
        ("bare SUD: the handler answers a stored value (`sud`)", FLOOR, "sud",
         "raw getpid, same process", FLOOR, "native"),
        ("SUD, the handler makes the real getpid (`sud-real`)", FLOOR, "sud-real",
         "raw getpid, same process", FLOOR, "native")):
    inproc = ra is rb
    f = (lambda a, b, op: pairs(ra, kg(a), kg(b), op)) if inproc else \
        (lambda a, b, op: per_round(ra, kg(a), rb, kg(b), op))
    c_rows.append(dict(label=label, ns=allreps(ra, kg(ma)), ref=rlabel, inproc=inproc,
                       x=f(ma, mb, div), d=f(ma, mb, sub)))
c_site, c_site_trap, c_pass, c_learn, c_learn_trap, c_caught, c_caught_real, \
    c_caught_trap, c_caught_fake = c_rows[:9]
# --complete adds nothing measurable to a rewritten site: neither the direct
# comparison nor the kernel's share (an allowed call with dispatch on) is
# clearly slower (slower(): as for item 8).
ok10a = not slower(c_site["d"]) and not slower(c_pass["d"])
ok10b = med(c_caught["x"]) <= T_CAUGHT_X
ok10c = med(c_learn["x"]) <= T_LEARN_X and med(c_learn_trap["x"]) <= T_LEARN_X
# What the real getpid adds in a SUD handler, and what the learned site adds
# over an unpatched call of the adjacent mech.zp.
sud_real_getpid = pairs(FLOOR, kg("sud-real"), kg("sud"), sub)
learn_vs_raw = per_round(COMP, kg("jit-native"), ZPR, kg("jit-native"), sub)
# --vdso: clock_gettime through the vDSO, through the C library with the vDSO
# hidden (a real call through a rewritten site), raw; and answered by clockhook.
v_vdso, v_sys = allreps(VDSO, kc("vdso-clock")), allreps(VDSO, kc("libc-clock"))
v_raw, v_hook = allreps(VDSO, kc("jit-native")), allreps(VDSOH, kc("libc-clock"))
v_x = pairs(VDSO, kc("libc-clock"), kc("vdso-clock"), div)
v_d = pairs(VDSO, kc("libc-clock"), kc("vdso-clock"), sub)
v_rt = pairs(VDSO, kc("libc-clock"), kc("jit-native"), sub)
vh_x = pairs(VDSOH, kc("libc-clock"), kc("vdso-clock"), div)
vh_d = pairs(VDSOH, kc("libc-clock"), kc("vdso-clock"), sub)
summary.append(("10", "--complete: a rewritten site's getpid, added by --complete (page 0, per "
                "round; the kernel's share, in-process)",
                f"{sgn(med(c_site['d']))} ns (×{med(c_site['x']):.3f}); {sgn(med(c_pass['d']))} ns",
                "nothing measurable", verdict(ok10a)))
summary.append(("10", "--complete: getpid caught at every call (file-backed site) / bare SUD "
                "(a handler that answers)",
                f"×{med(c_caught['x']):.2f} ({ns(med(c_caught['ns']))} ns)",
                f"≤ ×{T_CAUGHT_X:.2f}", verdict(ok10b)))
summary.append(("10", "the same, like for like: / SUD whose handler makes the getpid; with the "
                "fakepid hook / bare SUD", f"×{med(c_caught_real['x']):.2f}; "
                f"×{med(c_caught_fake['x']):.2f}", "(see item 10)", "-"))
summary.append(("10", "--complete: a learned run-time site / a rewritten site (page 0; trap path)",
                f"×{med(c_learn['x']):.3f}; ×{med(c_learn_trap['x']):.3f}",
                f"≤ ×{T_LEARN_X:.0f}", verdict(ok10c)))
summary.append(("10", "--vdso: clock_gettime, the vDSO hidden (a system call) / the vDSO's",
                f"×{med(v_x):.0f} ({ns(med(v_sys))} / {ns(med(v_vdso))} ns)", "(no target)", "-"))
summary.append(("10", "--vdso with a faketime-style hook answering from the vDSO, added over "
                "the vDSO's clock_gettime", f"{sgn(med(vh_d))} ns (×{med(vh_x):.2f})",
                "(no target)", "-"))

# =====================================================================================
# the page
# =====================================================================================
quick = ENV.get("quick") == "1"
emit("# Performance")
emit()
emit("<!-- Generated by bench/run.sh (bench/report.py) from the measurements of one run:"
     " do not edit by hand; run `make bench` again. -->")
emit()
if quick:
    emit("> **Quick mode (BENCH_QUICK=1): few repetitions; the numbers below are rough.**")
    emit()
emit("What zprewrite costs, measured in one run of `make bench` on the machine below, side "
     "by side with the unrewritten programs and with the other ways of intercepting system "
     "calls. Every comparison is made within one run, with the repetitions of the two sides "
     "interleaved; the figures are medians, with the spread next to them, and the comparisons "
     "are ratios or differences of *paired* measurements (taken next to each other in time), "
     "so that the slow and fast phases of a shared machine mostly cancel out.")
emit()
emit("## Machine and run")
emit()
emit("| | |")
emit("|---|---|")
emit(f"| CPU | {ENV['cpu']} ({ENV['cpus']} CPUs online) |")
emit(f"| kernel | {ENV['kernel']} ({ENV['os']}, glibc {ENV['glibc']}) |")
emit(f"| date | {ENV['date']} |")
emit(f"| load average (1, 5, 15 min) | at the start {ENV['load_start']}, at the end {ENV['load_end']} "
     "(other jobs share this machine) |")
vul = "; ".join(f"{k[5:]}: {v}" for k, v in ENV.items() if k.startswith("vuln_"))
if vul:
    emit(f"| CPU mitigations | {vul} |")
emit(f"| zprewrite | {ENV['zprewrite']}, git {ENV['git']} |")
emit(f"| tools | gcc {ENV['gcc']}, hyperfine {ENV['hyperfine']}, {ENV['objdump']}, redis {ENV['redis']} |")
emit(f"| page 0 | vm.mmap_min_addr = {ENV['mmap_min_addr']}, run as uid {ENV['uid']} "
     "(root has CAP_SYS_RAWIO, which the trampoline at address 0 needs); protection keys: "
     f"{'yes' if HOST_PKU else 'no'}; rewritten programs run with `ZP_PAGE0=fast` (page 0), "
     "the trap path's with `ZP_PAGE0=never` (item 8) |")
if BEFORE:
    emit(f"| compared with | the runtime of git {BEFORE} (committed {ENV.get('before_date', '?')}; "
         f"{ENV.get('before_zprewrite', '')}), built from `git archive` by bench/run.sh (`BENCH_BEFORE`; items 8 and 9) |")
emit(f"| duration | {int(ENV['duration_s']) // 60} min {int(ENV['duration_s']) % 60} s |")
emit()
emit("To reproduce: `make bench` (as root: it installs hyperfine, redis and gnuplot with "
     "scripts/deps.sh, then runs `bench/run.sh build`, which writes this page, "
     "perf-syscall.png and perf-getpid.png). `BENCH_QUICK=1 make bench` is a quick run "
     "for development (its page goes to build/bench/docs-quick/). The raw results stay in "
     "build/bench/results/.")
emit()
emit("## Summary")
emit()
emit("| # | what | measured | target | result |")
emit("|---|---|---|---|---|")
for it, what, val, tgt, res in summary:
    emit(f"| {it} | {what} | {val} | {tgt} | {res} |")
emit()

# ---- 1 ---------------------------------------------------------------------------
emit("## 1. Cost of a system call through the pass-through runtime")
emit()
emit(f"`bench/mech` (see bench/README.md) built static, then rewritten with `zprewrite` and no "
     f"hook: in the rewritten file the `syscall` of its `native` loop is a patched site, so that "
     f"loop measures the patched path. The unpatched references are measured **in the same "
     f"process**: mech's `jit-*` mechanisms run byte copies of the native, floor (`call f; f: "
     f"syscall; ret`) and floor-ind (the same through `call *%reg`) loops, made at run time "
     f"in an anonymous mapping that no rewriter sees. {NR} rounds; in each, the original mech, "
     f"the rewritten one (page 0: `ZP_PAGE0=fast`), the ones with the fakepid hook and with "
     f"bench/fwdhook, the trap path with and without fakepid next to the fault floor (item 8), "
     + ("the same rewritten by the zprewrite before (item 9), " if BEFORE else "")
     + f"the ones rewritten with `--complete` and `--vdso` (item 10) "
     f"and a wall-clock pair (item 3) each run once, in an order that rotates (the processes "
     f"compared across processes adjacent, in an order that alternates), each with {ENV['mech_reps']} round-robin repetitions of "
     f"every item (about {ENV['mech_ms']} ms each). Time is the thread's CPU time (`mech -c`), "
     f"which leaves out the time a process waits while other jobs use the CPU.")
emit()
emit("Columns: medians over all repetitions (ns per call); *added* columns are medians of "
     "differences paired within one repetition of one process, with the interquartile range; "
     "*cross-process* pairs the rewritten mech's patched loop with the original mech's "
     "`native` / `floor` loops run in the same round (median over rounds).")
emit()
emit("| system call | unpatched | call floor | floor-ind | zprewrite | added vs unpatched (IQR) | "
     "added vs call floor (IQR) | added vs floor-ind | ratio vs unpatched | cross-process: added vs "
     "unpatched / vs floor | target: ≤ +2 ns over the floor |")
emit("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows1:
    tgt = "n/a: fault path" if r["fault"] else verdict(r["ok"])
    emit(f"| {r['nr']} {SYSC_DESC[r['nr']]} | {ns(r['native'])} | {ns(r['floor'])} | {ns(r['find'])} | "
         f"{ns(r['zp'])} | {sgn(med(r['d_nat']))} ({iqr(r['d_nat'])}) | "
         f"{sgn(med(r['d_floor']))} ({iqr(r['d_floor'])}) | {sgn(med(r['d_find']))} | "
         f"×{med(r['r_nat']):.3f} | {sgn(med(r['x_nat']))} / {sgn(med(r['x_floor']))} | {tgt} |")
emit()
emit(f"Pairs per row: {len(gp['d_nat'])} in-process, {len(gp['x_nat'])} cross-process. "
     f"The plot shows the same medians, with min … max error bars:")
emit()
emit("![cost per system call number](perf-syscall.png)")
emit()
emit("Is the in-process reference honest? In the *original* mech, where both are unpatched, "
     "the run-time copies cost the same as the loops in the file (median of paired ratios, copy / "
     "file, with IQR):")
emit()
emit("| system call | jit-native / native | jit-floor / floor | original mech: native, floor (ns) |")
emit("|---|---|---|---|")
for r in rows1:
    emit(f"| {r['nr']} {r['name']} | ×{med(r['s_native']):.3f} ({iqr(r['s_native'], '{:.3f}')}) | "
         f"×{med(r['s_floor']):.3f} ({iqr(r['s_floor'], '{:.3f}')}) | "
         f"{ns(r['o_native'])}, {ns(r['o_floor'])} |")
emit()
fl = [med(pairs(ZPR, ("jit-floor", r["nr"]), ("jit-native", r["nr"]), sub)) for r in real]
spread_nr = [med(r["d_nat"]) for r in real]
emit(f"Target (≤ 2 ns above the call floor), real system calls (0 … 318): {verdict(ok1)}; "
     f"numbers 500 and 4000: {verdict(ok1i)}. "
     f"For getpid the patched path adds {sgn(med(gp['d_nat']))} ns to an unpatched call "
     f"(×{med(gp['r_nat']):.3f}; zpoline: +15 to +24 ns on the reference machine) and "
     f"{sgn(med(gp['d_floor']))} ns to the call floor. Over the real system calls the added "
     f"cost ranges from {min(spread_nr):+.1f} to {max(spread_nr):+.1f} ns: it does not grow "
     f"as the number gets smaller, as a nop slide's would (read, 0, would slide the furthest).")
emit()
if not ok1:
    emit(f"Why missed: the budget is spent on what the runtime's fast path (runtime/entry.S) "
         f"executes on top of `syscall; ret`: the `call *%rax` lands in the trampoline, which "
         f"takes three jumps (the entry at address nr → a landing spot near 0x2e2e2e2e → a "
         f"common tail, whose `jmp *%r11` reaches `zp_entry`; runtime/trampoline.c); `lea` below "
         f"the red zone and `pushfq`; the site-table lookup of the return address (a multiply, "
         f"a shift, a load and a compare, with two pushes and pops of scratch registers); the "
         f"`zp_slow_nr` byte; and after the kernel returns, the flags are put back with `sahf` "
         f"and an overflowing add (DF tested). On this CPU the call floor itself costs "
         f"{min(fl):+.1f} … {max(fl):+.1f} ns over a raw `syscall` (the reference measurements "
         f"found +3 to +7 ns on AMD, where the return after a kernel transition is mispredicted). "
         f"Worst here: {worst['name']} ({worst['nr']}), {sgn(med(worst['d_floor']))} ns over "
         f"the floor (IQR {iqr(worst['d_floor'])})." + (" " + TLB_NOTE if TLB_FLUSH else ""))
    emit()
if not ok1i:
    emit(f"Numbers 512 and above take the slow path even without a hook: entry.S sends every "
         f"number ≥ `ZP_SLOW_NR_SIZE` (512) to the C dispatcher (`cmp $ZP_SLOW_NR_SIZE, %rax; "
         f"jae .Lslow`), which saves the whole frame and calls `zp_dispatch`. Hence 4000 costs "
         f"{sgn(med(next(r for r in invalid if r['nr'] == 4000)['d_floor']))} ns over the floor "
         f"while 500, below the limit, costs "
         f"{sgn(med(next(r for r in invalid if r['nr'] == 500)['d_floor']))} ns. Such numbers "
         f"only ever return -ENOSYS, so this costs nothing to real programs.")
    emit()
emit("### The cost depends on the call site: the site table")
emit()
emit(f"Every call through the trampoline looks its return address up in the process's table "
     f"of patched sites (runtime/sitetable.c, searched by runtime/entry.S). The same getpid, made "
     f"from three different sites of mech, in the original and in the rewritten mech: "
     f"*added, cross-process* pairs the two processes of a round (median over rounds); "
     f"*added, in-process* is the rewritten mech's (site − `jit-native`) minus the original's "
     f"(site − `native`), medians of paired differences. *Probes* is the number of table slots "
     f"the lookup reads for that site, from a model of the table (bench/report.py `SiteTable`: "
     f"the sizing, hash and linear probing of runtime/sitetable.c, with the sites of "
     f"`zprewrite --list mech` inserted in address order).")
emit()
emit("| getpid through | probes | original ns | rewritten ns | added, cross-process (IQR) | "
     "added, in-process |")
emit("|---|---|---|---|---|---|")
for r in site_rows:
    pr = ", ".join(str(p) for p in r["probes"]) or "?"
    emit(f"| {r['label']} | {pr} | {ns(r['orig'])} | {ns(r['zp'])} | {sgn(med(r['cross']))} "
         f"({iqr(r['cross'])}) | {sgn(med(r['zp_in']) - med(r['orig_in']))} |")
emit()
if site_problem:
    emit(f"**A problem, not a target:** some sites cost more than others: "
         f"{sgn(med(site_rows[-1]['cross']))} ns for the C library's syscall() against "
         f"{sgn(med(site_rows[0]['cross']))} ns for the loop's site. In the model, "
         f"mech's {MTAB.n} sites fall on {MTAB.homes} home slot(s) of {1 << MTAB.bits}.")
else:
    _costs = [med(r["cross"]) for r in site_rows]
    emit(f"Every site measured costs about the same (the medians of its rows differ by at most "
         f"{max(_costs) - min(_costs):.1f} ns, within the spread of the rounds): in the model, mech's "
         f"{MTAB.n} sites fall on {MTAB.homes} home slots of {1 << MTAB.bits}, so a lookup "
         f"reads one slot, rarely two. (Before the multiplier became a 64-bit constant, the "
         f"product's top bits only changed for sites megabytes apart, and lookups degenerated "
         f"into scans of dozens of slots.)")
emit()
far = rows1[-1]
emit(f"Numbers outside the trampoline (here 100000) reach the kernel through the runtime's "
     f"SIGSEGV handler: {ns(far['zp'])} ns against {ns(far['native'])} ns unpatched "
     f"(×{med(far['r_nat']):.0f}). Only invalid numbers take this path.")
emit()

# ---- 2 ---------------------------------------------------------------------------
emit("## 2. Pure hook overhead: fakepid")
emit()
emit("mech rewritten with `--hook build/samples/fakepid.so`, which answers getpid from a cached "
     "value without entering the kernel. In the same process: `cached` is a plain call to a "
     "function that returns a stored value (the least any hook can cost), and `jit-native` "
     "the kernel's getpid through an unpatched copy of the loop. Thread CPU time; medians "
     "over all repetitions, differences and ratios paired within a repetition (IQR).")
emit()
emit("| getpid through | ns per call | min … max |")
emit("|---|---|---|")
emit(f"| the fakepid hook (rewritten site → runtime → hook → back) | {ns(f_hook)} | "
     f"{rng(allreps(FAKE, kg('native')))} |")
emit(f"| a plain call returning a cached value (`cached`) | {ns(f_cached)} | {rng(allreps(FAKE, kg('cached')))} |")
emit(f"| the kernel (unpatched `syscall`, `jit-native`) | {ns(f_kernel)} | {rng(allreps(FAKE, kg('jit-native')))} |")
emit()
emit("| comparison | median | IQR |")
emit("|---|---|---|")
emit(f"| hook − plain call (the hook overhead) | {sgn(med(f_over))} ns | {iqr(f_over)} |")
emit(f"| hook − plain call, cross-process (original mech's `cached`, same round) | "
     f"{sgn(med(f_x_over))} ns | {iqr(f_x_over)} |")
emit(f"| hook − kernel getpid | {sgn(med(f_minus_kernel))} ns | {iqr(f_minus_kernel)} |")
emit(f"| kernel getpid / hook (how many times cheaper) | ×{med(f_vs_kernel):.1f} | {iqr(f_vs_kernel)} |")
emit()
emit(f"Target (≤ 3 ns per call over a plain call; zpoline 12–15 ns per hooked call): "
     f"{verdict(ok2)}.")
emit()
if not ok2:
    emit(f"Why missed: with a hook embedded, every call takes the runtime's slow path "
         f"(`zp_slow_nr_init(hooked)` in runtime/dispatch.c marks every number), which the "
         f"pass-through fast path avoids: it moves to the thread's runtime stack and saves the "
         f"whole frame there (`ENTER_RT_STACK`, `FRAME_BUILD`: the thread block read through "
         f"%gs, fourteen stores, `cld`, stack alignment), `zp_dispatch` (C) copies it into a "
         f"`struct zp_syscall`, records the frame in the thread block, calls `zp_hook_enter` "
         f"indirectly, and the flags and the six argument registers are restored from the frame "
         f"on the way back (item 9 compares this path with the one before the runtime stack); plus the trampoline and site lookup "
         f"that the pass-through path also pays. Measured: the hook path costs "
         f"{sgn(med(f_over))} ns over a plain call, against {sgn(med(gp['d_nat']))} ns for the "
         f"whole pass-through path over an unpatched getpid (item 1). A fast path for hooked "
         f"calls (calling the hook from entry.S with the frame as it is) would be needed to "
         f"approach 3 ns.")
    emit()

# ---- 3 ---------------------------------------------------------------------------
emit("## 3. Against ptrace, seccomp and Syscall User Dispatch")
emit()
emit("getpid through each mechanism (the original mech: ptrace stops its child at every entry "
     "and exit, as strace does; seccomp `SECCOMP_RET_TRAP` and SUD raise SIGSYS and a handler "
     "answers), against the zprewrite pass-through (the rewritten mech), run next to each other "
     "in every round, alternating which goes first. ptrace can only be timed on the wall clock "
     "(its cost is mostly in the tracer), so this comparison uses wall time for all of them; "
     "the CPU-time ratio from the main rounds is given where it exists. Ratios: per round, "
     "median / median; then the median over rounds, with min … max.")
emit()
emit("| getpid through | ns per call (wall; median over rounds, min … max) | ratio vs zprewrite "
     "(wall) | ratio vs zprewrite (CPU time) | ratio vs unpatched | target | result |")
emit("|---|---|---|---|---|---|---|")
emit(f"| zprewrite pass-through | {ns(med(w_zp))} ({rng(w_zp, '{:.0f}')}) | ×1 | ×1 | "
     f"×{med(pairs(WZP, kg('native'), kg('jit-native'), div)):.3f} | | |")
w_nat = [med(d[kg("native")]) for d in WORIG]
emit(f"| unpatched `syscall` | {ns(med(w_nat))} ({rng(w_nat, '{:.0f}')}) | "
     f"×{med(per_round(WORIG, kg('native'), WZP, kg('native'), div)):.3f} | | ×1 | | |")
for m, label, tgt, ok in (("ptrace", "ptrace (PTRACE_SYSCALL)", f"≥ ×{T_PTRACE_X:.0f}", ok3p),
                          ("seccomp", "seccomp RET_TRAP + SIGSYS", "", None),
                          ("sud", "Syscall User Dispatch + SIGSYS", f"≥ ×{T_SUD_X:.0f}", ok3s)):
    d = mech3[m]
    cpu = f"×{med(d['cpu_ratio']):.1f}" if d["cpu_ratio"] else "-"
    emit(f"| {label} | {ns(med(d['wall']))} ({rng(d['wall'], '{:.0f}')}) | "
         f"×{med(d['ratio']):.1f} ({rng(d['ratio'])}) | {cpu} | ×{med(d['vs_native']):.1f} | "
         f"{tgt} | {verdict(ok) if ok is not None else '-'} |")
emit()
emit("![getpid through every mechanism](perf-getpid.png)")
emit()
emit(f"Targets: ≥ 100× cheaper than ptrace: {verdict(ok3p)}; ≥ 20× cheaper than SUD: "
     f"{verdict(ok3s)}.")
emit()
emit(f"ptrace's figure is the wall time of two processes that hand the CPU to each other twice "
     f"per call, so it depends on where the scheduler puts them and on the machine's other "
     f"jobs ({rng(mech3['ptrace']['wall'], '{:.0f}')} ns over the rounds of this run); its "
     f"verdict can change from one run to the next on a busy machine.")
emit()
if not ok3p or not ok3s:
    sud_nat = med(mech3["sud"]["vs_native"])
    pt_nat = med(mech3["ptrace"]["vs_native"])
    emit(f"Why missed: these ratios are bounded by what the other mechanism costs relative to "
         f"an *unpatched* system call, since the pass-through path cannot be cheaper than "
         f"the kernel's own entry. On this machine SUD costs ×{sud_nat:.1f} and ptrace "
         f"×{pt_nat:.0f} an unpatched getpid (the reference measurements, on AMD: SUD "
         f"~900 ns and ptrace 11–28 µs against 47 ns native, ×19 and ×230 or more). Here the kernel entry itself is "
         f"expensive ({ns(med(w_nat))} ns for a raw getpid), so the signal- and tracer-based "
         f"mechanisms look relatively cheaper. In absolute terms zprewrite saves "
         f"{ns(med(mech3['sud']['wall']) - med(w_zp))} ns per call against SUD and "
         f"{ns(med(mech3['ptrace']['wall']) - med(w_zp))} ns against ptrace.")
    emit()

# ---- 4 ---------------------------------------------------------------------------
emit("## 4. Start-up")
emit()
emit(f"Four pairs: the static busybox's `true` applet and the same file after `zprewrite`; "
     f"an empty static C program (`int main(void) {{ return 0; }}`, `gcc -O2 -static`) and "
     f"its rewritten copy, which shows the constant cost of a rewritten start; "
     f"bench/startmimic, a static program that does in main() what the runtime's initializer "
     f"does (maps, fills and protects the trampoline pages at 0 and near 0x2e2e2e2e, builds "
     f"a site table, installs a SIGSEGV handler, asks for its thread id), run with its work "
     f"off and on; `{TRUE}` and "
     f"`zprewrite --bundle DIR {TRUE}` (the program, its loader and libc, all rewritten). "
     f"The static originals are copies (named as the original: busybox picks its applet from "
     f"argv[0]), and every file compared was written the same way and synced, so that their "
     f"page caches are alike. bench/interleave runs the two commands alternately, "
     f"{ENV['start_warm']} warm-up rounds then {st[0]['n']} rounds, and records each run's "
     f"wall time (fork to wait, as hyperfine does), CPU time (user + system, wait4) and minor "
     f"page faults; the ratios and differences are paired within a round. hyperfine -N, "
     f"both commands in the same invocation ({ENV['hf_runs']} runs each), repeated "
     f"{ENV['hf_pairs']} times with the order swapped each time, is the cross-check: "
     f"it runs all runs of one command before the other's, so a busy phase of the machine "
     f"can fall on one side only.")
emit()
emit("| program | original µs (IQR) | rewritten µs (IQR) | added µs (IQR) | ratio (IQR) | "
     "CPU-time ratio | page faults | system calls | hyperfine: ratio of medians (min … max) | "
     "target | result |")
emit("|---|---|---|---|---|---|---|---|---|---|---|")
labels = {"busybox": "busybox true (static)", "empty": "empty static program",
          "mimic": "the runtime's start-up work alone: `startmimic 0` → `startmimic 7`",
          "bundle": "/bin/true, bundled"}
for r in st:
    tgt = f"≤ ×{r['target']:.2f}" if r["target"] else "-"
    hf_txt = (f"×{med(r['hf']):.3f} ({rng(r['hf'], '{:.3f}')})" if r["hf"] else "-")
    emit(f"| {labels[r['name']]} | {r['o']:.0f} ({r['oq']}) | {r['z']:.0f} ({r['zq']}) | "
         f"{med(r['diff']):+.0f} ({iqr(r['diff'], '{:+.0f}')}) | ×{med(r['ratio']):.3f} "
         f"({iqr(r['ratio'], '{:.3f}')}) | ×{med(r['cratio']):.3f} | {r['oflt']:.0f} → "
         f"{r['zflt']:.0f} | {r['sys_o']} → {r['sys_z']} | {hf_txt} | {tgt} | "
         f"{verdict(r['ok']) if r['target'] else '-'} |")
emit()
emit("zpoline needs 276–344 ms to start `/bin/true` (it disassembles all code at every start); "
     "a rewritten file does its analysis offline.")
emit()
emit(f"Targets: static busybox within 5 %: {verdict(ok4s)}; bundled /bin/true within 10 %: "
     f"{verdict(ok4b)}.")
emit()
e = st_by["empty"]
added_sys = ", ".join(f"{k} {v:+d}" for k, v in e["sys_added"].items())
dflt = e["zflt"] - e["oflt"]


def failed_lookups(path):
    n = 0
    with open(path) as f:
        for line in f:
            if ("openat(" in line or "newfstatat(" in line) and "ENOENT" in line:
                n += 1
    return n


nfail = (failed_lookups(os.path.join(RES, "startup", "bundle.zp.strace")) -
         failed_lookups(os.path.join(RES, "startup", "bundle.orig.strace")))
fail_us = nfail / 2 * (VMCOST.get("open_enoent", 0) + VMCOST.get("stat_enoent", 0)) / 1e3
nseg_o = load_segments(row_cmds["empty"][0])
nseg_z = load_segments(row_cmds["empty"][1])
b = st_by["bundle"]
added_sys_b = ", ".join(f"{k} {v:+d}" for k, v in b["sys_added"].items())
mm = st_by["mimic"]
rest = med(e["diff"]) - med(mm["diff"])
emit(f"What a rewritten start adds, seen on the empty program: {med(e['diff']):+.0f} µs "
     f"(×{med(e['ratio']):.3f}); {e['sys_z'] - e['sys_o']:+d} system calls ({added_sys or 'none'}) "
     f"and {dflt:+.0f} page faults. Before the program's entry point, the runtime claims the "
     f"range of the landing pages, points %gs at its thread block (whose runtime stack is in its "
     f".bss, below a guard page), maps and writes the trampoline (page 0 and the landing "
     f"pages), builds the site table (in its .bss) and installs its SIGSEGV handler (with a hook that needs the vector registers "
     f"saved, it also reads the CPU's extended-state size with cpuid). The trampoline, site-table and handler part of that work "
     f"alone, done by bench/startmimic, costs {med(mm['diff']):+.0f} µs (IQR {iqr(mm['diff'], '{:+.0f}')}); "
     f"this machine is a virtual machine where each step is expensive (bench/vmcost, "
     f"medians): a first write to a page {VMCOST['fault'] / 1e3:.1f} µs, an mmap "
     f"{VMCOST['mmap'] / 1e3:.1f} µs, an mprotect {VMCOST['mprotect'] / 1e3:.1f} µs, a cpuid "
     f"{VMCOST['cpuid'] / 1e3:.1f} µs (an exit to the hypervisor), and the mappings are torn "
     f"down again at exit. The other {rest:+.0f} µs come with the rewritten file itself and are "
     f"not broken down by this benchmark: {nseg_z - nseg_o} more loadable segments "
     f"({nseg_o} → {nseg_z}) for the kernel to map at exec and unmap at exit, and the first "
     f"touches of the runtime's code, descriptor and variables (page faults). The cost is "
     f"the same for every static program, so its share shrinks as the program does more; "
     f"busybox `true` does almost nothing. "
     f"The bundled `true` adds {med(b['diff']):+.0f} µs (system calls: {added_sys_b or 'none'}; "
     f"page faults {b['oflt']:.0f} → {b['zflt']:.0f}). Its loader's runtime does the same "
     f"work at start; each rewritten library (libc) is found at its first system call "
     f"through the loader's list of loaded objects (`_r_debug`), whose entries, ELF "
     f"headers and zprewrite descriptors the runtime reads with process_vm_readv (the "
     f"getpid and process_vm_readv calls). " + (
     f"And glibc's loader, which finds the system's libc through /etc/ld.so.cache in one "
     f"open, looks for the bundle's libraries in its library path by trying every "
     f"hardware-capability subdirectory first (glibc-hwcaps/x86-64-v4 … v2, …): {nfail} more "
     f"failed lookups (openat and newfstatat, ENOENT) in this run, at "
     f"{VMCOST.get('open_enoent', 0) / 1e3:.1f} and {VMCOST.get('stat_enoent', 0) / 1e3:.1f} µs "
     f"each here, about {fail_us:.0f} µs." if nfail else
     "The loader makes no failed lookups for the bundle's libraries: the bundle names them "
     "by absolute path in DT_NEEDED (docs/bundles.md), so each is opened without a search "
     "of the library path's hardware-capability subdirectories."))
emit()

# ---- 5 ---------------------------------------------------------------------------
emit("## 5. Memory")
emit()
emit("File sizes (bytes), original and after `zprewrite IN OUT` (no hook):")
emit()
emit("| file | original | rewritten | added | added % | executable code | sites |")
emit("|---|---|---|---|---|---|---|")
for fi in files:
    emit(f"| {fi['src']} | {fi['osize']:,} | {fi['zsize']:,} | {fi['zsize'] - fi['osize']:+,} | "
         f"{(fi['zsize'] / fi['osize'] - 1) * 100:+.1f} % | {fi['code']:,} | {fi['sites']} |")
emit()
emit(f"Memory of a running process (kB, /proc/PID/smaps_rollup, median of {ENV['mem_rounds']} "
     f"samples): the four processes run at the same time (`sleep 2`) and are read after "
     f"{ENV['mem_delay']} s. "
     f"*maps* is the number of mappings.")
emit()
emit("| field | busybox sleep | rewritten | added | /bin/sleep | bundled sleep | added |")
emit("|---|---|---|---|---|---|---|")
for fld in MEMF:
    a, b = mem["busybox"][0].get(fld), mem["busybox.zp"][0].get(fld)
    c, d = mem["sleep"][0].get(fld), mem["sleep.bundle"][0].get(fld)
    if a is None or b is None or c is None or d is None:
        continue
    emit(f"| {fld} | {a:.0f} | {b:.0f} | {b - a:+.0f} | {c:.0f} | {d:.0f} | {d - c:+.0f} |")
emit()
p0 = "; ".join(sorted(mem["busybox.zp"][1])) or "none"
_perm = p0.split()[1] if p0 != "none" else ""
emit(f"The rewritten process's mapping at address 0 (`ZP_PAGE0=fast`): `{p0}` "
     + ("(execute-only). " if _perm.startswith("--x") and HOST_PKU else
        "(PROT_EXEC alone, but without protection keys the CPU lets it be read: the default "
        "policy would take the trap path here and map nothing at 0). " if _perm else "")
     + "There is no target for memory.")
emit()
def mem_delta(a, b):
    return {k: mem[b][0][k] - mem[a][0][k] for k in MEMF if k in mem[a][0] and k in mem[b][0]}


for a_, b_, label in (("busybox", "busybox.zp", "the rewritten busybox"),
                      ("sleep", "sleep.bundle", "the bundled sleep")):
    dd = mem_delta(a_, b_)
    moved = ", ".join(f"{k} {v:+.0f} kB" for k, v in dd.items() if k != "maps" and abs(v) >= 4)
    emit(f"* {label}: {moved or 'no field changes by 4 kB or more'}; {dd.get('maps', 0):+.0f} "
         f"mappings.")
emit()
emit("A rewritten static program adds its runtime's segments and, at run time, the "
     "trampoline (page 0 and the landing pages, execute-only once written), the site table "
     "and the runtime's variables: these are the added mappings and private pages. In a "
     "bundle, the loader and the libraries are the bundle's own files: their pages are "
     "mapped by this process only, so smaps counts them as private (and fully in Pss), "
     "where the system's ld.so and libc pages are shared with every other process "
     "(Shared_Clean, divided among them in Pss).")
emit()

# ---- 6 ---------------------------------------------------------------------------
emit("## 6. Rewriter speed")
emit()
emit(f"`zprewrite IN OUT` ({files[0]['zn']} runs after 2 warm-up runs) against `objdump -d IN` "
     f"with its output thrown away ({files[0]['on']} runs), `hyperfine -N`. *Executable code* is "
     f"the sum of the sizes of the executable sections; MB/s is that over the best time. "
     f"*CPU* is user + system time (mean), which the machine's other jobs disturb less than wall "
     f"time.")
emit()
emit("| file | executable code | zprewrite best / median ms | CPU ms | MB/s (best) | "
     "objdump -d best / median ms | CPU ms | objdump / zprewrite (medians) |")
emit("|---|---|---|---|---|---|---|---|")
for fi in files:
    emit(f"| {os.path.basename(fi['src'])} | {fi['code'] / 1e6:.2f} MB | {fi['zbest']:.1f} / {fi['zmed']:.1f} | "
         f"{fi['zcpu']:.1f} | {fi['mbs']:.0f} | {fi['obest']:.0f} / {fi['omed']:.0f} | {fi['ocpu']:.0f} | "
         f"×{fi['speedup']:.1f} |")
emit()
emit(f"Where the time goes, busybox: starting zprewrite and exiting (`--version`, which loads "
     f"libelf, libdw, Zydis, libopcodes and libbfd) {p_version['median'] * 1e3:.1f} ms; finding "
     f"and deciding every site without writing (`--list`, printing the list) "
     f"{p_list['median'] * 1e3:.1f} ms (CPU {(p_list['user'] + p_list['system']) * 1e3:.1f} ms); the "
     f"whole rewrite {fb['zmed']:.1f} ms (medians).")
emit()
emit(f"`zprewrite -q --force --bundle DIR {ENV['python']}` (the program, its loader and "
     f"{bp_libs - 1} libraries, {bp_bytes / 1e6:.1f} MB written): best {bp['min'] * 1e3:.0f} ms, "
     f"median {bp['median'] * 1e3:.0f} ms over {len(bp['times'])} runs.")
emit()
emit(f"Targets: busybox ≥ 10× faster than `objdump -d`: {verdict(ok6x)} (×{fb['speedup']:.1f}); "
     f"busybox rewritten in ≤ 20 ms: {verdict(ok6t)} ({fb['zmed']:.1f} ms median, "
     f"{fb['zbest']:.1f} ms best); --bundle of python3 ≤ 1 s: {verdict(ok6b)}.")
emit()
# perf profile of rewriting busybox (optional)
prof_path = os.path.join(RES, "rewrite", "perf-busybox.txt")
prof_dso, prof_sym = {}, []
if os.path.exists(prof_path):
    with open(prof_path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 4 and w[0].endswith("%"):
                pct = float(w[0].rstrip("%"))
                dso = w[1]
                prof_dso[dso] = prof_dso.get(dso, 0) + pct
                prof_sym.append((pct, dso, w[3]))
if not ok6t:
    txt = (f"Why missed: almost all of it is analysis, not start-up or output: `--list` alone "
           f"takes {p_list['median'] * 1e3:.1f} ms, `--version` {p_version['median'] * 1e3:.1f} ms.")
    if prof_dso:
        top_dso = ", ".join(f"{d} {v:.0f} %" for d, v in sorted(prof_dso.items(), key=lambda x: -x[1])[:4])
        top_sym = ", ".join(f"`{sym}` ({d}) {pct:.1f} %" for pct, d, sym in prof_sym[:5])
        txt += (f" A profile of five rewrites of busybox (perf record, by object: {top_dso}; "
                f"hottest functions: {top_sym}) shows where: decoding instructions with Zydis, "
                f"and the rewriter's red-zone analysis. The rewriter decodes every function that "
                f"contains a site, from its start (docs/how-it-works.md); the figure from "
                f"the reference measurements (all 1.6 MB of busybox decoded by Zydis in 27 ms "
                f"on the reference machine) is "
                f"of the same order as the whole budget, so meeting 20 ms needs less decoding "
                f"(a window around each site, or lighter decoding without operands) and a "
                f"cheaper red-zone analysis.")
    else:
        txt += (" (perf was not available for a profile.) The figure from the reference "
                "measurements (all 1.6 MB of busybox decoded by Zydis in 27 ms on the reference "
                "machine) is of the same order as the whole budget.")
    emit(txt)
    emit()

# ---- 7 ---------------------------------------------------------------------------
emit("## 7. An application: redis-server")
emit()
emit(f"Debian's redis-server {ENV['redis']} and `zprewrite --bundle` of it (pass-through, no "
     f"hook: the server, its loader and every library rewritten), both started by the benchmark "
     f"on 127.0.0.1 with `--save \"\" --appendonly no`, each on its own free port; both run "
     f"during the whole test, and are stopped at the end. `redis-benchmark -t get,set -n "
     f"{ENV['redis_n']} -c {ENV['redis_clients']} -q`, against one server then the other, "
     f"{len(redis_rounds)} rounds, alternating which goes first. Client and server share the "
     f"machine's {ENV['cpus']} CPUs.")
emit()
emit(f"Checked: the bundled server's executable is `{servers.get('zp_exe')}`, with the "
     f"trampoline mapped at address 0 ({servers.get('zp_page0')} mapping; the original: "
     f"{servers.get('orig_page0')}).")
emit()
emit("| round | SET original rps | SET bundled rps | ratio | GET original rps | GET bundled rps | "
     "ratio | server CPU µs/request, original | bundled | ratio |")
emit("|---|---|---|---|---|---|---|---|---|---|")
for i in range(len(redis_rounds)):
    s_, g_ = redis["SET"], redis["GET"]
    emit(f"| {i + 1} | {s_['o'][i]:,.0f} | {s_['z'][i]:,.0f} | ×{s_['ratio'][i]:.3f} | "
         f"{g_['o'][i]:,.0f} | {g_['z'][i]:,.0f} | ×{g_['ratio'][i]:.3f} | "
         f"{redis_cpu_o[i]:.2f} | {redis_cpu_z[i]:.2f} | ×{redis_cpu_ratio[i]:.3f} |")
emit(f"| **median** | {med(redis['SET']['o']):,.0f} | {med(redis['SET']['z']):,.0f} | "
     f"**×{med(redis['SET']['ratio']):.3f}** | {med(redis['GET']['o']):,.0f} | "
     f"{med(redis['GET']['z']):,.0f} | **×{med(redis['GET']['ratio']):.3f}** | "
     f"{med(redis_cpu_o):.2f} | {med(redis_cpu_z):.2f} | **×{med(redis_cpu_ratio):.3f}** |")
emit()
emit(f"p50 latency (ms, medians over rounds): SET {med(redis['SET']['op50']):.3f} original, "
     f"{med(redis['SET']['zp50']):.3f} bundled; GET {med(redis['GET']['op50']):.3f} original, "
     f"{med(redis['GET']['zp50']):.3f} bundled. Server CPU time is the sum over the server's "
     f"threads of /proc/PID/task/*/schedstat before and after each redis-benchmark run, "
     f"divided by the {nreq:,} requests of the run: unlike throughput, it does not count the "
     f"time the server waits for a CPU that other jobs hold.")
emit()
emit(f"Target (bundled ≥ 97 % of the original's throughput): {verdict(ok7)} "
     f"(×{med(redis_all):.3f}, median of the {len(redis_all)} per-round ratios of both tests; "
     f"IQR {iqr(redis_all, '{:.3f}')}, min … max {rng(redis_all, '{:.3f}')}).")
emit()
hot_txt = ", ".join(f"{loc} {p}" for _, loc, p in redis_hot)
hot_mean = statistics.mean(p for _, _, p in redis_hot) if redis_hot else 0
# With every measured site on its home slot, no probe cost could be measured
# (item 1 has no slope): count the pass-through path alone then.
_probe_known = ns_per_probe == ns_per_probe   # (not NaN)
est_req = 2 * ((hot_mean - 1) * (ns_per_probe if _probe_known else 0) + med(gp["d_nat"]))
emit(f"What the bundled server's system calls cost in the site table (the model of item 1, with "
     f"the load addresses of this run's bundled server from /proc/PID/maps and the sites of the "
     f"files it was made from; the dynamic loader's object first, then the others in address "
     f"order, an approximation of the order in which the runtime found them): "
     f"{RTAB.n} sites on {RTAB.homes} home slot(s) of {1 << RTAB.bits}, {redis_mean_probes:.0f} "
     f"probes per lookup on average; the C library's read, write and epoll_wait sites, which "
     f"make almost all of the server's calls: {hot_txt or 'not found'} probes.")
emit()
if not ok7:
    emit(f"Why missed: the server makes about two system calls per request (a read and a write, "
         f"with an epoll_wait now and then). Each pays the pass-through path "
         f"({sgn(med(gp['d_nat']))} ns for the best-placed site, item 1) plus the site-table "
         f"lookup, which for these sites scans {hot_mean:.0f} slot(s) on average (above; "
         + (f"{ns_per_probe:.1f} ns per further probe, item 1" if _probe_known else
            "one slot is what item 1 measures, so nothing is added for it")
         + f"): about {est_req:.0f} ns per request for two "
         f"calls. The server's CPU time per request grows by ×{med(redis_cpu_ratio):.3f} "
         f"(IQR {iqr(redis_cpu_ratio, '{:.3f}')}), "
         f"{(med(redis_cpu_z) - med(redis_cpu_o)) * 1e3:+.0f} ns per request. The throughput "
         f"ratios spread over {rng(redis_all, '{:.3f}')} because client and server share "
         f"{ENV['cpus']} CPUs with the machine's other jobs.")
    _share = est_req / (med(redis_cpu_o) * 1e3)
    _loss = 1 - med(redis_all)
    if _loss > 2 * _share and quant(redis_all, 0.25) <= 1 <= quant(redis_all, 0.75):
        emit()
        emit(f"The modelled cost is {_share * 100:.1f} % of the original server's "
             f"{med(redis_cpu_o):.2f} µs of CPU time per request; the measured CPU time per "
             f"request is ×{med(redis_cpu_ratio):.3f} (IQR {iqr(redis_cpu_ratio, '{:.3f}')}"
             + ("), a spread that includes ×1" if quant(redis_cpu_ratio, 0.25) <= 1 <= quant(redis_cpu_ratio, 0.75)
                else "), more than the model explains") +
             f"; the {_loss * 100:.1f} % lower "
             f"throughput of this run is more than the runtime's work explains, and ×1 lies "
             f"inside the interquartile range of the rounds' ratios ({iqr(redis_all, '{:.3f}')}): "
             f"it measures the machine's other jobs as much as the "
             f"bundle. A run on a quiet machine would tell.")
    emit()

# ---- 8 ---------------------------------------------------------------------------
emit("## 8. Page 0 and the trap path")
emit()
emit(f"A rewritten program takes one of two paths at start (docs/runtime.md, \"Page 0 and the "
     f"trap path\"): page 0, where `call *%rax` lands in the trampoline at address 0, or the "
     f"trap path, where nothing is mapped there, every rewritten call faults at the address = "
     f"its number, and the runtime's SIGSEGV handler resumes the thread at `zp_entry`; from "
     f"there both run the same code. Every rewritten mech of this page runs with "
     f"`ZP_PAGE0=fast` (page 0; this machine "
     f"{'has no protection keys, so page 0 is readable and the default policy, auto, would take the trap path' if not HOST_PKU else 'has protection keys: page 0 is execute-only'}"
     f"), except the trap path's runs: `ZP_PAGE0=never`, the same mech.zp, whose `native` loop "
     f"then takes the trap path (mech reports what it found at address 0, and the report "
     f"checks it for every run).")
emit()
emit(f"The **fault floor** is the least any fault-based path can cost: mech's `fault` "
     f"mechanism, in the original mech (nothing mapped at low addresses), runs the same loop "
     f"with `call *%rax` at rax = 39: the call pushes its return address and faults at address "
     f"39; a minimal SIGSEGV handler (`sigaction` with SA_SIGINFO, glibc's restorer) checks "
     f"rip = rax = si_addr = 39, **makes the real getpid** (a `syscall` instruction in the "
     f"handler), pops the return address into rip and returns. `fault-cached` answers from a "
     f"stored value instead, as the SUD and seccomp handlers do. This process (raw getpid, the "
     f"two floors, SUD, seccomp) and the trap path's run next to each other in each of the "
     f"{len(TRAP)} rounds, alternating which goes first. Thread CPU time; medians over all "
     f"repetitions. *× raw getpid* is paired within repetitions of one process (against its "
     f"own unpatched loop, `jit-native` in a rewritten mech). *× fault floor* is paired within "
     f"repetitions for the rows of the original mech's process (against `fault`, or "
     f"`fault-cached` for the rows that answer without the kernel), and per round (the "
     f"medians of the two adjacent processes) for the rewritten mechs, marked ¹.")
emit()
emit("| getpid through | ns per call (IQR) | × raw getpid (IQR) | × fault floor (IQR) |")
emit("|---|---|---|---|")
for r in trap_rows:
    def ratio(v, mark=""):
        return "×1" if min(v) == max(v) == 1 else f"×{med(v):.3f} ({iqr(v, '{:.3f}')}){mark}"
    fx = ratio(r["floor"], "" if r["paired"] else " ¹") if "floor" in r else ""
    emit(f"| {r['label']} | {ns(med(r['ns']))} ({iqr(r['ns'], '{:.0f}')}) | {ratio(r['raw'])} | {fx} |")
emit()
emit(f"Target (issue 9: the trap path's getpid at most ×{T_TRAP_X:.2f} the fault floor): "
     f"{verdict(ok8)}: ×{med(trap_x):.3f} (median of the {len(trap_x)} per-round ratios; IQR "
     f"{iqr(trap_x, '{:.3f}')}, min … max {rng(trap_x, '{:.3f}')}). With each side first "
     f"divided by its own process's raw getpid (which cancels a difference in speed between "
     f"the two processes): ×{med(trap_xn):.3f} (IQR {iqr(trap_xn, '{:.3f}')}).")
emit()
p0_ns = med(allreps(ZPR, kg("native")))
trap_ns = med(allreps(TRAP, kg("native")))
sud_ns = med(allreps(FLOOR, kg("sud")))
emit(f"Where a trap-path call's {ns(trap_ns)} ns go (page 0: {ns(p0_ns)} ns; the trap path costs "
     f"×{trap_ns / p0_ns:.1f} page 0 and ×{med(trap_vs_sud):.2f} Syscall User Dispatch):")
emit()
emit(f"* **The fault, the signal and rt_sigreturn: {ns(fl_cached)} ns** (`fault-cached`, a handler "
     f"that makes no call). The CPU raises a page fault at the unmapped address; the kernel finds "
     f"no mapping and delivers SIGSEGV, writing a signal frame to the user stack with the "
     f"CPU's extended state (xsave: the frame needs AT_MINSIGSTKSZ = {ENV.get('minsigstksz', '?')} "
     f"bytes here); the handler runs; rt_sigreturn reads the frame back (xrstor) and returns to "
     f"user mode. Syscall User Dispatch delivers the same kind of frame for a trapped `syscall` "
     f"without a page fault, in {ns(sud_ns)} ns: the page fault and its failed lookup cost "
     f"{more_less(med(fault_vs_sud))} here (IQR {iqr_ns(fault_vs_sud)}). On this virtual machine "
     f"a fault is expensive (bench/vmcost: a page fault that maps a page costs "
     f"{VMCOST['fault'] / 1e3:.1f} µs).")
emit(f"* **The getpid itself, made in the handler: {sgn(med(fl_getpid))} ns** (`fault` − "
     f"`fault-cached`, IQR {iqr_ns(fl_getpid)}); a raw getpid in a loop costs "
     f"{ns(med(allreps(FLOOR, kg('native'))))} ns.")
emit(f"* **What the runtime adds to the floor: {sgn(med(trap_extra))} ns** (trap path − "
     f"`fault`, per round, IQR {iqr_ns(trap_extra)}"
     + ("; the interquartile range includes 0: the runtime's work is smaller than the "
        "variation of the fault itself from round to round, and not resolved by this run"
        if quant(trap_extra, 0.25) <= 0 <= quant(trap_extra, 0.75) else "")
     + f"). Its handler (runtime/segv.c) checks that the "
     f"fault is a rewritten call (rip = rax; the return address, read with a load that cannot "
     f"fault, found in the site table) and sets rip to `zp_entry`; after rt_sigreturn the thread "
     f"runs entry.S's fast path, the same as on page 0 minus the trampoline's jumps: on page 0 "
     f"the whole path adds {sgn(med(gp['d_nat']))} ns to a raw getpid (item 1)."
     + (" Here both run after a TLB flush (the fault's entry into the kernel, item 1), and "
        "touch more pages than the minimal handler: the runtime's code, its thread block and "
        "its site table." if TLB_FLUSH else ""))
emit()
if not ok8:
    emit(f"Why missed: the runtime's share ({sgn(med(trap_extra))} ns) is "
         f"{med(trap_extra) / med(allreps(FLOOR, kg('fault'))) * 100:.0f} % of the fault floor, "
         f"more than the {(T_TRAP_X - 1) * 100:.0f} % the target allows.")
    emit()
faket_ns = med(allreps(FAKET, kg("native")))
emit(f"With the fakepid hook, which answers getpid without the kernel, a trap-path call costs "
     f"{ns(faket_ns)} ns: the fault floor for a handler that answers by itself (`fault-cached`, "
     f"{ns(fl_cached)} ns) plus the runtime's handler and its hook path "
     f"(×{med(next(r for r in trap_rows if r['label'].startswith('trap path, fakepid'))['floor']):.3f}"
     f" that floor).")
emit()
emit("### Page 0 before and after")
emit()
if not BEFORE:
    emit("Not measured in this run: `BENCH_BEFORE=REV make bench` measures the runtime of git "
         "revision REV next to the current one.")
    emit()
else:
    emit(f"mech rewritten by the zprewrite of {BEFORE} (committed {ENV.get('before_date', '?')}; "
         f"built by bench/run.sh from `git archive`; its runtime always takes page 0) and by the current one (`ZP_PAGE0=fast`), in adjacent processes "
         f"in each of the {len(ZPO)} rounds, alternating which goes first. *Added*: the rewritten "
         f"loop minus its unpatched copy (`jit-native`) in the same repetition, median over all "
         f"repetitions (IQR). *Change*: per round, the current build's median minus the one "
         f"before's; median over rounds (IQR). A number counts as slower when its change is "
         f"above 1 ns in the median and positive in three quarters of the rounds.")
    emit()
    emit(f"| system call | before ({BEFORE}): added ns (IQR) | now: added ns (IQR) | change, per "
         f"round (IQR) | slower? |")
    emit("|---|---|---|---|---|")
    for r in p0_rows:
        emit(f"| {r['nr']} {r['name']} | {sgn(med(r['old']))} ({iqr(r['old'])}) | "
             f"{sgn(med(r['new']))} ({iqr(r['new'])}) | {sgn(med(r['diff']))} ({iqr(r['diff'])}) | "
             f"{'**yes**' if slower(r['diff']) else 'no'} |")
    emit()
    emit(f"Page 0 no slower than before: {verdict(not p0_slow)}"
         + (f" (slower: {', '.join(r['name'] for r in p0_slow)})." if p0_slow else
            f" (getpid: {sgn(med(p0_gp['old']))} ns before, {sgn(med(p0_gp['new']))} ns now, "
            f"change {sgn(med(p0_gp['diff']))} ns)."))
    emit()

# ---- 9 ---------------------------------------------------------------------------
emit("## 9. The hook path, before and after the runtime stack")
emit()
emit("With a hook embedded, every call takes entry.S's slow path: the runtime now moves to the "
     "thread's own runtime stack (`ENTER_RT_STACK`: the block's stack bounds and free pointer "
     "read through %gs, the stack switched, the chunk taken), builds `struct zp_frame` there "
     "(`FRAME_BUILD`: the number, the six arguments, the site, the flags, the application's "
     "stack pointer, the free pointer to restore, rbx), and `zp_dispatch` records the frame in "
     "the thread block (for `zp_forward`) before the hook runs; on the way back the registers "
     "come from the frame and the chunk is given back. "
     + (f"Before ({BEFORE}), the frame was pushed on the application's stack below the red "
        f"zone. " if BEFORE else "")
     + "The pass-through fast path (no hook) does not change stacks. mech rewritten with the "
     "fakepid sample hook (answers getpid from a cached value), with bench/fwdhook.c (forwards "
     "every call with `zp_forward`: the real call made from inside the hook) and with no hook, "
     + ("by both zprewrites, in adjacent processes alternating which goes first; " if BEFORE
        else "") + "page 0, getpid. *Added*: the rewritten loop minus the same process's "
     "reference (a plain call returning a stored value for fakepid, the unpatched loop "
     "otherwise), median over all repetitions (IQR)"
     + ("; *change*: per round, now minus before, median over rounds (IQR)." if BEFORE else "."))
emit()
if BEFORE:
    emit(f"| getpid through | before ({BEFORE}): ns per call | now: ns per call | before: added "
         f"(IQR) | now: added (IQR) | change, per round (IQR) |")
    emit("|---|---|---|---|---|---|")
    for r in hook_rows:
        emit(f"| {r['label']} | {ns(med(r['ns_old']))} | {ns(med(r['ns']))} | "
             f"{sgn(med(r['old']))} ({iqr(r['old'])}) | {sgn(med(r['new']))} ({iqr(r['new'])}) | "
             f"{sgn(med(r['diff']))} ({iqr(r['diff'])}) |")
else:
    emit("Before figures: `BENCH_BEFORE=REV make bench` (not measured in this run).")
    emit()
    emit("| getpid through | ns per call | added (IQR) |")
    emit("|---|---|---|")
    for r in hook_rows:
        emit(f"| {r['label']} | {ns(med(r['ns']))} | {sgn(med(r['new']))} ({iqr(r['new'])}) |")
emit()
def trend(diffs):
    return ("clearly slower" if slower(diffs) else
            "clearly faster" if slower([-x for x in diffs]) else "within the rounds' spread")


text = (f"Around a real call, the hook path costs {more_less(med(hook_share))} than the fast "
        f"path (fwdhook's added cost minus the no-hook one's, per round; IQR {iqr(hook_share)}"
        + (f"; before: {more_less(med(hook_share_old))}, IQR {iqr(hook_share_old)}" if BEFORE else "")
        + ").")
if BEFORE:
    text += (f" Change since {BEFORE}: " + "; ".join(
        f"{r['label'].split(' (')[0]} {sgn(med(r['diff']))} ns ({trend(r['diff'])})"
        for r in hook_rows) + " (clearly: by more than 1 ns in the median, and in the same "
        "direction in three quarters of the rounds).")
emit(text)
emit()

# ---- 10 --------------------------------------------------------------------------
emit("## 10. Every system call (--complete, --vdso)")
emit()
emit(f"Measured in this run: {ENV['cpu']}, {ENV['cpus']} CPUs, Linux {ENV['kernel']}, "
     f"{ENV['date']} (see *Machine and run*).")
emit()
emit(f"`zprewrite --complete` (docs/runtime.md, \"Every system call\") turns on Syscall User "
     f"Dispatch (SUD) in every thread, with the runtime's code as the allowed region: a "
     f"`syscall` that no rewriter saw raises SIGSYS, and the runtime's handler makes it through "
     f"the hook on the runtime stack; a site in anonymous memory is then *learned* (`call "
     f"*%rax` written over it), a file-backed one is never written and pays SIGSYS at every "
     f"call. mech rewritten with `--complete` runs three getpid loops: `native`, a rewritten "
     f"site; `jit-native`, the run-time copy in anonymous memory, caught at its first call and "
     f"learned; `file-native`, the same copy in a mapping of a memfd, read and execute only "
     f"(/proc/self/maps shows a path, so the runtime never writes it), caught at every call "
     f"(bench/run.sh checks with strace that its calls raise SIGSYS). In each of the "
     f"{len(COMP)} rounds these processes run next to their references: mech.zp (the same "
     f"rewrite without `--complete`), the original mech's SUD loops (`sud`: a SIGSYS handler "
     f"that answers a stored value; `sud-real`: one that makes the real getpid, with the "
     f"selector set to allow around it; `sud-pass`: dispatch on with the loop in the allowed "
     f"region, so nothing is trapped: what the kernel's check costs an allowed call, as every "
     f"call of a `--complete` runtime is one), on page 0 (`ZP_PAGE0=fast`) and on the trap "
     f"path (`ZP_PAGE0=never`); mech rewritten with `--complete --hook fakepid.so` next to the "
     f"original mech. Thread CPU time. *In-process* comparisons are paired within repetitions "
     f"(median over all of them); the others, marked ¹, per round (the medians of two "
     f"adjacent processes; median over rounds).")
emit()
emit("| getpid through | ns per call (IQR) | compared with | ratio (IQR) | added ns (IQR) |")
emit("|---|---|---|---|---|")
for r in c_rows:
    mark = "" if r["inproc"] else " ¹"
    emit(f"| {r['label']} | {ns(med(r['ns']))} ({iqr(r['ns'], '{:.0f}')}) | {r['ref']}{mark} | "
         f"×{med(r['x']):.3f} ({iqr(r['x'], '{:.3f}')}) | {sgn(med(r['d']))} ({iqr_ns(r['d'])}) |")
emit()


def resolved(d):
    """How a difference compares with the spread of its pairs."""
    if slower(d):
        return "clearly more"
    if slower([-x for x in d]):
        return "clearly less"
    return "not resolved: within the spread"


emit(f"*Target: `--complete` adds nothing measurable to a rewritten site's call*: "
     f"{verdict(ok10a)}. On page 0 the same rewritten getpid costs {sgn(med(c_site['d']))} ns with `--complete` "
     f"(×{med(c_site['x']):.3f}, per round, IQR {iqr_ns(c_site['d'])}: "
     f"{resolved(c_site['d'])}), on the trap path {sgn(med(c_site_trap['d']))} ns "
     f"(IQR {iqr_ns(c_site_trap['d'])}: {resolved(c_site_trap['d'])}). The runtime's "
     f"fast path does not change with `--complete`; what changes is in the kernel: with "
     f"dispatch on, every system call of the thread enters through the kernel's slower entry "
     f"work, which checks the allowed region. That check, measured in-process (`sud-pass` − raw "
     f"loop), costs {sgn(med(c_pass['d']))} ns per call (IQR {iqr_ns(c_pass['d'])}: "
     f"{resolved(c_pass['d'])}). (Clearly: by more than 1 ns in the median, and in the same "
     f"direction in three quarters of the pairs.)")
emit()
emit(f"*Target: a caught call costs at most ×{T_CAUGHT_X:.2f} a getpid trapped by bare "
     f"SUD*: {verdict(ok10b)} (×{med(c_caught['x']):.3f}, per round, IQR "
     f"{iqr(c_caught['x'], '{:.3f}')}: {ns(med(c_caught['ns']))} ns against "
     f"{ns(med(allreps(FLOOR, kg('sud'))))} ns). "
     + (f"Why missed: the two do not do the same work. Bare SUD's handler answers a stored "
        f"value; the runtime, without a hook, makes the real getpid, which costs "
        f"{sgn(med(sud_real_getpid))} ns inside a SUD handler (`sud-real` − `sud`, IQR "
        f"{iqr_ns(sud_real_getpid)}). Like for like, " if not ok10b else "Like for like, ")
     + f"the caught pass-through call costs ×{med(c_caught_real['x']):.3f} a SUD handler that "
     f"makes the getpid (IQR {iqr(c_caught_real['x'], '{:.3f}')}; "
     f"{sgn(med(c_caught_real['d']))} ns, IQR {iqr_ns(c_caught_real['d'])}), and a caught call "
     f"answered by the fakepid hook ×{med(c_caught_fake['x']):.3f} a bare SUD handler "
     f"that answers (IQR {iqr(c_caught_fake['x'], '{:.3f}')}; "
     f"{sgn(med(c_caught_fake['d']))} ns). That difference is the runtime's SIGSYS handler's "
     f"work (runtime/net.c: the call read from the signal's context into a `struct "
     f"zp_syscall`, the application's own SUD consulted, the move to the thread's runtime "
     f"stack, the call made through the hook's path, and `learn()`, which finds a site it "
     f"could not write in its list of refused sites; the /proc/self/maps read happens at the "
     f"first call only) against mech's minimal handler"
     + (f"; it is negative here: the runtime's SIGSYS, delivered on its own signal stack "
        f"(SA_ONSTACK, runtime/sigaction.c), and its handler together cost less than mech's "
        f"minimal handler on the application's stack; why was not measured"
        if resolved(c_caught_real["d"]) == resolved(c_caught_fake["d"]) == "clearly less" else
        f"; {resolved(c_caught_real['d'])} (pass-through), {resolved(c_caught_fake['d'])} "
        f"(fakepid): the runtime's handler costs no more than the bare one"
        if not slower(c_caught_real["d"]) and not slower(c_caught_fake["d"]) else "")
     + f". On the trap path a caught call costs {ns(med(c_caught_trap['ns']))} ns "
     f"(×{med(c_caught_trap['x']):.3f} bare SUD, IQR {iqr(c_caught_trap['x'], '{:.3f}')}): "
     f"SIGSYS comes from the `syscall` itself, with no page fault.")
emit()
emit(f"*Target: repeated calls from a run-time site cost at most ×{T_LEARN_X:.0f} a rewritten "
     f"site*: {verdict(ok10c)}. Once learned, the anonymous copy's `syscall` is a `call *%rax` like "
     f"the file's rewritten sites: ×{med(c_learn['x']):.3f} the rewritten site in the same "
     f"process on page 0 (IQR {iqr(c_learn['x'], '{:.3f}')}; {sgn(med(c_learn['d']))} ns), "
     f"×{med(c_learn_trap['x']):.3f} on the trap path (IQR {iqr(c_learn_trap['x'], '{:.3f}')}). "
     f"Against an unpatched getpid in the adjacent mech.zp it adds {sgn(med(learn_vs_raw))} ns "
     f"(per round, IQR {iqr_ns(learn_vs_raw)}; a rewritten site adds {sgn(med(gp['d_nat']))} ns "
     f"in-process, item 1). Its first "
     f"call pays a caught call plus the learning (a /proc/self/maps read when the page is not "
     f"writable, two mprotects and the 2-byte store).")
emit()
emit(f"**`--vdso`.** The vDSO answers clock_gettime without entering the kernel; with "
     f"`--vdso` the runtime hides it (`AT_SYSINFO_EHDR` becomes `AT_IGNORE`), so the C "
     f"library makes the real system call, through a rewritten site (bench/run.sh checks with "
     f"strace that it does). mech rewritten with `--vdso` runs the C library's "
     f"clock_gettime(CLOCK_MONOTONIC) (`libc-clock`), the vDSO's, called directly at the "
     f"address the kernel's auxiliary vector gives (`vdso-clock`: /proc/self/auxv keeps it), and "
     f"the raw system call (`jit-native`), in the same process; and mech rewritten with "
     f"`--vdso --hook` bench/clockhook.c, a faketime-style hook that answers "
     f"clock_gettime(CLOCK_MONOTONIC) itself from the runtime's clock (`zp_clock_ns()`, which "
     f"reads the vDSO), shifted by an offset. Thread CPU time; in-process pairs.")
emit()
emit("| clock_gettime(CLOCK_MONOTONIC) through | ns per call (IQR) | × the vDSO (IQR) | "
     "added over the vDSO, ns (IQR) |")
emit("|---|---|---|---|")
emit(f"| the vDSO (as without `--vdso`) | {ns(med(v_vdso))} ({iqr(v_vdso)}) | ×1 | |")
emit(f"| the C library, vDSO hidden (`--vdso`): a system call through a rewritten site, "
     f"pass-through | {ns(med(v_sys))} ({iqr(v_sys, '{:.0f}')}) | ×{med(v_x):.1f} "
     f"({iqr(v_x)}) | {sgn(med(v_d))} ({iqr_ns(v_d)}) |")
emit(f"| the raw system call (unpatched copy) | {ns(med(v_raw))} ({iqr(v_raw, '{:.0f}')}) | "
     f"×{med(v_raw) / med(v_vdso):.1f} (ratio of medians) | |")
emit(f"| the C library, `--vdso` and a faketime-style hook answering from the runtime's clock | "
     f"{ns(med(v_hook))} ({iqr(v_hook)}) | ×{med(vh_x):.2f} ({iqr(vh_x, '{:.2f}')}) | "
     f"{sgn(med(vh_d))} ({iqr_ns(vh_d)}) |")
emit()
emit(f"With the vDSO hidden, a clock_gettime that passes through costs a system call and the "
     f"runtime: {ns(med(v_sys))} ns instead of {ns(med(v_vdso))} ns (×{med(v_x):.0f}); over "
     f"the raw system call the rewritten path adds {sgn(med(v_rt))} ns (IQR {iqr_ns(v_rt)}). "
     f"For a faketime-style hook this means: every clock read reaches it, and if it answers "
     f"from the vDSO-backed `zp_clock_ns()` instead of passing the call on, a read costs "
     f"{ns(med(v_hook))} ns ({sgn(med(vh_d))} ns over the vDSO's own), not the "
     f"{ns(med(v_sys))} ns of the system call (`zp_clock_ns()` is CLOCK_MONOTONIC: a hook "
     f"that fakes CLOCK_REALTIME adds the offset between the two clocks, taken once); a "
     f"program that reads the clock in a tight loop slows down by ×{med(v_x):.0f} only if the "
     f"hook passes the calls on.")
emit()

emit("## How to read these numbers")
emit()
emit("* The machine is shared with other jobs. Each comparison is paired: the two sides run "
     "next to each other in time (in the same process, or in adjacent processes of one round), "
     "and the page quotes the median of the per-pair differences or ratios, with their "
     "interquartile range or min … max. A median of differences is not the difference of the "
     "medians in the neighbouring columns.")
emit("* bench/mech's ns per call are thread CPU time (`-c`), except ptrace and the item 3 "
     "table (wall time). Under load, wall time also counts the time a process waits for a CPU.")
emit("* The figures quoted for zpoline, E9Patch, SUD and ptrace (\"the reference measurements\", "
     "\"the reference machine\") are the team's reference measurements (REFERENCE.md, a team "
     "file that is not in this repository), made on a different machine (AMD EPYC): compare "
     "ratios, not nanoseconds.")
emit()

os.makedirs(DOCS, exist_ok=True)
with open(os.path.join(DOCS, "performance.md"), "w") as f:
    f.write("\n".join(out))


# ---- plot tables (bench/mech's table format, see bench/README.md) --------------------
def plot_row(f, mech, nr, name, vals):
    """One item: its reps are the values given."""
    f.write(f"{mech} {nr} {name} 0 {len(vals)} {med(vals):.3f} {min(vals):.3f} {max(vals):.3f} - -\n")


with open(os.path.join(WORK, "plot-syscall.txt"), "w") as f:
    f.write("# mech nr syscall calls reps median_ns min_ns max_ns ratio delta_ns\n")
    for m, label in (("jit-native", "unpatched"), ("jit-floor", "call-floor"),
                     ("jit-floor-ind", "call-floor-ind"), ("native", "zprewrite")):
        for nr, name in SYSCALLS:
            if nr < FAULT_NR:
                plot_row(f, label, nr, name, allreps(ZPR, (m, nr)))
with open(os.path.join(WORK, "plot-getpid.txt"), "w") as f:
    f.write("# mech nr syscall calls reps median_ns min_ns max_ns ratio delta_ns\n")
    for rounds, m, label in ((ZPR, "jit-native", "unpatched"), (ZPR, "jit-floor", "call-floor"),
                             (ZPR, "native", "zprewrite"), (FAKE, "native", "zprewrite+fakepid"),
                             (FAKE, "cached", "plain-call"), (ORIG, "seccomp", "seccomp"),
                             (ORIG, "sud", "SUD"), (FLOOR, "fault", "fault-floor"),
                             (TRAP, "native", "zprewrite-trap-path"),
                             (COMP, "file-native", "zprewrite-complete-caught"),
                             (WORIG, "ptrace", "ptrace(wall)")):
        plot_row(f, label, GETPID, "getpid", allreps(rounds, kg(m)))
print(f"report: {os.path.join(DOCS, 'performance.md')}", file=sys.stderr)
