package main

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// arithmetic returns the nanoseconds of one operation of a loop of eight
// independent chains of multiply-adds: bound by the core's throughput, so
// that a neighbour on the same physical core (SMT) slows it, where a
// single chain would only show the clock.
func arithmetic(n int) float64 {
	const k = 6364136223846793005
	a, b, c, d, e, f, g, h := uint64(1), uint64(2), uint64(3), uint64(4), uint64(5), uint64(6), uint64(7), uint64(8)
	start := time.Now()
	for range n {
		a = a*k + 1
		b = b*k + 3
		c = c*k + 5
		d = d*k + 7
		e = e*k + 9
		f = f*k + 11
		g = g*k + 13
		h = h*k + 15
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(8*n)
	sink = a ^ b ^ c ^ d ^ e ^ f ^ g ^ h
	return ns
}

// sink keeps results the compiler would otherwise drop.
var sink uint64

// lineWords is a cache line in uint64 words.
const lineWords = 8

// chain is a working set of cache lines linked in one random cycle: each
// line's first word holds the index of the next, so that every read
// waits for the one before it.
type chain struct {
	words []uint64
	at    uint64
}

// newChain links size bytes of lines in one cycle (Sattolo's shuffle),
// from a fixed seed.
func newChain(size int, seed uint64) *chain {
	n := max(size/(8*lineWords), 2)
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	r := rand.New(rand.NewPCG(seed, 0))
	for i := n - 1; i > 0; i-- {
		j := r.IntN(i) // j < i: one cycle through every line
		order[i], order[j] = order[j], order[i]
	}
	c := &chain{words: words(n * lineWords)}
	for i := range n {
		c.words[uint64(order[i])*lineWords] = uint64(order[(i+1)%n]) * lineWords
	}
	return c
}

// walk follows n links and returns the nanoseconds of one.
func (c *chain) walk(n int) float64 {
	at := c.at
	start := time.Now()
	for range n {
		at = c.words[at]
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	c.at = at
	return ns
}

// lastLevelCache returns the size in bytes of CPU 0's largest cache, as
// Linux's sysfs gives it, or 32 MiB where it does not.
func lastLevelCache() int {
	largest := 0
	for i := range 8 {
		b, err := os.ReadFile("/sys/devices/system/cpu/cpu0/cache/index" + strconv.Itoa(i) + "/size")
		if err != nil {
			break
		}
		if n, ok := parseCacheSize(string(b)); ok && n > largest {
			largest = n
		}
	}
	if largest == 0 {
		return 32 << 20
	}
	return largest
}

// parseCacheSize reads sysfs's "32768K" or "2M" (a trailing newline
// allowed).
func parseCacheSize(s string) (int, bool) {
	s = strings.TrimSpace(s)
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n * mult, true
}
