package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/jjflow/jj/output"
)

// outputSink is where the rows of `jj extract` go.
type outputSink struct {
	w     output.Writer
	close func() error // flushes and closes what openOutput opened
}

// openOutput opens the destination named by the flags: standard output or
// a file, in the given format.
func openOutput(f *extractFlags, format string, schema []output.Column, stdout io.Writer) (*outputSink, error) {
	var dst io.Writer = stdout
	var file *os.File
	if f.out != "" && f.out != "-" {
		var err error
		if file, err = os.Create(f.out); err != nil {
			return nil, fmt.Errorf("create output: %w", err)
		}
		dst = file
	}
	bw := bufio.NewWriterSize(dst, 1<<20)
	w, err := output.NewWriter(format, bw, schema)
	if err != nil {
		return nil, &usageError{err}
	}
	return &outputSink{w: w, close: func() error {
		err := bw.Flush()
		if file != nil {
			if cerr := file.Close(); err == nil {
				err = cerr
			}
		}
		return err
	}}, nil
}
