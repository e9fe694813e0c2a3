// Package prefetch asks the CPU to start loading a cache line that the
// caller will need soon, without waiting for it: the per-flow state of a
// packet a few packets ahead in a batch, so that its cache miss overlaps
// the work on the packets before it. A load would do the same only as far
// as the CPU can look ahead past instructions that wait for it; a prefetch
// does not hold up the instructions after it, and never faults.
package prefetch
