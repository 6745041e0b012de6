# zpgdb.py - gdb commands for t-backtrace.sh (gdb -batch -x zpgdb.py ...).
#
#   zp-bt            print the backtrace's function names on one line:
#                    "ZPBT: f0 | f1 | ..." (innermost first; "??" where gdb
#                    knows no name, "<signal>" for a signal frame)
#   zp-stepcheck N   single-step (stepi) until the current function returns,
#                    at most N steps; at every instruction the backtrace must
#                    end with the callers the function had at the start (the
#                    frames in between are whatever the thread is in: the
#                    trampoline, the runtime, its signal handler, a hook).
#                    Prints "ZPSTEP: steps N bad M through NAMES", and the
#                    first bad backtraces.
# The names come from gdb's frame API, so they do not depend on how `bt`
# formats arguments or source lines.
import gdb

MAX_FRAMES = 64


def frame_names():
    names = []
    frame = gdb.newest_frame()
    while frame is not None and len(names) < MAX_FRAMES:
        if frame.type() == gdb.SIGTRAMP_FRAME:
            names.append("<signal>")
        else:
            names.append(frame.name() or "??")
        try:
            frame = frame.older()
        except gdb.error as e:
            names.append("<error: %s>" % e)
            break
    return names


class Backtrace(gdb.Command):
    """Print the backtrace's function names on one line (ZPBT: ...)."""

    def __init__(self):
        super().__init__("zp-bt", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        print("ZPBT: " + " | ".join(frame_names()))


class StepCheck(gdb.Command):
    """zp-stepcheck N: stepi until the current function returns, checking
    at every instruction that the backtrace still ends with its callers."""

    def __init__(self):
        super().__init__("zp-stepcheck", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        callers = frame_names()[1:]
        limit = int(arg)
        steps = bad = 0
        seen = set()
        while steps < limit:
            gdb.execute("stepi", to_string=True)
            steps += 1
            names = frame_names()
            if names == callers:
                break   # returned
            seen.add(names[0])
            if len(names) <= len(callers) or names[-len(callers):] != callers:
                bad += 1
                if bad <= 5:
                    pc = int(gdb.parse_and_eval("$pc"))
                    print("ZPSTEP bad at %#x: %s" % (pc, " | ".join(names)))
        print("ZPSTEP: steps %d bad %d returned %d through %s" %
              (steps, bad, steps < limit, " ".join(sorted(seen))))


Backtrace()
StepCheck()
