// cpuburn burns CPU in burnA and burnB in a 3:1 ratio of fixed work, each reached as main.main ->
// level1 -> level2 -> level3 -> burnX, for rtmon profile's tests. Prints the iterations each burner
// ran: the truth the samples are compared with. Usage: cpuburn ROUNDS, after one line on stdin.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

const unit = 1000000

var itersA, itersB uint64

//go:noinline
func burnA(units uint64) uint64 {
	x := uint64(1)
	for i := uint64(0); i < units*unit; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	itersA += units * unit
	return x
}

//go:noinline
func burnB(units uint64) uint64 {
	x := uint64(3)
	for i := uint64(0); i < units*unit; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	itersB += units * unit
	return x
}

//go:noinline
func level3(which int) uint64 {
	if which != 0 {
		return burnB(1) ^ 1
	}
	return burnA(3)
}

//go:noinline
func level2(which int) uint64 { return level3(which) + 1 }

//go:noinline
func level1(which int) uint64 { return level2(which) + 1 }

func main() {
	rounds := uint64(1000)
	if len(os.Args) > 1 {
		rounds, _ = strconv.ParseUint(os.Args[1], 10, 64)
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
	var sink uint64
	for i := uint64(0); i < rounds; i++ {
		sink += level1(0)
		sink += level1(1)
	}
	fmt.Printf("burn_a %d burn_b %d sink %d\n", itersA, itersB, sink&1)
}
