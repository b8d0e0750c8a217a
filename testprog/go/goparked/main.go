// Command goparked is the fixture for rtmon thr's goroutines alive at attach
// (tests/integration/test_goroutines.py): goroutines parked before rtmon attaches, some of which
// end while it traces, and the runtime's own count of them at both ends.
//
//	goparked N
//
// It runs one GC (so that the runtime's mark workers exist before the gate: no runtime goroutine
// starts after it), starts N goroutines of main.parked, each blocked on a channel, waits until
// runtime.NumGoroutine() counts them, prints "ready PID NUMGOROUTINE" and waits for a line (or
// EOF) on stdin. Then it lets N/2 of them return, starts 3 goroutines of main.late, which park for
// good, and 2 of main.short, which return at once, waits until NumGoroutine() is N-N/2+3+1 (the
// ones that returned have exited), prints "done NUMGOROUTINE" and exits 0 without allocating
// in between. Standard library only; builds with Go 1.17 and later.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

var (
	release = make(chan struct{})
	never   = make(chan struct{})
)

//go:noinline
func parked() { <-release }

//go:noinline
func late() { <-never }

//go:noinline
func short() {}

// settle waits until the runtime counts n goroutines.
func settle(n int) {
	for runtime.NumGoroutine() != n {
		time.Sleep(time.Millisecond)
	}
}

func main() {
	n := 10
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	runtime.GC()
	for i := 0; i < n; i++ {
		go parked()
	}
	settle(n + 1)
	fmt.Printf("ready %d %d\n", os.Getpid(), runtime.NumGoroutine())
	bufio.NewReader(os.Stdin).ReadString('\n')
	for i := 0; i < n/2; i++ {
		release <- struct{}{}
	}
	for i := 0; i < 3; i++ {
		go late()
	}
	for i := 0; i < 2; i++ {
		go short()
	}
	settle(n - n/2 + 3 + 1)
	fmt.Printf("done %d\n", runtime.NumGoroutine())
}
