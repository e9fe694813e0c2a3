// Command hostspeed prints how fast the machine is at this moment, in the
// figures that decide jj's speed on a virtual machine whose host is
// shared: a core's arithmetic; a random read from working sets of an
// eighth and a half of the last-level cache, which fit it when the
// machine has it to itself, and from 256 MiB of memory, which fits no
// cache; and the first write to a fresh page; and whether the host takes
// back the guest's free memory (free page reporting), which makes memory
// freed a few seconds before dear to take again; and what an idle CPU
// does (halt at once, or poll first), which sets what a wake costs.
// bench/run.sh prints it beside its figures, so that a table from a slow
// spell can be told from a slower jj.
//
// On this project's host (bench/RESULTS.md, session 35) the cache figures
// move most: a read in 4 MiB took 29 ns at one moment and 130-160 ns at
// most others, when other tenants of the host held all but about 2 MiB of
// its 32 MiB cache, and jj's flow table, which fits that cache, then reads
// memory instead. A fresh page costs 2-12 µs there, where bare metal takes
// a quarter of one.
//
//	go run ./bench/hostspeed              # 3 samples of each
//	go run ./bench/hostspeed -samples 5
//	go run ./bench/hostspeed -file capture.pcap
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	samples := flag.Int("samples", 3, "how many times to measure each figure")
	file := flag.String("file", "", "also time the first read of a mapped page of this file, in its page cache as it stands")
	flag.Parse()
	if *samples < 1 {
		fmt.Fprintln(os.Stderr, "hostspeed: -samples must be at least 1")
		os.Exit(2)
	}
	cache := lastLevelCache()
	sizes := []int{cache / 8, cache / 2, farSize}
	chains := make([]*chain, len(sizes))
	for i, size := range sizes {
		chains[i] = newChain(size, uint64(i+1))
		chains[i].walk(500_000) // its lines into the caches they fit
	}
	var alu, fault []float64
	reads := make([][]float64, len(sizes))
	for range *samples {
		alu = append(alu, arithmetic(50_000_000))
		for i, c := range chains {
			reads[i] = append(reads[i], c.walk(1_000_000))
		}
		us, err := freshPages(64 << 20)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hostspeed:", err)
			os.Exit(1)
		}
		fault = append(fault, us)
	}
	line := summary(alu, sizes, reads, fault)
	if *file != "" {
		populate, read, err := mappedFigures(*file, *samples)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hostspeed:", err)
			os.Exit(1)
		}
		line += mappedSummary(populate, read)
	}
	if freePageReporting("/sys") {
		line += reportingSummary
	}
	line += idleSummary("/sys")
	fmt.Println(line)
}

// mappedWindow is how much of the file each sample maps: a window of jj's
// pager (capture.populateEvery).
const mappedWindow = 16 << 20

// mappedAlign is where windows start: a huge page's boundary, so that a
// file cached in 2 MiB folios maps as jj's mapping of it does.
const mappedAlign = 2 << 20

// mappedFigures times samples windows of path spread over the file, each
// in a mapping of its own (mappedPages). In a file of less than 16 MiB a
// sample, windows overlap, and a later one times pages read just before.
func mappedFigures(path string, samples int) (populate, read []float64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	page := int64(os.Getpagesize())
	for s := range samples {
		off := int64(s) * (fi.Size() / int64(samples)) / mappedAlign * mappedAlign
		size := min(mappedWindow, fi.Size()-off) / page * page
		if size <= 0 {
			return nil, nil, fmt.Errorf("%s: smaller than a page", path)
		}
		p, r, err := mappedPages(path, off, size)
		if err != nil {
			return nil, nil, err
		}
		populate, read = append(populate, p), append(read, r)
	}
	return populate, read, nil
}

// mappedSummary is what -file adds to the line.
func mappedSummary(populate, read []float64) string {
	return fmt.Sprintf("; a page of the file mapped %s ns, then first read %s ns", spread(populate, "%.0f"), spread(read, "%.0f"))
}

// farSize is the working set of the memory figure: far beyond any cache.
const farSize = 256 << 20

// summary is the line hostspeed prints: each figure's median over the
// samples, with its range; reads[i] are the samples of a random read in
// sizes[i] bytes.
func summary(alu []float64, sizes []int, reads [][]float64, fault []float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "host: arithmetic %s ns/op; random read", spread(alu, "%.3f"))
	for i, size := range sizes {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s in %s %s ns", sep, mib(size), spread(reads[i], "%.0f"))
	}
	fmt.Fprintf(&b, "; fresh page %s µs", spread(fault, "%.1f"))
	return b.String()
}

// mib formats a size in MiB, "4 MiB" or "0.5 MiB".
func mib(size int) string {
	return strconv.FormatFloat(float64(size)/(1<<20), 'f', -1, 64) + " MiB"
}

// spread formats the median of xs, and its range when there is one:
// "35 (30-90)".
func spread(xs []float64, verb string) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if len(s) == 1 {
		return fmt.Sprintf(verb, med)
	}
	return fmt.Sprintf(verb+" ("+verb+"-"+verb+")", med, s[0], s[len(s)-1])
}
