// Command gochurn churns goroutines for rtmon serve's load test.
//
//	gochurn
//
// It turns the GC pacer off and calls runtime.GC() once, so that the
// runtime's own goroutines exist before it prints "ready <pid>". After a
// line on stdin it starts goroutines in batches of 50 that return at once,
// waiting for each batch and pausing 1 ms between batches (some 10,000 to
// 50,000 goroutines a second, without taking a whole CPU), until a second
// line arrives. Then it prints "created N" (its own count) and exits 0 at
// the end of stdin.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

func worker(wg *sync.WaitGroup) {
	wg.Done()
}

func main() {
	debug.SetGCPercent(-1)
	runtime.GC()
	in := bufio.NewReader(os.Stdin)
	fmt.Printf("ready %d\n", os.Getpid())
	in.ReadString('\n')

	var stop int32
	done := make(chan struct{})
	go func() {
		in.ReadString('\n')
		atomic.StoreInt32(&stop, 1)
		close(done)
	}()
	created := 1 // the goroutine above
	var wg sync.WaitGroup
	for atomic.LoadInt32(&stop) == 0 {
		wg.Add(50)
		for i := 0; i < 50; i++ {
			go worker(&wg)
		}
		created += 50
		wg.Wait()
		time.Sleep(time.Millisecond)
	}
	<-done
	fmt.Printf("created %d\n", created)
	in.ReadString('\n')
}
