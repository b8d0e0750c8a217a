// Benchmark workload for Go (tests/bench/run.sh, Go section): GOROUTINES goroutines each doing ITERS
// heap allocations (make([]byte, n), n in 16..4096 from a fixed-seed xorshift, like
// tests/bench/malloc_workload.c), every one through runtime.mallocgc. Each goroutine keeps its last
// RING objects in a heap-held ring, so that escape analysis cannot move them to the stack and the
// collector has something to collect. Waits for a line on stdin (or EOF) so that a tracer can attach
// first, then prints one JSON line on stdout with its own wall and CPU time (getrusage RUSAGE_SELF around
// the work: the collector's CPU and the uprobe traps taken by the process count, the tracer's own CPU
// does not) and the runtime's own count of heap objects allocated during the work (MemStats.Mallocs
// delta, which includes the runtime's allocations).
//
//	gomalloc [GOROUTINES [ITERS]]     (defaults 2 and 500000)
//
// GOMALLOC_MEMPROFILERATE=N sets runtime.MemProfileRate first thing in main: the program does not
// link runtime/pprof, so its runtime would sample nothing for a heap profile (tests/bench/
// heap_cost.py, which measures rtmon heap, sets the default rate, 524288, in both of its runs).
//
// Built with CGO_ENABLED=0 (tests/bench/bench.mk).
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

const ring = 64

// Heap-held rings, one per goroutine: what is stored here escapes.
var rings [][][]byte

//go:noinline
func worker(id int, iters int, wg *sync.WaitGroup) {
	defer wg.Done()
	r := rings[id]
	x := uint64(0x9e3779b97f4a7c15) ^ uint64(id+1)
	for i := 0; i < iters; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		n := 16 + int(x%(4096-16+1))
		p := make([]byte, n)
		p[0] = byte(i)
		r[i%ring] = p
	}
}

func tvNs(t syscall.Timeval) int64 {
	return t.Sec*1000000000 + t.Usec*1000
}

func main() {
	if v := os.Getenv("GOMALLOC_MEMPROFILERATE"); v != "" {
		runtime.MemProfileRate, _ = strconv.Atoi(v)
	}
	goroutines, iters := 2, 500000
	if len(os.Args) > 1 {
		goroutines, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		iters, _ = strconv.Atoi(os.Args[2])
	}
	if goroutines < 1 || goroutines > 64 || iters < 1 {
		fmt.Fprintln(os.Stderr, "usage: gomalloc [GOROUTINES (1..64) [ITERS]]")
		os.Exit(2)
	}
	rings = make([][][]byte, goroutines)
	for i := range rings {
		rings[i] = make([][]byte, ring)
	}
	var wg sync.WaitGroup
	var ms0, ms1 runtime.MemStats
	var r0, r1 syscall.Rusage

	bufio.NewReader(os.Stdin).ReadString('\n')
	runtime.ReadMemStats(&ms0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	w0 := time.Now()
	wg.Add(goroutines)
	for i := 0; i < goroutines; i++ {
		go worker(i, iters, &wg)
	}
	wg.Wait()
	wall := time.Since(w0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	runtime.ReadMemStats(&ms1)
	user := tvNs(r1.Utime) - tvNs(r0.Utime)
	sys := tvNs(r1.Stime) - tvNs(r0.Stime)
	fmt.Printf("{\"goroutines\":%d,\"iters\":%d,\"mallocs\":%d,\"go_mallocs\":%d,\"gc_cycles\":%d,"+
		"\"wall_ns\":%d,\"cpu_ns\":%d,\"user_ns\":%d,\"sys_ns\":%d,\"go_version\":%q}\n",
		goroutines, iters, goroutines*iters, ms1.Mallocs-ms0.Mallocs, ms1.NumGC-ms0.NumGC,
		wall.Nanoseconds(), user+sys, user, sys, runtime.Version())
}
