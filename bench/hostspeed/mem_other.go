//go:build !linux

package main

// words returns n zeroed uint64s.
func words(n int) []uint64 { return make([]uint64, n) }
