// Command servego is a deterministic Go fixture for rtmon serve.
//
//	servego N M
//
// It turns the GC pacer off (debug.SetGCPercent(-1)) and calls runtime.GC()
// once, so that the runtime's own goroutines (mark workers included) exist
// before it prints "ready <pid>". Then it waits for a line on stdin (the
// first gate), starts M goroutines that each block on a channel, prints
// "started M" and waits for a second line (the second gate, while all M are
// alive). It then lets them all return, waits for them, calls runtime.GC()
// exactly N times, prints "done goroutines=M gcs=N" and exits 0.
// GODEBUG=gctrace=1 makes the runtime itself print one line per cycle.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
)

func main() {
	debug.SetGCPercent(-1)
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: servego N M")
		os.Exit(2)
	}
	n, err1 := strconv.Atoi(os.Args[1])
	m, err2 := strconv.Atoi(os.Args[2])
	if err1 != nil || err2 != nil || n < 0 || m < 0 {
		fmt.Fprintln(os.Stderr, "usage: servego N M")
		os.Exit(2)
	}
	runtime.GC()
	in := bufio.NewReader(os.Stdin)
	fmt.Printf("ready %d\n", os.Getpid())
	in.ReadString('\n')

	var wg sync.WaitGroup
	release := make(chan struct{})
	wg.Add(m)
	for i := 0; i < m; i++ {
		go func() {
			<-release
			wg.Done()
		}()
	}
	fmt.Printf("started %d\n", m)
	in.ReadString('\n')
	close(release)
	wg.Wait()

	for i := 0; i < n; i++ {
		runtime.GC()
	}
	fmt.Printf("done goroutines=%d gcs=%d\n", m, n)
}
