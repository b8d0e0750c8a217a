// Command gostack is the fixture for rtmon stack, memstats and stats: a Go program whose own
// runtime reports are the ground truth.
//
//	gostack OUTDIR [EXTRA]
//
// It starts goroutines that park in known places (a channel receive a few calls deep, a select,
// a sync.Mutex, a sync.WaitGroup, a long time.Sleep, a pipe read in the netpoller, an empty
// select), EXTRA more (default 0) parked on one channel, and one goroutine that never parks: it
// increments a counter in a loop. Once every goroutine but that one is parked, it writes
// OUTDIR/stack.txt (runtime.Stack(buf, true)), OUTDIR/memstats.json (runtime.ReadMemStats) and
// OUTDIR/numgoroutine.txt (runtime.NumGoroutine()), prints "ready PID COUNTER_ADDR" (the
// counter's address, so that a test can watch it through /proc/PID/mem) and parks for good. It
// allocates nothing after the reports, so they stay true while it waits. Standard library only;
// builds with Go 1.17 and later.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

var (
	counter uint64
	never   = make(chan int)
	mu      sync.Mutex
	wg      sync.WaitGroup
	sink    [][]byte
	pipeW   *os.File
)

//go:noinline
func spin() {
	for {
		atomic.AddUint64(&counter, 1)
	}
}

//go:noinline
func deep(n int) int {
	if n == 0 {
		return <-never
	}
	return deep(n-1) + 1
}

//go:noinline
func selecter(c chan int) {
	select {
	case <-c:
	case <-never:
	}
}

//go:noinline
func locker() {
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func waiter() { wg.Wait() }

//go:noinline
func sleeper() { time.Sleep(24 * time.Hour) }

// inlined into its caller: the traceback shows it as an inlined frame.
func readOne(r *os.File) {
	var b [1]byte
	r.Read(b[:])
}

//go:noinline
func piper(r *os.File) { readOne(r) }

//go:noinline
func forever() { select {} }

//go:noinline
func parked() { <-never }

// settled: every goroutine but the caller and the spinner is waiting.
func settled(dump []byte) bool {
	n := 0
	for _, h := range strings.Split(string(dump), "\n\n") {
		if strings.Contains(h, "[running") || strings.Contains(h, "[runnable") {
			n++
		}
	}
	return n <= 2
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gostack OUTDIR [EXTRA]")
		os.Exit(2)
	}
	extra := 0
	if len(os.Args) > 2 {
		fmt.Sscan(os.Args[2], &extra)
	}
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	pipeW = w // kept: a collected writer would close the pipe and end the read
	mu.Lock()
	wg.Add(1)
	for i := 0; i < 64; i++ { // a little garbage, so the heap figures are not all zero
		sink = append(sink, make([]byte, 4096*(i%8+1)))
	}
	runtime.GC()
	go spin()
	go deep(5)
	go selecter(make(chan int))
	go locker()
	go waiter()
	go sleeper()
	go piper(r)
	go forever()
	for i := 0; i < extra; i++ {
		go parked()
	}
	buf := make([]byte, 1<<20+extra*512)
	var dump []byte
	for {
		dump = buf[:runtime.Stack(buf, true)]
		if settled(dump) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	dir := os.Args[1]
	if err := os.WriteFile(dir+"/stack.txt", dump, 0o644); err != nil {
		panic(err)
	}
	ng := []byte(fmt.Sprintf("%d\n", runtime.NumGoroutine()))
	if err := os.WriteFile(dir+"/numgoroutine.txt", ng, 0o644); err != nil {
		panic(err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "ready %d %#x\n", os.Getpid(), uintptr(unsafe.Pointer(&counter)))
	f, err := os.Create(dir + "/memstats.json")
	if err != nil {
		panic(err)
	}
	// ReadMemStats is the last thing that counts: its figures are written into a buffer made
	// before, with no allocation, so that they stay true while the program parks.
	js := make([]byte, 0, 1<<16)
	// A cycle the big buffer started may still be marking (10,000 goroutine stacks take a
	// while): ReadMemStats would not count it, and it would end after. runtime.GC returns once
	// a cycle has ended and swept, and the goal it leaves is far above what follows.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	js = memstatsJSON(js, &ms)
	f.Write(js)
	os.Stdout.Write(out.Bytes())
	parked()
}

// memstatsJSON appends MemStats' scalar fields as a JSON object, allocating nothing.
func memstatsJSON(b []byte, ms *runtime.MemStats) []byte {
	u := func(name string, v uint64) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = strconv.AppendUint(b, v, 10)
	}
	b = append(b, '{')
	u("Alloc", ms.Alloc)
	u("TotalAlloc", ms.TotalAlloc)
	u("Sys", ms.Sys)
	u("Lookups", ms.Lookups)
	u("Mallocs", ms.Mallocs)
	u("Frees", ms.Frees)
	u("HeapAlloc", ms.HeapAlloc)
	u("HeapSys", ms.HeapSys)
	u("HeapIdle", ms.HeapIdle)
	u("HeapInuse", ms.HeapInuse)
	u("HeapReleased", ms.HeapReleased)
	u("HeapObjects", ms.HeapObjects)
	u("StackInuse", ms.StackInuse)
	u("StackSys", ms.StackSys)
	u("MSpanInuse", ms.MSpanInuse)
	u("MSpanSys", ms.MSpanSys)
	u("MCacheInuse", ms.MCacheInuse)
	u("MCacheSys", ms.MCacheSys)
	u("BuckHashSys", ms.BuckHashSys)
	u("GCSys", ms.GCSys)
	u("OtherSys", ms.OtherSys)
	u("NextGC", ms.NextGC)
	u("LastGC", ms.LastGC)
	u("PauseTotalNs", ms.PauseTotalNs)
	u("NumGC", uint64(ms.NumGC))
	u("NumForcedGC", uint64(ms.NumForcedGC))
	b = append(b, `,"GCCPUFraction":`...)
	b = strconv.AppendFloat(b, ms.GCCPUFraction, 'g', -1, 64)
	return append(b, '}', '\n')
}
