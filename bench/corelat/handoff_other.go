//go:build !linux

package main

import "errors"

// handoff needs threads held to CPUs, which corelat does on Linux only.
func handoff(a, b, n int) (float64, error) {
	return 0, errors.New("holding threads to CPUs is implemented for Linux only")
}

// wake needs threads held to CPUs too.
func wake(a, b, n int) (float64, error) {
	return handoff(a, b, n)
}
