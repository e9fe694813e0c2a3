//go:build darwin || freebsd || netbsd || openbsd

package flow

const mapPopulate = 0
