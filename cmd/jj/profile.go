package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// startProfiles starts the recordings the hidden flags of extract and
// live ask for (--cpuprofile, --trace, --memprofile); stop ends them, in
// the reverse order.
func startProfiles(f *extractFlags) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	for _, r := range []struct {
		path  string
		start func(string) (func(), error)
	}{{f.cpuProfile, startCPUProfile}, {f.trace, startTrace}, {f.memProfile, startMemProfile}} {
		if r.path == "" {
			continue
		}
		s, err := r.start(r.path)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, s)
	}
	return stop, nil
}

// startCPUProfile writes a CPU profile of the run to path (the hidden
// --cpuprofile flag, for `go tool pprof`); stop ends and closes it.
func startCPUProfile(path string) (stop func(), err error) {
	return startRecording("cpu profile", path, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// startTrace writes a runtime trace of the run to path (the hidden --trace
// flag, for `go tool trace` or bench/tracestat); stop ends and closes it.
func startTrace(path string) (stop func(), err error) {
	return startRecording("trace", path, trace.Start, trace.Stop)
}

// startMemProfile writes a pprof profile of the run's memory allocations
// to path when the run ends (the hidden --memprofile flag, for `go tool
// pprof -sample_index=alloc_space`); stop writes and closes it.
func startMemProfile(path string) (stop func(), err error) {
	var out io.Writer
	return startRecording("memory profile", path,
		func(w io.Writer) error { out = w; return nil },
		func() {
			runtime.GC() // the profile counts what the last collection saw
			_ = pprof.Lookup("allocs").WriteTo(out, 0)
		})
}

// startRecording creates path and has start record the run into it; stop
// ends the recording and closes the file.
func startRecording(what, path string, start func(io.Writer) error, end func()) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return func() {
		end()
		f.Close()
	}, nil
}
