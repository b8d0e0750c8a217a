// Command gcheap runs garbage collections triggered by its heap alone (no runtime.GC()), before
// and after a gate, for rtmon gc's cycle numbers under -p (tests/integration/test_gc.py): run with
// GODEBUG=gctrace=1, the runtime prints "gc N @..." on stderr as each cycle ends, and rtmon must
// give each cycle the same N, also for the cycles that ran before it attached.
//
//	gcheap [BEFORE [AFTER [PAUSE_MS [LIVE_MB]]]]
//
// It allocates garbage until BEFORE cycles (default 5) have completed, prints "ready <pid>" on
// stdout, waits for a line (or EOF) on stdin, prints "go" on stderr, allocates until AFTER more
// (default 5) have completed, prints "done cycles=N" and exits 0. With PAUSE_MS it sleeps that
// long after every 4 MiB allocated (a program paced by sleeps: the sweep ends while it sleeps). With
// LIVE_MB it keeps up to that many MiB alive, a quarter more each cycle and back (1/4, 2/4, 3/4, 4/4,
// 1/4, ...): heap figures that differ from cycle to cycle in whole MB, for rtmon gc's heap before,
// after and goal against gctrace's "A->B->C MB, D MB goal". Cycles are counted with
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
	live  [][]byte // LIVE_MB's blocks, a ring; nil without it
)

func cycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// churn allocates 64 KiB blocks, keeping only the last (and with LIVE_MB the ring's), until the
// runtime has completed n cycles.
func churn(n uint64) {
	next := 0
	for c := cycles(); c < n; c = cycles() {
		keep := len(live) * int(c%4+1) / 4
		for i := keep; i < len(live); i++ {
			live[i] = nil
		}
		for i := 0; i < 64; i++ {
			sink = make([]byte, 64<<10)
			if keep > 0 {
				live[next%keep] = sink
				next++
			}
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
	if len(os.Args) > 4 {
		mb, _ := strconv.Atoi(os.Args[4])
		live = make([][]byte, mb*16)
	}
	debug.SetGCPercent(10)
	churn(before)
	fmt.Printf("ready %d\n", os.Getpid())
	bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Fprintln(os.Stderr, "go")
	churn(cycles() + after)
	fmt.Printf("done cycles=%d\n", cycles())
}
