package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// gcPercent reads the collector's GOGC without setting it.
func gcPercent() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// unsetenv unsets key for the test, and sets it back after.
func unsetenv(t *testing.T, key string) {
	if v, ok := os.LookupEnv(key); ok {
		t.Cleanup(func() { os.Setenv(key, v) })
	}
	os.Unsetenv(key)
}

func TestCollectLater(t *testing.T) {
	unsetenv(t, "GOGC")
	unsetenv(t, "GOMEMLIMIT")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	collectLater()
	if got := gcPercent(); got != firstGCPercent {
		t.Fatalf("GOGC %d until the first cycle, want %d", got, firstGCPercent)
	}
	// The first cycle gives the default back, from the runtime's cleanup
	// goroutine, a moment after it.
	for deadline := time.Now().Add(10 * time.Second); gcPercent() != 100; {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d after collections, want 100", gcPercent())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

func TestCollectLaterLeavesTheUsersSetting(t *testing.T) {
	for key, value := range map[string]string{"GOGC": "300", "GOMEMLIMIT": "300MiB"} {
		t.Run(key, func(t *testing.T) {
			unsetenv(t, "GOGC")
			unsetenv(t, "GOMEMLIMIT")
			t.Setenv(key, value)
			defer debug.SetGCPercent(debug.SetGCPercent(150))
			collectLater()
			if got := gcPercent(); got != 150 {
				t.Fatalf("GOGC %d with %s set, want it left at 150", got, key)
			}
		})
	}
}
