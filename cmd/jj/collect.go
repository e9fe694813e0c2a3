package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// firstGCPercent is the collector's GOGC until its first cycle: its
// first goal is then 16 MiB of heap (4 MiB times 400/100), not 4 MiB.
const firstGCPercent = 400

// collectLater holds the garbage collector's first cycle off until the
// heap reaches 16 MiB, and then gives it back its default (GOGC 100). A
// short run otherwise collects two or three times, each cycle's mark
// worker holding one of the cores for 1.8-2.4 ms, while jj's live heap
// stays at a few MiB (its tables and buffers are mostly mapped outside
// it). On the 218 k-packet capture it took 10 % off the median time with
// two workers and 6 % with one, 2 % on a directory of 680 small
// captures, and on the 5 M-packet captures it was level
// (bench/RESULTS.md, session 74). After the first cycle the heap grows
// as it would, so the most it adds is 12 MiB once. A user's GOGC or
// GOMEMLIMIT is left to rule alone.
func collectLater() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(firstGCPercent)
	// An object nothing refers to: the first cycle finds it unreachable,
	// and its cleanup (on the runtime's cleanup goroutine) restores the
	// default. It holds a pointer, so that the tiny allocator, which
	// packs small pointer-free objects together, does not keep it alive
	// with a neighbour.
	type sentinel struct{ _ *byte }
	runtime.AddCleanup(new(sentinel), func(int) { debug.SetGCPercent(100) }, 0)
}
