// stackbottom_test.go - a Go check of our own for make check-real
// (tests/real/run.sh builds it like the standard library's tests, rewrites
// it and compares its results with the original's).
//
// Go makes system calls on goroutine stacks, which start at 8 KiB and
// promise a chain of functions that skip the stack-growth check (the system
// call wrappers are such functions) only about 800 bytes below the stack
// pointer.  A rewritten `syscall` instruction pushes a return address there,
// and whatever the runtime and the hook do runs there too unless they move
// to a stack of their own.  Going past the end writes into the neighbouring
// goroutine's stack: the frame checks below, or Go's own stack walk, see it.
package stackbottom

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"testing"
)

const (
	goroutines = 200
	maxDepth   = 400 // frames of ~100 bytes: past the first stack growths
	frameWords = 6
)

var errOverwritten = errors.New("a stack frame was overwritten during system calls")

// descend recurses depth times, each frame holding a known pattern, makes
// the calls at the bottom, and checks on the way back up that no frame
// changed.
//
//go:noinline
func descend(depth, seed int, calls func() error) error {
	var frame [frameWords]int
	for i := range frame {
		frame[i] = seed*31 + depth*7 + i
	}
	var err error
	if depth > 0 {
		err = descend(depth-1, seed, calls)
	} else {
		err = calls()
	}
	for i := range frame {
		if frame[i] != seed*31+depth*7+i && err == nil {
			err = errOverwritten
		}
	}
	return err
}

// callsAtBottom is what each goroutine does at the bottom of its stack: a
// raw call (getpid), calls through the scheduler-aware wrappers (a write to
// a pipe and the read back), and one that sleeps.  nanosleep fails with
// EINTR whenever a signal handler runs (Go's preemption signal included),
// as it does natively: then it is simply made again.
func callsAtBottom(r, w *os.File) error {
	pid := os.Getpid()
	if p, _, _ := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0); int(p) != pid {
		return errors.New("getpid differs between os and syscall")
	}
	if n, err := w.Write([]byte{1}); n != 1 || err != nil {
		return errors.New("write to the pipe failed")
	}
	var b [1]byte
	if n, err := r.Read(b[:]); n != 1 || err != nil || b[0] != 1 {
		return errors.New("read from the pipe failed")
	}
	ts := syscall.Timespec{Nsec: 1000}
	for {
		err := syscall.Nanosleep(&ts, nil)
		if err != syscall.EINTR {
			return err
		}
	}
}

// stress runs one goroutine's share: every depth from 0 up, so that
// whatever size its stack has grown to, some depth leaves the stack pointer
// just above the guard.
func stress(seed int) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	defer w.Close()
	calls := func() error { return callsAtBottom(r, w) }
	for depth := 0; depth < maxDepth; depth++ {
		if err := descend(depth, seed, calls); err != nil {
			return err
		}
	}
	return nil
}

func TestSyscallsNearStackBottom(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(seed int) {
			defer wg.Done()
			if err := stress(seed); err != nil {
				errs <- err
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
