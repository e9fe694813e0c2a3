//go:build !linux

package main

import "errors"

// freshPages is implemented for Linux only.
func freshPages(size int) (float64, error) {
	return 0, errors.New("the fresh-page figure is implemented for Linux only")
}
