package jj

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jjflow/jj/gen"
)

// TestFlood runs a SYN flood, one flow per packet from distinct sources,
// mixed with ordinary traffic, with MaxConcurrentFlows at 100 000: every
// flow must be written exactly once, the table must never hold more than
// the bound, and the heap must stay bounded. It logs the peak heap.
func TestFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the flood")
	}
	const packets, flood, bound = 400_000, 360_000, 100_000
	cfg := gen.DefaultConfig()
	cfg.Packets, cfg.SYNFlood = packets, flood
	// Few ordinary flows at once, so that none stays quiet for 100 000
	// packets: --max-flows would then rightly write it early and its next
	// packet would start a second flow.
	cfg.ConcurrentFlows = 50
	path := filepath.Join(t.TempDir(), "flood.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	st, err := gen.Write(w, cfg, gen.FormatPcapNano)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}

	jcfg := DefaultConfig()
	jcfg.MaxConcurrentFlows = bound
	p := NewPipeline(jcfg)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	var mu sync.Mutex
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapAlloc)
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	start := time.Now()
	var rows, inFlows uint64
	sum, err := p.Stream(func(r Row) error {
		rows++
		inFlows += uint64(r.Get("total_packets").(int64))
		return nil
	}, path)
	close(stop)
	wg.Wait()
	sample()
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)

	if rows != uint64(st.Flows) || sum.Flows != rows {
		t.Errorf("%d rows (summary %d), gen made %d flows", rows, sum.Flows, st.Flows)
	}
	// Every packet is in exactly one row: with as many rows as flows, no
	// flow was split and none was written twice.
	if inFlows != uint64(st.Packets) || sum.Used != uint64(st.Packets) {
		t.Errorf("rows hold %d packets, %d used, gen wrote %d", inFlows, sum.Used, st.Packets)
	}
	if sum.MaxConcurrent > bound {
		t.Errorf("%d flows open at once, above the bound %d", sum.MaxConcurrent, bound)
	}
	if sum.Evicted < uint64(st.Flows)-bound {
		t.Errorf("%d flows written early, want at least %d", sum.Evicted, uint64(st.Flows)-bound)
	}
	heap := peak - min(peak, base.HeapAlloc)
	t.Logf("%d packets, %d flows (%d flood), %d written early; peak heap %.1f MiB above the %.1f MiB before the run (%.0f bytes per open flow); %v",
		st.Packets, st.Flows, st.FloodFlows, sum.Evicted, float64(heap)/(1<<20), float64(base.HeapAlloc)/(1<<20), float64(heap)/bound, elapsed.Round(time.Millisecond))
	// A bounded table: far below what one entry per flow of the capture
	// would take at the same cost per flow.
	if limit := uint64(512 << 20); heap > limit {
		t.Errorf("peak heap %d MiB above %d MiB", heap>>20, limit>>20)
	}
}
