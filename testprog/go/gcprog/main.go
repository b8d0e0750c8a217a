// Command gcprog is a deterministic Go fixture for rtmon gc.
//
//	gcprog [N] [-memstats]
//
// It turns the GC pacer off (debug.SetGCPercent(-1)), so that no heap- or
// time-triggered cycle can happen, prints "ready <pid>", and waits until it
// reads a line (or EOF) on stdin. Then it calls runtime.GC() exactly N times
// (default 5), with -memstats calls runtime.ReadMemStats once (a
// stop-the-world that is not GC), prints "done gcs=N memstats=0|1" and
// exits 0. It allocates almost nothing after the start.
//
// It uses only the standard library and builds with Go 1.17 and later.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gcprog [N] [-memstats]")
	os.Exit(2)
}

func main() {
	// First, before rtmon is told to go on: only forced cycles from here.
	debug.SetGCPercent(-1)

	n, memstats := 5, false
	for _, a := range os.Args[1:] {
		if a == "-memstats" {
			memstats = true
			continue
		}
		v, err := strconv.Atoi(a)
		if err != nil || v < 0 {
			usage()
		}
		n = v
	}

	fmt.Printf("ready %d\n", os.Getpid())
	// A line or EOF: EOF too, so a run with stdin closed never hangs.
	bufio.NewReader(os.Stdin).ReadString('\n')

	for i := 0; i < n; i++ {
		runtime.GC()
	}
	ms := 0
	if memstats {
		var st runtime.MemStats
		runtime.ReadMemStats(&st)
		ms = 1
	}
	fmt.Printf("done gcs=%d memstats=%d\n", n, ms)
}
