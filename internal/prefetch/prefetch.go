// Package prefetch asks the CPU to start loading cache lines that the
// caller will need soon, without waiting for them: the per-flow state of a
// packet a few packets ahead in a batch (Line), or the capture bytes a few
// pages ahead of the record walk (Range), so that their cache misses
// overlap the work in between. A load would do the same only as far as the
// CPU can look ahead past instructions that wait for it; a prefetch does
// not hold up the instructions after it, and never faults. The
// instructions are a few lines of Go assembly for amd64 and arm64.
package prefetch
