//go:build amd64 || arm64 || 386 || ppc64le || s390x

package output

// unalignedOK reports whether a load or store of a word at any address is
// safe and cheap, as on these processors: copyText reads and writes text
// a word at a time at any byte offset.
const unalignedOK = true
