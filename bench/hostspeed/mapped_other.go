//go:build !linux

package main

import "errors"

// mappedPages is implemented for Linux only.
func mappedPages(path string, off, size int64) (populate, read float64, err error) {
	return 0, 0, errors.New("the mapped-page figure is implemented for Linux only")
}
