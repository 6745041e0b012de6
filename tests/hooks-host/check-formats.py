#!/usr/bin/env python3
"""check-formats.py - the sample hooks use only the runtime's printf subset.

hook.h promises %d %i %u %x %X %o %c %s %p %%, the length modifiers l, ll, z,
h, hh, the flags - 0 # space +, width and precision (also *).  The host tests
format with the C library's vsnprintf, which knows more; this catches a
format the runtime would not.  Looks at the literal format strings passed to
zp_dprintf, zp_snprintf and hu_sb_printf.
"""
import re
import sys

CALL = re.compile(r'\b(zp_dprintf|zp_snprintf|zp_vsnprintf|hu_sb_printf)\s*\(')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
DIRECTIVE = re.compile(r'%([-0# +]*)(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z)?(.)')

bad = 0
for path in sys.argv[1:]:
    text = open(path).read()
    for m in CALL.finditer(text):
        # the call's text up to its closing parenthesis
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {'(': 1, ')': -1}.get(text[i], 0)
            i += 1
        for s in STRING.findall(text[m.end():i]):
            for d in DIRECTIVE.finditer(s):
                if d.group(5) not in 'diuxXocsp%' or (d.group(5) == '%' and d.group(0) != '%%'):
                    line = text.count('\n', 0, m.start()) + 1
                    print(f'{path}:{line}: format directive {d.group(0)!r} is outside the runtime printf subset')
                    bad += 1
sys.exit(1 if bad else 0)
