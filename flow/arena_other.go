//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package flow

func mapAnon(int) []byte { return nil }

func unmapAnon([]byte) {}
