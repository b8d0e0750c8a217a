// Benchmark workload for the per-event cost of rtmon's cold probes on a Go program (tests/bench/run.sh,
// section "Per-event costs"):
//
//	goevents goroutines N   start N goroutines one after another, each returning at once
//	goevents gc N           run N garbage collections (runtime.GC) on a small heap
//
// It waits for a line on stdin (so that a tracer can attach first), does the work, then prints one JSON
// line with its own CPU time (getrusage RUSAGE_SELF around the work: uprobe traps taken by the program
// count, the tracer's own CPU does not) and wall time.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var sink []byte

func cpuNs(r syscall.Rusage) int64 {
	return r.Utime.Nano() + r.Stime.Nano()
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goevents goroutines|gc N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "goevents: N must be a positive number")
		os.Exit(2)
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	t0 := time.Now()
	switch os.Args[1] {
	case "goroutines":
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { wg.Done() }()
			wg.Wait()
		}
	case "gc":
		for i := 0; i < n; i++ {
			sink = make([]byte, 4096)
			runtime.GC()
		}
	default:
		fmt.Fprintln(os.Stderr, "goevents: goroutines or gc")
		os.Exit(2)
	}
	wall := time.Since(t0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	fmt.Printf("{\"mode\":%q,\"events\":%d,\"wall_ns\":%d,\"cpu_ns\":%d}\n", os.Args[1], n, wall.Nanoseconds(),
		cpuNs(r1)-cpuNs(r0))
}
