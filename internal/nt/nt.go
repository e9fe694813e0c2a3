// Package nt copies memory with non-temporal stores: stores that go to
// memory without first taking the cache line from wherever it is cached.
// A packet batch that the reading goroutine fills comes back from a worker
// that read it on another core; an ordinary store to one of its lines
// first waits for the line to leave that core's cache, which, when the two
// cores share no cache, cost two workers a fifth of their CPU time
// (bench/RESULTS.md, session 40). Written with non-temporal stores, the
// line goes to memory whole and the worker reads it from there
// (flow.Stage).
package nt
