// Command gomemstats allocates a known mix through every path of Go's allocator and reports the
// runtime's own count of it (MemStats.Mallocs), for rtmon malloc's exact-count test
// (tests/integration/test_malloc_go.py). Between its gate and its report it allocates nothing
// else: the gate is a raw read of stdin into a global buffer, the report a raw write of a number
// formatted into a preallocated one, the collector is off, and no other goroutine runs Go code
// that allocates. So every mallocgc (or, under GOEXPERIMENT=sizespecializedmalloc, specialized
// entry point) call rtmon sees while attached is one that MemStats counts, except mallocgc(0):
// it prints "mallocs N zero Z" after the gate's input, N = the rise of MemStats.Mallocs, Z the
// size-0 requests it made (make([]byte, n) with n 0 at run time: mallocgc(0), which returns the
// zero base and counts nothing).
//
// The mix, per round: tiny (8 B, no pointers), small no-pointer (24, 100, 500, 3000 B), small
// with pointers (a 2-pointer and a 64-pointer struct), large (40000 B) and size 0.
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
)

type pair struct{ a, b *int }
type wide struct{ p [64]*int }

var (
	gate     [16]byte
	out      = make([]byte, 0, 128)
	zero     = 0 // read at run time: make([]byte, zero) goes to mallocgc(0)
	sizes    = []int{24, 100, 500, 3000, 40000}
	sinkB    [][]byte
	sinkP    []*pair
	sinkW    []*wide
	sinkI    []*int64
	before   runtime.MemStats
	after    runtime.MemStats
	nZero    uint64
	rounds   = 200
	lastZero []byte
)

//go:noinline
func tiny(i int) *int64 { v := int64(i); return &v }

//go:noinline
func bytes(n int) []byte { return make([]byte, n) }

func main() {
	debug.SetGCPercent(-1)
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	// The sinks' backing arrays, allocated before the gate.
	sinkB = make([][]byte, 0, rounds*(len(sizes)+1))
	sinkP = make([]*pair, 0, rounds)
	sinkW = make([]*wide, 0, rounds)
	sinkI = make([]*int64, 0, rounds)
	syscall.Read(0, gate[:])
	runtime.ReadMemStats(&before)
	for r := 0; r < rounds; r++ {
		sinkI = append(sinkI, tiny(r))
		for _, n := range sizes {
			sinkB = append(sinkB, bytes(n))
		}
		sinkP = append(sinkP, &pair{})
		sinkW = append(sinkW, &wide{})
		for i := 0; i < 100; i++ {
			lastZero = bytes(zero)
			nZero++
		}
	}
	runtime.ReadMemStats(&after)
	out = append(out, "mallocs "...)
	out = strconv.AppendUint(out, after.Mallocs-before.Mallocs, 10)
	out = append(out, " zero "...)
	out = strconv.AppendUint(out, nZero, 10)
	out = append(out, '\n')
	syscall.Write(1, out)
	syscall.Exit(0)
}
