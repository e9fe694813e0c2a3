//go:build !(amd64 || arm64 || 386 || ppc64le || s390x)

package output

// unalignedOK is false where a word loaded or stored at an address that is
// not a multiple of its size may fault or trap: copyText then appends.
const unalignedOK = false
