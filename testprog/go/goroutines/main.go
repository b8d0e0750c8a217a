// Command goroutines is a deterministic Go fixture for rtmon's Go support.
//
// It prints "ready <pid>" and then waits until it reads a line (or EOF) on
// stdin, or receives SIGUSR1. Then it does a fixed amount of work and exits 0:
//
//   - starts 10 goroutines whose start function is main.worker (each sleeps
//     about 5 ms) and 5 whose start function is main.shortWorker (each returns
//     at once); both take no arguments, so the goroutine start PC is the named
//     function itself, not a compiler-generated wrapper;
//   - main.allocate makes 8 heap allocations of each of the sizes in
//     allocSizes (kept alive in a global, so none is optimised away);
//   - calls runtime.GC() 3 times;
//   - prints "done workers=10 short=5 allocs=24 gcs=3";
//   - with an argument N, then runs N goroutines of main.burstWorker one after
//     another (each returns at once): a burst of 2N goroutine events, to
//     overflow a tracer's ring buffer on purpose. One goroutine of
//     main.burstHolder, started just before them, lives through the burst and
//     exits after it: a goroutine alive while N others are created and end.
//
// It uses only the standard library and builds with Go 1.17 and later.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	nWorkers      = 10
	nShortWorkers = 5
	allocsPerSize = 8
	nGC           = 3
)

// allocSizes are the sizes main.allocate asks for (bytes): a small, a
// medium and a large (> 32 KiB, so a direct span) allocation.
var allocSizes = []int{4096, 20000, 1 << 20}

var (
	wg        sync.WaitGroup
	ran       int32
	shortRan  int32
	sink      [][]byte
	sinkMutex sync.Mutex
)

//go:noinline
func worker() {
	defer wg.Done()
	time.Sleep(5 * time.Millisecond)
	atomic.AddInt32(&ran, 1)
}

//go:noinline
func shortWorker() {
	atomic.AddInt32(&shortRan, 1)
	wg.Done()
}

//go:noinline
func allocate(size int) []byte {
	b := make([]byte, size)
	b[size-1] = 1
	return b
}

//go:noinline
func burstWorker(wg *sync.WaitGroup) {
	wg.Done()
}

//go:noinline
func burstHolder(done chan struct{}, ended chan struct{}) {
	<-done
	close(ended)
}

func burst(n int) {
	var bwg sync.WaitGroup
	done, ended := make(chan struct{}), make(chan struct{})
	go burstHolder(done, ended)
	defer func() {
		close(done)
		<-ended
	}()
	for i := 0; i < n; i++ {
		bwg.Add(1)
		go burstWorker(&bwg)
		bwg.Wait()
	}
}

func waitForStart() {
	start := make(chan struct{}, 2)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		<-sig
		start <- struct{}{}
	}()
	go func() {
		// A line or EOF on stdin: EOF too, so a run with stdin closed or
		// /dev/null never hangs.
		bufio.NewReader(os.Stdin).ReadString('\n')
		start <- struct{}{}
	}()
	<-start
	signal.Stop(sig)
}

func main() {
	fmt.Printf("ready %d\n", os.Getpid())
	waitForStart()

	wg.Add(nWorkers + nShortWorkers)
	for i := 0; i < nWorkers; i++ {
		go worker()
	}
	for i := 0; i < nShortWorkers; i++ {
		go shortWorker()
	}
	wg.Wait()

	n := 0
	for _, size := range allocSizes {
		for i := 0; i < allocsPerSize; i++ {
			b := allocate(size)
			sinkMutex.Lock()
			sink = append(sink, b)
			sinkMutex.Unlock()
			n++
		}
	}

	for i := 0; i < nGC; i++ {
		runtime.GC()
	}

	if atomic.LoadInt32(&ran) != nWorkers || atomic.LoadInt32(&shortRan) != nShortWorkers || len(sink) != n {
		fmt.Println("error: work incomplete")
		os.Exit(1)
	}
	fmt.Printf("done workers=%d short=%d allocs=%d gcs=%d\n", ran, shortRan, n, nGC)
	if len(os.Args) > 1 {
		if b, err := strconv.Atoi(os.Args[1]); err == nil && b > 0 {
			burst(b)
		}
	}
}
