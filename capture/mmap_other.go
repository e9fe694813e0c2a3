//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package capture

import "os"

func mapFile(*os.File, int64) []byte { return nil }

func unmapFile([]byte) {}

func releaseMapped([]byte) {}
