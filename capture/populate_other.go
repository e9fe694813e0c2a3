//go:build !linux

package capture

func populate([]byte) {}

func willNeed([]byte) {}
