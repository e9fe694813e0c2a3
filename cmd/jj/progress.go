package main

import (
	"io"

	"github.com/jjflow/jj"
)

// progressBar shows the run's progress on standard error.
type progressBar struct {
	w io.Writer
}

// newProgress returns a progress bar when the flags and the terminal ask
// for one, or nil.
func newProgress(f *extractFlags, stderr io.Writer) *progressBar {
	if !f.progress || f.noProgress || f.quiet {
		return nil
	}
	return &progressBar{w: stderr}
}

func (b *progressBar) update(jj.Progress) {}

func (b *progressBar) finish() {}
