package jj

import (
	"os"
	"testing"

	"github.com/jjflow/jj/capture"
)

// TestMain runs the package's tests with every input read by the workers
// asked for, however small (inlineBelow 0): the tests' captures are
// small, and the pipeline of several workers is what many of them check.
// TestSmallInputsRunInline checks the threshold itself. Capture files are
// mapped whatever the host (capture.MapAlways): many tests check the
// mapped path (split reading, the pager, a file that shrinks), which a
// host whose mapped pages are dear would have them miss.
func TestMain(m *testing.M) {
	inlineBelow = 0
	capture.MapAlways = true
	os.Exit(m.Run())
}
