# slot_writable.py FILE SECTION N: exit 0 if relocation N of SECTION applies
# to an address inside a writable PT_LOAD segment of FILE (used by
# elflint_filter in harness.sh).
import subprocess, sys
f, sec, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rel = subprocess.run(["readelf", "-rW", f], capture_output=True, text=True).stdout.splitlines()
offs, inside = [], False
for line in rel:
    if line.startswith("Relocation section"):
        inside = ("'%s'" % sec) in line
    elif inside and line[:1] in "0123456789abcdef" and line.strip():
        offs.append(int(line.split()[0], 16))
if n >= len(offs):
    sys.exit(1)
off = offs[n]
for line in subprocess.run(["readelf", "-lW", f], capture_output=True, text=True).stdout.splitlines():
    w = line.split()
    if w and w[0] == "LOAD":
        va, ms = int(w[2], 16), int(w[5], 16)
        if va <= off < va + ms and "W" in "".join(w[6:-1]):
            sys.exit(0)
sys.exit(1)
