// Command gobudget is the workload of rtmon malloc --budget's Go tests (tests/integration/
// test_budget.py): allocations whose true count and mean size the program knows, with the collector
// on (its background workers run unprobed while the allocating goroutines take the traps).
//
//	gobudget steady N     2 goroutines x N allocations of 16..4096 B (fixed-seed xorshift)
//	gobudget phased R     R rounds of: 4000000 x 64 B, idle 150 ms, 40000 x 16 KiB + 2000 x 64 KiB,
//	                      idle 150 ms (the phases last longer than --budget's cycles)
//
// After a line (or EOF) on stdin it works, then prints one line:
//
//	mallocs M count C bytes B
//
// M = the rise of MemStats.Mallocs over the work (the runtime's own count, its own allocations
// included), C and B the allocations the program made and the bytes it asked for.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

const ring = 64

var rings [2][ring][]byte

//go:noinline
func steady(id, iters int, wg *sync.WaitGroup) uint64 {
	defer wg.Done()
	var bytes uint64
	x := uint64(0x9e3779b97f4a7c15) ^ uint64(id+1)
	for i := 0; i < iters; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		n := 16 + int(x%(4096-16+1))
		p := make([]byte, n)
		p[0] = byte(i)
		rings[id][i%ring] = p
		bytes += uint64(n)
	}
	return bytes
}

//go:noinline
func burst(n, size int) {
	for i := 0; i < n; i++ {
		p := make([]byte, size)
		p[0] = byte(i)
		rings[0][i%ring] = p
	}
}

func main() {
	mode, n := "steady", 200000
	if len(os.Args) > 2 {
		mode = os.Args[1]
		n, _ = strconv.Atoi(os.Args[2])
	}
	var before, after runtime.MemStats
	var count, bytes uint64
	bufio.NewReader(os.Stdin).ReadString('\n')
	runtime.ReadMemStats(&before)
	switch mode {
	case "steady":
		var wg sync.WaitGroup
		var b [2]uint64
		for id := 0; id < 2; id++ {
			wg.Add(1)
			go func(id int) { b[id] = steady(id, n, &wg) }(id)
		}
		wg.Wait()
		count, bytes = uint64(2*n), b[0]+b[1]
	case "phased":
		for r := 0; r < n; r++ {
			burst(4000000, 64)
			time.Sleep(150 * time.Millisecond)
			burst(40000, 16384)
			burst(2000, 65536)
			time.Sleep(150 * time.Millisecond)
			count += 4000000 + 40000 + 2000
			bytes += 4000000*64 + 40000*16384 + 2000*65536
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: gobudget steady|phased N")
		os.Exit(2)
	}
	runtime.ReadMemStats(&after)
	fmt.Printf("mallocs %d count %d bytes %d\n", after.Mallocs-before.Mallocs, count, bytes)
}
