#!/usr/bin/env python3
"""funclen.py - list the C functions longer than N lines.

Usage: scripts/funclen.py [-n N] FILE_OR_DIR...   (N defaults to 60)

The project's standard says: no function over 80 lines, and the long ones
say why.  This prints "LINES FILE:LINE NAME" for each function of more than
N lines, longest first, and exits 1 if any was found (0 otherwise), so that
it can gate a check.  A function's length counts its lines from the one with
its name to its closing brace.

It reads our own style, not any C: a definition's opening brace and closing
brace stand alone in column 0, and its name is the identifier before the
first '(' of the lines since the previous top-level declaration.  Directories
are searched for *.c files.
"""
import os
import re
import sys

NAME = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(')


def functions(path):
    """Yield (name, first line, number of lines) for each definition."""
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().split('\n')
    head = None     # first line of the current top-level declaration
    start = None    # (name, first line) of the definition being read
    for i, line in enumerate(lines):
        if start is None:
            if line == '{' and head is not None:
                text = ' '.join(lines[head:i])
                m = NAME.search(text)
                if m and '=' not in text.split('(')[0]:
                    start = (m.group(1), head)
                    continue
            if not line.strip() or line.startswith(('#', '/*', ' *', '//', '}')):
                head = None
            elif head is None and not line[0].isspace():
                head = i
            if line.rstrip().endswith(';'):
                head = None
        elif line == '}':
            yield start[0], start[1] + 1, i - start[1] + 1
            start = head = None


def sources(args):
    for a in args:
        if os.path.isdir(a):
            for root, _, files in os.walk(a):
                for name in sorted(files):
                    if name.endswith('.c'):
                        yield os.path.join(root, name)
        else:
            yield a


def main(argv):
    limit = 60
    if len(argv) >= 2 and argv[0] == '-n':
        limit = int(argv[1])
        argv = argv[2:]
    if not argv:
        sys.stderr.write(__doc__.split('\n\n')[1] + '\n')
        return 2
    found = []
    for path in sources(argv):
        for name, line, n in functions(path):
            if n > limit:
                found.append((n, f'{path}:{line}', name))
    for n, where, name in sorted(found, key=lambda t: (-t[0], t[1])):
        print(f'{n:5d} {where} {name}')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
