#!/usr/bin/env python3
# results.py - per-test results of a third-party test suite, for make check-real.
#
#   results.py parse go|py LOG > RESULTS
#   results.py compare SUITE HOOK KNOWN NATIVE[,NATIVE2] REWRITTEN
#
# tests/real/run.sh runs each suite natively and rewritten; `parse` turns
# the verbose log of one run (Go's `-test.v`, or unittest's `-v` lines as
# CPython's regrtest prints them) into one "STATUS NAME" line per test, and
# `compare` tells whether the rewritten run's statuses are the native ones.
#
# Statuses: PASS, FAIL, SKIP; ERROR, XFAIL (expected failure) and XPASS
# (unexpected success) from unittest; NOSTATUS for a unittest test whose
# subtests failed (unittest then prints no status of the test itself);
# MISSING, in a comparison, for a test one side did not report at all (the
# run crashed or timed out before it).
#
# A test is flaky when two native runs disagree on it: the rewritten run may
# then show any status a native run showed.  A difference listed in KNOWN
# (tests/real/known-differences.txt: "SUITE HOOK TEST REASON...", shell
# globs in the first three fields) is reported with its reason and does not
# count as a failure.  compare exits 1 if a difference is left unexplained.
import fnmatch
import re
import sys
from collections import Counter

# ---- Go: "--- PASS: TestName/sub (0.01s)", indented for subtests ----------

GO_RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \(")


GO_RUN = re.compile(r"^=== RUN   (\S+)$")


def parse_go(lines):
    """(status, name) for every test and subtest of a -test.v log.

    Go's -v output can lose a parallel subtest's own "--- PASS" line when it
    ends as its parent reports (seen with go 1.19, natively too; gotestsum
    handles the same).  A parent passes only if every subtest passed, so a
    subtest that started ("=== RUN") and whose parent passed is a PASS."""
    started, got = [], {}
    for line in lines:
        m = GO_RESULT.match(line)
        if m:
            got.setdefault(m.group(2), m.group(1))
            yield m.group(1), m.group(2)
            continue
        m = GO_RUN.match(line.rstrip("\n"))
        if m:
            started.append(m.group(1))
    for name in started:
        parent = name.rpartition("/")[0]
        if name not in got and parent and got.get(parent) == "PASS":
            yield "PASS", name


# ---- unittest: "test_x (module.Class.test_x) ... ok" -----------------------
#
# The status follows " ... " on the same line, or, when the test has a
# docstring, on the next line after the docstring's first line; output the
# test writes itself can also come before it.  Subtests that fail print a
# line of their own, indented, with their parameters.

PY_START = re.compile(r"^(\w+) \(([A-Za-z_]\w*(?:\.\w+)+)\)(.*)$")
PY_SUBTEST = re.compile(r"^  (\w+) \(([\w.]+)\) (\(.*\)|\[.*\]) \.\.\. (.*)$")
PY_STATUS = [("ok", "PASS"), ("FAIL", "FAIL"), ("ERROR", "ERROR"),
             ("skipped", "SKIP"), ("expected failure", "XFAIL"),
             ("unexpected success", "XPASS")]


def py_status(text):
    """The status a unittest result text stands for, or None."""
    for word, status in PY_STATUS:
        if text == word or (word == "skipped" and text.startswith("skipped ")):
            return status
    return None


def py_line_status(line):
    """The status at the end of a line ("... ok", or a bare "ok"), or None."""
    if " ... " in line:
        return py_status(line.rsplit(" ... ", 1)[1].strip())
    return py_status(line.strip())


def parse_py(lines):
    """(status, name) for every test of a verbose unittest log."""
    pending = None
    for line in lines:
        line = line.rstrip("\n")
        sub = PY_SUBTEST.match(line)
        if sub:
            status = py_status(sub.group(4).strip())
            if status:
                yield status, "%s %s" % (sub.group(2), sub.group(3))
            continue
        start = PY_START.match(line)
        if start:
            if pending:
                yield "NOSTATUS", pending
            pending = start.group(2)
            rest = start.group(3)
            status = py_line_status(rest) if " ... " in rest else None
        elif pending:
            status = py_line_status(line)
        else:
            continue
        if status:
            yield status, pending
            pending = None
    if pending:
        yield "NOSTATUS", pending


PY_RAN = re.compile(r"^Ran (\d+) tests? in ")


def check_py_count(path, found):
    """Warn if the tests found are not the "Ran N tests" unittest counted:
    then this parser missed or invented some."""
    with open(path, errors="replace") as f:
        ran = [int(m.group(1)) for m in map(PY_RAN.match, f) if m]
    tests = sum(1 for _, name in found if " " not in name)
    if len(ran) == 1 and ran[0] != tests:
        sys.stderr.write("results.py: %s: unittest ran %d tests, %d found in its log\n"
                         % (path, ran[0], tests))


def parse(kind, path):
    with open(path, errors="replace") as f:
        found = list((parse_go if kind == "go" else parse_py)(f))
    if kind == "py":
        check_py_count(path, found)
    # A name can be reported more than once: a unittest test whose
    # tear-down failed after it passed, a Go test binary that runs itself
    # again with -test.v.  It keeps the set of statuses it got.
    results = {}
    for status, name in found:
        results.setdefault(name, set()).add(status)
    for name in sorted(results):
        print("%s %s" % ("+".join(sorted(results[name])), name))


# ---- comparison ------------------------------------------------------------

def read_results(path):
    results = {}
    with open(path) as f:
        for line in f:
            status, name = line.rstrip("\n").split(" ", 1)
            results[name] = status
    return results


def read_known(path):
    """[(suite, hook, test, reason)] from the known-differences file."""
    known = []
    with open(path) as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                fields = line.split(None, 3)
                if len(fields) < 4:
                    sys.exit("results.py: %s: a line needs SUITE HOOK TEST REASON: %s"
                             % (path, line.strip()))
                known.append(tuple(f.strip() for f in fields))
    return known


def known_reason(known, suite, hook, test):
    for k_suite, k_hook, k_test, reason in known:
        if (fnmatch.fnmatchcase(suite, k_suite) and fnmatch.fnmatchcase(hook, k_hook)
                and fnmatch.fnmatchcase(test, k_test)):
            return reason
    return None


def worst(status):
    """One status for a set of them ("FAIL+PASS"), for counting."""
    for s in ("FAIL", "ERROR", "XPASS", "NOSTATUS", "PASS", "XFAIL"):
        if s in status.split("+"):
            return s
    return status


def counts(results):
    c = Counter(worst(s) for s in results.values())
    return "%d/%d/%d" % (c["PASS"] + c["XFAIL"], c["FAIL"] + c["ERROR"] + c["XPASS"]
                         + c["NOSTATUS"], c["SKIP"])


def differences(natives, rewritten):
    """[(test, native statuses, rewritten status, flaky)] that differ."""
    names = set(rewritten)
    for n in natives:
        names |= set(n)
    diffs = []
    for name in sorted(names):
        seen = {n.get(name, "MISSING") for n in natives}
        got = rewritten.get(name, "MISSING")
        if got not in seen:
            diffs.append((name, "|".join(sorted(seen)), got, len(seen) > 1))
    return diffs


# A run that crashed misses every test after the crash: the first few tell.
MISSING_SHOWN = 8


def compare(suite, hook, known_path, native_paths, rewritten_path):
    natives = [read_results(p) for p in native_paths.split(",")]
    rewritten = read_results(rewritten_path)
    known = read_known(known_path)
    diffs = differences(natives, rewritten)
    flaky = sum(1 for name in set().union(*natives)
                if len({n.get(name, "MISSING") for n in natives}) > 1)
    unexplained = missing = 0
    for name, seen, got, _ in diffs:
        reason = known_reason(known, suite, hook, name)
        if not reason:
            unexplained += 1
            missing += got == "MISSING"
        if reason:
            print("    known   %-60s native %s, rewritten %s: %s" % (name, seen, got, reason))
        elif got != "MISSING" or missing <= MISSING_SHOWN:
            print("    DIFFERS %-60s native %s, rewritten %s" % (name, seen, got))
    if missing > MISSING_SHOWN:
        print("    DIFFERS ... and %d more tests the rewritten run did not report"
              % (missing - MISSING_SHOWN))
    print("COUNTS native %s rewritten %s tests %d differ %d unexplained %d flaky-natively %d"
          % (counts(natives[0]), counts(rewritten), len(rewritten), len(diffs),
             unexplained, flaky))
    return 1 if unexplained else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "parse" and argv[2] in ("go", "py"):
        parse(argv[2], argv[3])
        return 0
    if len(argv) == 7 and argv[1] == "compare":
        return compare(*argv[2:])
    sys.stderr.write("usage: results.py parse go|py LOG\n"
                     "       results.py compare SUITE HOOK KNOWN NATIVE[,NATIVE2] REWRITTEN\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
