#!/usr/bin/env python3
"""stack-depth.py - deepest stack use of a hook, from gcc -fcallgraph-info=su.

Reads the .ci (VCG) files gcc writes and prints the largest sum of frame
sizes (plus 8 bytes of return address per call) along any call chain that
starts at a zp_hook_* entry point.  Functions defined elsewhere (the zp_*
helpers of the runtime) count as 0; recursion is an error.
"""
import re
import sys

nodes, edges = {}, {}
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            m = re.match(r'node: \{ title: "([^"]+)" label: "([^"]*)"', line)
            if m:
                size = re.search(r'\\n(\d+) bytes', m.group(2))
                nodes[m.group(1)] = int(size.group(1)) if size else 0
                continue
            m = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', line)
            if m:
                edges.setdefault(m.group(1), set()).add(m.group(2))

memo = {}


def depth(n, seen=()):
    if n in seen:
        sys.exit("recursion through " + n)
    if n not in memo:
        memo[n] = nodes.get(n, 0) + 8 + max(
            (depth(c, seen + (n,)) for c in edges.get(n, ())), default=0)
    return memo[n]


entries = [n for n in nodes if re.search(r'(^|:)zp_hook_(init|enter|leave|exit)$', n)]
if not entries:
    sys.exit("no zp_hook_* entry point in the call graph")
print(max(depth(n) for n in entries))
