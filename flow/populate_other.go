//go:build darwin || freebsd || netbsd || openbsd

package flow

const mapPopulate = 0

// mapHuge does nothing where jj asks for no huge pages.
func mapHuge([]byte) {}
