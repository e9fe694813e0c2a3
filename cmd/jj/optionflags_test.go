package main

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/jjflow/jj"
)

// TestKeyFlags checks that keyFlags names a flag of jj extract for every
// key of the config file, and no other key.
func TestKeyFlags(t *testing.T) {
	extract, _, err := newRootCmd(nil, io.Discard, io.Discard).Find([]string{"extract"})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	ct := reflect.TypeFor[jj.Config]()
	for i := range ct.NumField() {
		key, _, _ := strings.Cut(ct.Field(i).Tag.Get("yaml"), ",")
		keys[key] = true
		flag, ok := keyFlags[key]
		if !ok {
			t.Errorf("config key %s: no flag in keyFlags", key)
			continue
		}
		if extract.Flags().Lookup(strings.TrimPrefix(flag, "--")) == nil {
			t.Errorf("config key %s: jj extract has no flag %s", key, flag)
		}
	}
	for key := range keyFlags {
		if !keys[key] {
			t.Errorf("keyFlags has %s, which is no config key", key)
		}
	}
	code, _, errs := runJJ(t, nil, "extract", sample, "--timeout", "-1")
	if code != exitUsage || !strings.Contains(errs, "jj: option flow_timeout (--timeout): invalid value -1 (want ") {
		t.Errorf("--timeout -1: exit %d, stderr %q", code, errs)
	}
}
