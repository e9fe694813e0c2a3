// Package prefetch asks the CPU to start loading cache lines that the
// caller will need soon, without waiting for them: the per-flow state of a
// packet a few packets ahead in a batch (Line, or Lines3 for three lines
// in one call), the first lines of the next capture record and every line
// a few KiB ahead of the record walk (Range), or the next slots of a
// packet batch that another core last had, to be written (Write3), so
// that their cache misses overlap the work in between. A load would do the
// same only as far as the CPU can look ahead past instructions that wait
// for it; a prefetch does not hold up the instructions after it, and never
// faults on its address. The instructions are a few lines of Go assembly
// for amd64 and arm64.
package prefetch

// Ahead is how many packets ahead of the one they work on the flow table
// and the extractors prefetch a packet's per-flow state (twice as far for
// a first step whose result the second needs, such as an index cell):
// far enough for a cache miss, about 100 ns, to complete over tens of ns
// of work a packet, near enough that the line is still in cache when its
// packet comes. 4, 16 and 32 measured no better.
const Ahead = 8
