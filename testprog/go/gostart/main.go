// Command gostart starts goroutines in each of the ways a user writes `go`, for rtmon's start
// function names (docs/thr.md, Go programs). Since Go 1.17 the compiler wraps a `go` statement
// whose call has arguments, or calls a method, in a function of its own (main.main.dwrap.N in
// 1.17, main.main.funcN in 1.18 to 1.21, main.main.gowrapN from 1.22); the runtime's tracebacks
// hide that wrapper and show the function the user wrote.
//
// It starts one goroutine of each kind below, waits until all of them are blocked, prints
// runtime.Stack(all) between the lines "stack-begin" and "stack-end" (the truth rtmon's names
// are checked against: each goroutine's outermost frame), then lets them finish and prints
// "done goroutines=N". It uses only the standard library and builds with Go 1.17 and later.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

var (
	started sync.WaitGroup
	done    sync.WaitGroup
	gate    = make(chan struct{})
	sink    int
	mu      sync.Mutex
)

func park(v int) {
	mu.Lock()
	sink += v
	mu.Unlock()
	started.Done()
	<-gate
	done.Done()
}

//go:noinline
func withArg(a int) { park(a) }

//go:noinline
func twoArgs(a, b int) { park(a + b) }

//go:noinline
func noArg() { park(1) }

type counter struct{ n int }

//go:noinline
func (c *counter) ptrMethod() { park(c.n) }

//go:noinline
func (c counter) valMethod(a int) { park(c.n + a) }

// small may be inlined into its `go` wrapper: the wrapper then has no call to it.
func small(a int) {
	started.Done()
	<-gate
	sink += a
	done.Done()
}

const goroutines = 8

func main() {
	c := &counter{n: 3}
	v := counter{n: 4}
	x := 5
	started.Add(goroutines)
	done.Add(goroutines)
	go withArg(1)
	go twoArgs(1, 2)
	go noArg()
	go c.ptrMethod()
	go v.valMethod(2)
	go func() { park(x) }()
	go func(a int) { park(a) }(6)
	go small(7)
	started.Wait()
	// Every goroutine is at (or about to block on) <-gate: its outermost frame is its start
	// function, whatever it is doing now.
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	fmt.Printf("stack-begin\n%s\nstack-end\n", buf[:n])
	close(gate)
	done.Wait()
	fmt.Printf("done goroutines=%d\n", goroutines)
	os.Exit(0)
}
