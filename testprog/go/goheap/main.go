// A known Go heap pattern for rtmon heap's tests (tests/integration/test_heap.py): after a line
// (or EOF) on stdin, keepA(N) allocates N objects of 96 B that stay reachable and dropB(M)
// allocates M objects of 2000 B that become garbage, each from its own call path. Then two
// collections (so that every dropped object is swept and its free recorded), then the program
// writes its own heap profile (pprof.WriteHeapProfile) to OUTDIR/heap.pb.gz, its counts to
// OUTDIR/counts.json with the MemProfileRate it ran with, and exits.
//
//	goheap OUTDIR N M [RATE [LINGER]]  RATE: runtime.MemProfileRate, set first thing in main
//	                                    (0 or absent: the runtime's default); LINGER: seconds to
//	                                    stay after writing the counts (serve's test reads it then)
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

type small struct {
	next *small // a pointer: not the tiny allocator's (noscan, < 16 B) and never merged
	pad  [88]byte
}

type big struct {
	pad [2000]byte
}

var kept []*small
var dropped *big

//go:noinline
func keepA(n int) {
	for i := 0; i < n; i++ {
		kept = append(kept, new(small)) // kept has its capacity: no growslice on this path
	}
}

//go:noinline
func dropB(m int) {
	for i := 0; i < m; i++ {
		dropped = new(big) // the one before becomes garbage
	}
	dropped = nil
}

//go:noinline
func pathA(n int) { keepA(n) }

//go:noinline
func pathB(m int) { dropB(m) }

func main() {
	if len(os.Args) > 4 {
		if r, err := strconv.Atoi(os.Args[4]); err == nil && r > 0 {
			runtime.MemProfileRate = r
		}
	}
	dir := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	m, _ := strconv.Atoi(os.Args[3])
	kept = make([]*small, 0, n)
	in := bufio.NewReader(os.Stdin)
	in.ReadString('\n')
	pathA(n)
	pathB(m)
	runtime.GC()
	runtime.GC()
	f, err := os.Create(filepath.Join(dir, "heap.pb.gz"))
	if err != nil {
		panic(err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		panic(err)
	}
	f.Close()
	counts := map[string]int{
		"keep_objects": n, "keep_size": int(8 + 88), "drop_objects": m, "drop_size": 2000,
		"kept_live": len(kept), "rate": runtime.MemProfileRate,
	}
	b, _ := json.Marshal(counts)
	os.WriteFile(filepath.Join(dir, "counts.json"), b, 0o644)
	os.Stdout.WriteString("done\n")
	if len(os.Args) > 5 {
		if s, err := strconv.Atoi(os.Args[5]); err == nil {
			time.Sleep(time.Duration(s) * time.Second)
		}
	}
	runtime.KeepAlive(kept)
}
