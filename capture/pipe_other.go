//go:build !linux

package capture

import "os"

// growPipe does nothing: only Linux lets a process size a pipe's buffer.
func growPipe(*os.File) {}
