// nilcall_test.go - a Go check of our own for make check-real
// (tests/real/run.sh builds it like the standard library's tests, rewrites
// it and compares its results with the original's).
//
// A call through a nil func value loads the code pointer from address 0.  Go
// turns that fault into a recoverable nil-pointer panic only if the kernel
// reports it as a fault at an address below 4096 (SEGV_MAPERR/SEGV_ACCERR);
// a rewritten program has its trampoline mapped there, so what the program
// sees depends on how the runtime keeps page 0 looking unmapped.  A Go
// program that gets anything else dies with "fatal error: fault", which is
// why this check is a binary of its own: it must not take the others down.
package nilcall

import (
	"runtime"
	"sync"
	"testing"
)

const nilDeref = "runtime error: invalid memory address or nil pointer dereference"

// callNil calls f; not inlined, so that the call really goes through f.
//
//go:noinline
func callNil(f func()) { f() }

// recoverNil calls a nil func and returns what recover() saw.
func recoverNil() (r interface{}) {
	defer func() { r = recover() }()
	callNil(nil)
	return nil
}

func TestNilFuncCallPanics(t *testing.T) {
	r := recoverNil()
	e, ok := r.(runtime.Error)
	if !ok || e.Error() != nilDeref {
		t.Fatalf("calling a nil func: recovered %v (%T), want %q", r, r, nilDeref)
	}
}

// Each of many goroutines must get its own panic, at the same time.
func TestNilFuncCallPanicsConcurrently(t *testing.T) {
	const goroutines = 50
	var wg sync.WaitGroup
	bad := make(chan interface{}, goroutines)
	for i := 0; i < goroutines; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e, ok := recoverNil().(runtime.Error); !ok || e.Error() != nilDeref {
				bad <- e
			}
		}()
	}
	wg.Wait()
	close(bad)
	for r := range bad {
		t.Errorf("a goroutine calling a nil func recovered %v", r)
	}
}
