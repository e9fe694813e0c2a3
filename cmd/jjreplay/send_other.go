//go:build !linux

package main

import (
	"errors"
	"net"
	"time"
)

func send(*net.Interface, [][]byte, time.Duration, float64) (stats, error) {
	return stats{}, errors.New("sending needs Linux (AF_PACKET)")
}
