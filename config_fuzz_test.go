package jj

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FuzzConfigValidate fuzzes a Config's values after parsing (not yaml.v3):
// Validate never panics, refuses only with an error wrapping ErrConfig,
// and a config it accepts runs the pipeline on the sample capture without
// panicking (filter and columns are checked when the run is planned, so an
// error there is fine as long as it is an ErrConfig one).
func FuzzConfigValidate(f *testing.F) {
	d := DefaultConfig()
	f.Add(d.FlowTimeout, d.ActiveTimeout, d.TCPCloseTimeout, d.MaxConcurrentFlows, d.BurstThresholdMs, d.MaxSequenceLength,
		d.AnonymizeMode, d.ConnectionScope, "flow_meta", "", "", 1, uint16(0b11|1<<6))
	f.Add(1e-12, 1e-12, 0.0, 1, 1e-300, 1, "prefix", "causal", "all,connection", "src_ip,dst_port", "tcp", 2, uint16(0xffff))
	f.Add(1e9, 1e9, 1e9, 0, 1e308, 65536, "hash", "capture", "timing,size,tcp", "", "port 53 or port 80", 3, uint16(0x0f0f))
	f.Add(math.SmallestNonzeroFloat64, 0.0, 0.0, math.MaxInt, 0.5, 50, "hash", "capture", "connection", "total_packets", "", 0, uint16(0x3ff))
	f.Fuzz(func(t *testing.T, flowTO, activeTO, closeTO float64, maxFlows int, burst float64, maxSeq int,
		anonMode, scope, features, columns, filterExpr string, workers int, bits uint16) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				fmt.Fprintf(os.Stderr, "HANG over 20s\n%s\n", buf[:n])
				os.Exit(3)
			}
		}()
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		cfg := Config{
			Features:               split(features),
			IncludeIPAddresses:     bits&1 != 0,
			IncludePorts:           bits&2 != 0,
			AnonymizeIPs:           bits&4 != 0,
			AnonymizationSalt:      "s",
			IncludeFlowID:          bits&8 != 0,
			FlowTimeout:            flowTO,
			ActiveTimeout:          activeTO,
			TCPCloseTimeout:        closeTO,
			MaxConcurrentFlows:     maxFlows,
			BurstThresholdMs:       burst,
			IncludeRawSequences:    bits&16 != 0,
			IncludeSPLT:            bits&32 != 0,
			MaxSequenceLength:      maxSeq,
			Decapsulate:            bits&64 != 0,
			AnonymizeMode:          anonMode,
			ConnectionScope:        scope,
			ConnectionUsePorts:     bits&128 != 0,
			ConnectionGraphMetrics: bits&256 != 0,
			ConnectionTemporal:     bits&512 != 0,
			Filter:                 filterExpr,
			Columns:                split(columns),
			Workers:                workers,
		}
		if err := cfg.Validate(); err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate: %v does not wrap ErrConfig", err)
			}
			_ = err.Error()
			return
		}
		if len(filterExpr) > 4096 {
			return
		}
		// Bound the run's cost: no more than 8 workers in a fuzz worker.
		if cfg.Workers > 8 {
			cfg.Workers = 8
		}
		tab, err := NewPipeline(cfg).Process("testdata/sample.pcap")
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Fatalf("Process with a valid config: %v", err)
		}
		if err == nil && (tab == nil || tab.Summary == nil) {
			t.Fatal("no table or summary")
		}
	})
}
