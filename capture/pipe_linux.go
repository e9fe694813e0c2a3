package capture

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeSize is the kernel buffer asked for a pipe that jj reads, where the
// default is 64 KiB: the writer then fills it sixteen times less often, and
// each side wakes the other less. 1 MiB is the most an unprivileged process
// may ask for by default (/proc/sys/fs/pipe-max-size). The 2.5 M-packet
// real-traffic tile piped from cat, flow_meta, seven interleaved rounds
// (fastest / median): one worker 0.94 / 0.98 s before, 0.89 / 0.93 s
// after; two workers 0.91 / 0.96 s before, 0.83 / 0.88 s after
// (bench/RESULTS.md, session 17).
const pipeSize = 1 << 20

// growPipe enlarges the kernel buffer of f to pipeSize when it is a pipe
// with a smaller one. A refusal (a user over their pipe allowance,
// /proc/sys/fs/pipe-user-pages-soft, or more than pipeSize bytes already
// in the pipe) leaves the buffer as it was.
func growPipe(f *os.File) {
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	// Through SyscallConn: Fd would put the file in blocking mode.
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		// F_SETPIPE_SZ sets the size, and would shrink a bigger buffer.
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < pipeSize {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
		}
	})
}
