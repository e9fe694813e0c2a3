package jj

import (
	"os"
	"testing"
)

// TestMain runs the package's tests with every input read by the workers
// asked for, however small (inlineBelow 0): the tests' captures are
// small, and the pipeline of several workers is what many of them check.
// TestSmallInputsRunInline checks the threshold itself.
func TestMain(m *testing.M) {
	inlineBelow = 0
	os.Exit(m.Run())
}
