package main

import (
	"strings"
	"testing"
)

// TestWholeFlag checks that the int flags take a whole number however it
// is written, as a config file does, and say what is wrong with the rest.
func TestWholeFlag(t *testing.T) {
	for in, want := range map[string]int{"2": 2, "2.0": 2, "2e3": 2000, "-1": -1, "0.0": 0, "1_0": 10} {
		var n int
		if err := (wholeFlag{&n}).Set(in); err != nil || n != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, n, err, want)
		}
	}
	for in, want := range map[string]string{"1.5": "not a whole number", "2.0000000000000001": "not a whole number",
		"two": "want a whole number", "": "want a whole number", "4/2": "want a whole number", "0x2": "want a whole number",
		"1e30": "out of range", "1e100000000": "out of range"} {
		n := 7
		if err := (wholeFlag{&n}).Set(in); err == nil || err.Error() != want || n != 7 {
			t.Errorf("Set(%q): %d, %v; want %q and the value unchanged", in, n, err, want)
		}
	}
	code, _, errs := runJJ(t, nil, "extract", sample, "-q", "-w", "2.0", "--max-flows", "1e3", "-o", t.TempDir()+"/f.csv")
	if code != 0 {
		t.Errorf("-w 2.0 --max-flows 1e3: exit %d: %s", code, errs)
	}
	code, _, errs = runJJ(t, nil, "extract", sample, "--max-sequence-length", "1.5")
	if code != exitUsage || !strings.Contains(errs, `invalid argument "1.5" for "--max-sequence-length" flag: not a whole number`) {
		t.Errorf("--max-sequence-length 1.5: exit %d, stderr %q", code, errs)
	}
}
