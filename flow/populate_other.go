//go:build darwin || freebsd || netbsd || openbsd

package flow

// mapHuge does nothing where jj asks for no huge pages.
func mapHuge([]byte) {}
