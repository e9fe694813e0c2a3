//go:build linux

package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// line is a counter alone on its cache line (and the adjacent-line
// prefetcher's pair).
type line struct {
	_ [128]byte
	v atomic.Int64
	_ [128]byte
}

// handoff passes a counter between a thread on CPU a and one on CPU b n
// times each way and returns the nanoseconds of one handoff: each thread
// waits for the other's value, then stores the next.
func handoff(a, b, n int) (float64, error) {
	var l line
	var start time.Time
	err := onCPUs(a, b, func() {
		for i := int64(1); i < int64(2*n); i += 2 {
			for l.v.Load() != i {
			}
			l.v.Store(i + 1)
		}
	}, func() {
		start = time.Now()
		for i := int64(0); i < int64(2*n); i += 2 {
			for l.v.Load() != i {
			}
			l.v.Store(i + 1)
		}
		for l.v.Load() != int64(2*n) {
		}
	})
	if err != nil {
		return 0, err
	}
	return float64(time.Since(start).Nanoseconds()) / float64(2*n), nil
}

// wake passes a token between a goroutine held to CPU a and one held to
// CPU b n times each way over channels, each blocked while it waits, and
// returns the microseconds of one way: the Go runtime's wake of a thread
// parked on the other CPU, and that CPU's own wake where it was idle.
func wake(a, b, n int) (float64, error) {
	ping, pong := make(chan struct{}), make(chan struct{})
	var start time.Time
	err := onCPUs(a, b, func() {
		for range ping {
			pong <- struct{}{}
		}
	}, func() {
		start = time.Now()
		for range n {
			ping <- struct{}{}
			<-pong
		}
		close(ping)
	})
	if err != nil {
		return 0, err
	}
	return float64(time.Since(start).Nanoseconds()) / 1e3 / float64(2*n), nil
}

// onCPUs runs there on a thread held to CPU b and here on this one, held
// to CPU a, once both are held, and returns when here does. This thread
// is held first: if it cannot be, there never starts (a spinning loop
// would wait for ever).
func onCPUs(a, b int, there, here func()) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	unpin, err := pin(a)
	if err != nil {
		return err
	}
	defer unpin()
	errs := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		unpin, err := pin(b)
		errs <- err
		if err != nil {
			return
		}
		defer unpin()
		there()
	}()
	if err := <-errs; err != nil {
		return err
	}
	here()
	return nil
}

// pin holds the calling thread, locked to its goroutine, to one CPU, and
// returns what undoes it: the thread goes back to the CPUs it had, so
// that the goroutines Go runs on it next are not held to one.
func pin(cpu int) (unpin func(), err error) {
	var was, s unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		return nil, fmt.Errorf("read a thread's CPUs: %w", err)
	}
	s.Set(cpu)
	if err := unix.SchedSetaffinity(0, &s); err != nil {
		return nil, fmt.Errorf("hold a thread to CPU %d: %w", cpu, err)
	}
	return func() { unix.SchedSetaffinity(0, &was) }, nil
}
