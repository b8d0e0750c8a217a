// A known Go allocation pattern for rtmon malloc's tests (tests/integration/test_malloc_go.py):
// after a line (or EOF) on stdin, rounds x {1000 x 5000 B, 300 x 40000 B, 700 x 3000 B} heap
// allocations through mallocgc, kept alive in a global sink so escape analysis cannot move them to the
// stack. Sizes fall in classes the runtime itself rarely uses while the program runs: 5000 B -> class
// 5376, 3000 B -> class 3072, 40000 B -> large (> 32 KiB). Printing happens only after the work
// (fmt.Println allocates its printer state, about 200 B: keep the pattern away from that class).
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
)

var sink [][]byte

//go:noinline
func alloc(n, size int) {
	for i := 0; i < n; i++ {
		sink = append(sink, make([]byte, size))
	}
}

func main() {
	debug.SetGCPercent(-1) // no collections, no collector allocations during the pattern
	rounds := 1
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	sink = make([][]byte, 0, rounds*2000) // the sink's backing array, allocated before the gate
	bufio.NewReader(os.Stdin).ReadString('\n')
	for r := 0; r < rounds; r++ {
		alloc(1000, 5000)
		alloc(300, 40000)
		alloc(700, 3000)
	}
	fmt.Println("done", len(sink))
}
