// Command gcheap runs garbage collections triggered by its heap alone (no runtime.GC()), before
// and after a gate, for rtmon gc's cycle numbers under -p (tests/integration/test_gc.py): run with
// GODEBUG=gctrace=1, the runtime prints "gc N @..." on stderr as each cycle ends, and rtmon must
// give each cycle the same N, also for the cycles that ran before it attached.
//
//	gcheap [BEFORE [AFTER [PAUSE_MS]]]
//
// It allocates garbage until BEFORE cycles (default 5) have completed, prints "ready <pid>" on
// stdout, waits for a line (or EOF) on stdin, prints "go" on stderr, allocates until AFTER more
// (default 5) have completed, prints "done cycles=N" and exits 0. With PAUSE_MS it sleeps that
// long after every 4 MiB allocated (a program paced by sleeps: the sweep ends while it sleeps). Cycles are counted with
// runtime/metrics ("/gc/cycles/total:gc-cycles"), which stops no world. Standard library only;
// builds with Go 1.17 and later.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"
)

var (
	sink  []byte
	pause time.Duration
)

func cycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// churn allocates 64 KiB blocks, keeping only the last, until the runtime has completed n cycles.
func churn(n uint64) {
	for cycles() < n {
		for i := 0; i < 64; i++ {
			sink = make([]byte, 64<<10)
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
}

func main() {
	before, after := uint64(5), uint64(5)
	if len(os.Args) > 1 {
		before, _ = strconv.ParseUint(os.Args[1], 10, 64)
	}
	if len(os.Args) > 2 {
		after, _ = strconv.ParseUint(os.Args[2], 10, 64)
	}
	if len(os.Args) > 3 {
		ms, _ := strconv.Atoi(os.Args[3])
		pause = time.Duration(ms) * time.Millisecond
	}
	debug.SetGCPercent(10)
	churn(before)
	fmt.Printf("ready %d\n", os.Getpid())
	bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Fprintln(os.Stderr, "go")
	churn(cycles() + after)
	fmt.Printf("done cycles=%d\n", cycles())
}
