package extract

import (
	"math"

	"github.com/jjflow/jj/output"
)

// Timing is the timing extractor (extractors.md, "timing"): inter-arrival
// time (IAT) statistics for the whole flow and per direction, bursts and
// idle periods, the first response time and, as options, the raw IAT and
// timestamp sequences and the SPLT (sequence of packet lengths and times).
//
// Per flow it reads each packet's timestamp and direction (and, for SPLT,
// IP length) from the packet log it shares with size (packetLog): medians
// and percentiles are exact, so the values must be kept, and the three IAT
// series (all, fwd, bwd) are derived from the timestamps only when the
// flow ends, into the log's scratch buffer.
//
// Decisions where the contract is silent:
//   - "flow start" (first_response_time, timestamp_sequence) is the
//     earliest timestamp of the flow, as flow_meta's start_time, so both are
//     never negative even when the first packet is not the earliest;
//   - a burst's duration is the timestamp of its last packet minus that of
//     its first (capture order), 0 if negative;
//   - splt_times are IATs, so a negative gap is 0 there too;
//   - a threshold of 0 or less (never passed by a validated Config) and a
//     max_sequence_length of 0 or less mean the defaults, 50 ms and 50.
type Timing struct {
	cols []output.Column
	thr  int64 // burst threshold in ns: an IAT < thr extends a burst
	seqL int   // max_sequence_length
	raw  bool  // include_raw_sequences
	splt bool  // include_splt

	logRole
	fbuf []float64 // one float sequence at Emit, length seqL
	ibuf []int64   // one int sequence at Emit, length seqL
}

var _ Extractor = (*Timing)(nil)

// Defaults of the timing and size options (extractors.md).
const (
	defaultBurstThresholdMs  = 50
	defaultMaxSequenceLength = 50
)

func tcol(name string, t output.Type, unit, dir, desc string) output.Column {
	return col("timing", name, t, unit, dir, desc)
}

// timingNumbers is how many of timingColumns hold numbers
// (TestColumnNumbers): a constant, for newColWriter.
const timingNumbers = 35

// timingColumns are the columns always present, in contract order.
var timingColumns = []output.Column{
	tcol("iat_min", output.Float, "s", "both", "smallest inter-arrival time (IAT) between consecutive packets in capture order; negative gaps count as 0; 0 with fewer than 2 packets"),
	tcol("iat_max", output.Float, "s", "both", "largest IAT"),
	tcol("iat_mean", output.Float, "s", "both", "mean IAT"),
	tcol("iat_std", output.Float, "s", "both", "population standard deviation of the IATs"),
	tcol("iat_median", output.Float, "s", "both", "median IAT (linear interpolation, as NumPy)"),
	tcol("iat_sum", output.Float, "s", "both", "sum of the IATs (last minus first packet time when timestamps are in order)"),
	tcol("iat_p25", output.Float, "s", "both", "25th percentile of the IATs, linear interpolation at rank (n-1)*p/100"),
	tcol("iat_p75", output.Float, "s", "both", "75th percentile of the IATs"),
	tcol("iat_p90", output.Float, "s", "both", "90th percentile of the IATs"),
	tcol("iat_p95", output.Float, "s", "both", "95th percentile of the IATs"),
	tcol("iat_p99", output.Float, "s", "both", "99th percentile of the IATs"),
	tcol("iat_skew", output.Float, "", "both", "skewness m3/m2^1.5 of the IATs (population central moments); 0 when they are all equal"),
	tcol("iat_kurtosis", output.Float, "", "both", "excess kurtosis m4/m2^2 - 3 of the IATs; 0 when they are all equal"),
	tcol("iat_cv", output.Float, "", "both", "coefficient of variation iat_std / iat_mean; 0 when the mean is 0 (same value as burstiness_index)"),
	tcol("iat_fwd_min", output.Float, "s", "fwd", "smallest IAT between consecutive initiator-to-responder packets"),
	tcol("iat_fwd_max", output.Float, "s", "fwd", "largest forward IAT"),
	tcol("iat_fwd_mean", output.Float, "s", "fwd", "mean forward IAT"),
	tcol("iat_fwd_std", output.Float, "s", "fwd", "population standard deviation of the forward IATs"),
	tcol("iat_fwd_median", output.Float, "s", "fwd", "median forward IAT"),
	tcol("iat_bwd_min", output.Float, "s", "bwd", "smallest IAT between consecutive responder-to-initiator packets"),
	tcol("iat_bwd_max", output.Float, "s", "bwd", "largest backward IAT"),
	tcol("iat_bwd_mean", output.Float, "s", "bwd", "mean backward IAT"),
	tcol("iat_bwd_std", output.Float, "s", "bwd", "population standard deviation of the backward IATs"),
	tcol("iat_bwd_median", output.Float, "s", "bwd", "median backward IAT"),
	tcol("burstiness_index", output.Float, "", "both", "iat_std / iat_mean; 0 when the mean is 0"),
	tcol("burstiness_index_fwd", output.Float, "", "fwd", "iat_fwd_std / iat_fwd_mean; 0 when the mean is 0"),
	tcol("burstiness_index_bwd", output.Float, "", "bwd", "iat_bwd_std / iat_bwd_mean; 0 when the mean is 0"),
	tcol("burst_count", output.Int, "", "both", "bursts: the first packet opens one, an IAT below burst_threshold_ms extends it, an IAT at or above it opens the next; 0 for a 1-packet flow"),
	tcol("avg_burst_packets", output.Float, "packets", "both", "mean number of packets per burst"),
	tcol("avg_burst_duration", output.Float, "s", "both", "mean burst duration, last minus first packet time of the burst (0 if negative)"),
	tcol("max_burst_packets", output.Int, "packets", "both", "packets in the largest burst"),
	tcol("idle_count", output.Int, "", "both", "number of IATs at or above burst_threshold_ms"),
	tcol("avg_idle_duration", output.Float, "s", "both", "mean of the IATs at or above burst_threshold_ms; 0 if none"),
	tcol("max_idle_duration", output.Float, "s", "both", "largest IAT at or above burst_threshold_ms; 0 if none"),
	tcol("first_response_time", output.Float, "s", "bwd", "time of the first responder-to-initiator packet minus the flow start (earliest timestamp); 0 if the responder never sent"),
}

var timingRawColumns = []output.Column{
	tcol("iat_sequence", output.FloatList, "s", "both", "the first max_sequence_length IATs in capture order, zero-padded to max_sequence_length"),
	tcol("timestamp_sequence", output.FloatList, "s", "both", "times of the first max_sequence_length packets relative to the flow start, zero-padded"),
}

var timingSPLTColumns = []output.Column{
	tcol("splt_lengths", output.IntList, "bytes", "both", "IP lengths of the first max_sequence_length packets, zero-padded"),
	tcol("splt_times", output.FloatList, "s", "both", "gap to the previous packet (0 for the first, negative gaps 0) of the first max_sequence_length packets, zero-padded"),
	tcol("splt_directions", output.IntList, "", "both", "+1 initiator to responder, -1 responder to initiator, for the first max_sequence_length packets; padded with 0"),
}

// NewTiming builds the timing extractor for the options.
func NewTiming(o Options) *Timing {
	t := &Timing{
		thr:  burstThresholdNs(o.BurstThresholdMs),
		seqL: seqLength(o.MaxSequenceLength),
		raw:  o.IncludeRawSequences,
		splt: o.IncludeSPLT,
	}
	t.logRole = ownLog()
	t.cols = append(t.cols, timingColumns...)
	if t.raw {
		t.cols = append(t.cols, timingRawColumns...)
	}
	if t.splt {
		t.cols = append(t.cols, timingSPLTColumns...)
	}
	if t.raw || t.splt {
		t.fbuf = make([]float64, t.seqL)
		t.ibuf = make([]int64, t.seqL)
	}
	return t
}

// burstThresholdNs converts the threshold to whole nanoseconds, the
// nearest (at least 1), as the timeouts are: the threshold is a decimal
// the user wrote, and 8.3 ms is 8 300 000 ns, where the float 8.3·1e6
// (8300000.000000001) rounded up made an IAT of exactly 8.3 ms fall below
// it.
func burstThresholdNs(ms float64) int64 {
	if !(ms > 0) {
		ms = defaultBurstThresholdMs
	}
	ns := math.Round(ms * 1e6)
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(int64(ns), 1)
}

func seqLength(l int) int {
	if l <= 0 {
		return defaultMaxSequenceLength
	}
	return l
}

// Name returns "timing".
func (t *Timing) Name() string { return "timing" }

// Columns returns the enabled columns.
func (t *Timing) Columns() []output.Column { return t.cols }

// Emit appends the flow's timing values and releases its buffers.
func (t *Timing) Emit(slot uint32, f *Flow, b *output.Batch, base int) {
	ps := t.log.packets(slot)
	w, strs := newColWriter(b, base, timingNumbers), newStrCols(b, base) // one line: default.pgo names hot calls by line
	n := ps.n

	// One pass: the flow start, the first backward packet, the IATs in
	// capture order (all, the first n−1 of sc) and those of each
	// direction after them, forward ones from the front and backward
	// ones from the back of the n−1 after that (their order does not
	// matter: they are sorted), and the bursts and idle periods, which
	// take the IATs in capture order.
	sc := t.log.scratchFor(2 * n)
	var start int64
	firstBwd, nf, nb := -1, 0, 0
	var last [2]int64
	var bu bursts
	// The previous packet's time; the current burst's first packet and
	// its time.
	var prev, burstTs int64
	i, burst, dirs := 0, 0, ps.dirs
	for k := range ps.parts() {
		for _, p := range ps.part(k) {
			x := p.ts
			if i == 0 || x < start {
				start = x
			}
			if i > 0 {
				d := max(x-prev, 0)
				sc[i-1] = d
				if d >= t.thr {
					bu.close(i-1-burst, prev-burstTs)
					burst, burstTs = i, x
					bu.idle++
					bu.idleSum.add(uint64(d))
					bu.idleMax = max(bu.idleMax, d)
				}
			} else {
				burstTs = x
			}
			prev = x
			if dirs.get(i) {
				if firstBwd < 0 {
					firstBwd = i
				} else {
					nb++
					sc[2*n-2-nb] = max(x-last[Bwd], 0)
				}
				last[Bwd] = x
			} else {
				if nf > 0 {
					sc[n-2+nf] = max(x-last[Fwd], 0)
				}
				nf++
				last[Fwd] = x
			}
			i++
		}
	}
	var all, fwd, bwd []int64
	if n > 0 {
		all = sc[:n-1]
		fwd = sc[n-1 : n-1+max(nf-1, 0)]
		bwd = sc[2*n-2-nb : 2*n-2]
	}

	if n >= 2 {
		bu.close(n-1-burst, prev-burstTs)
	}

	var seqIAT []float64
	if t.raw {
		// iat_sequence is emitted after the statistics; fill it now, while
		// the IATs are in capture order.
		seqIAT = t.fbuf
		clear(seqIAT)
		for i := 0; i < len(all) && i < t.seqL; i++ {
			seqIAT[i] = quo64(uint64(all[i]), 1e9)
		}
	}

	// Each series is sorted with room the others leave: a long series
	// takes a radix sort that needs scratch space as long as itself
	// (sortSeries), and sc has no more than the series. So the
	// directions go first, with the capture-order IATs' room as scratch,
	// and are summarised; then those IATs, computed again when that
	// scratch was used, take the directions' room.
	scratchedF := sortSeries(fwd, all)
	scratchedB := sortSeries(bwd, all)
	df, db := describe(fwd, 1e9), describe(bwd, 1e9)
	medF, medB := quantile(fwd, pMedian, 1e9), quantile(bwd, pMedian, 1e9)
	if scratchedF || scratchedB {
		i, prevTS := 0, int64(0)
		for k := range ps.parts() {
			for _, p := range ps.part(k) {
				if i > 0 {
					all[i-1] = max(p.ts-prevTS, 0)
				}
				prevTS = p.ts
				i++
			}
		}
	}
	sortSeries(all, sc[len(all):])
	da := describe(all, 1e9)

	w = w.float(da.min)
	w = w.float(da.max)
	w = w.float(da.mean)
	w = w.float(da.std)
	w = w.float(quantile(all, pMedian, 1e9))
	w = w.float(quo(da.sum, u128{lo: 1e9}))
	w = w.float(quantile(all, p25, 1e9))
	w = w.float(quantile(all, p75, 1e9))
	w = w.float(quantile(all, p90, 1e9))
	w = w.float(quantile(all, p95, 1e9))
	w = w.float(quantile(all, p99, 1e9))
	w = w.float(da.skew)
	w = w.float(da.kurtosis)
	w = w.float(da.cv)
	w = writeDirIATs(w, &df, medF)
	w = writeDirIATs(w, &db, medB)
	w = w.float(da.cv)
	w = w.float(df.cv)
	w = w.float(db.cv)

	w = w.uint(bu.count)
	if bu.count > 0 {
		w = w.float(quo64(uint64(n), bu.count))
		w = w.float(quo(bu.dur, mul128(bu.count, 1e9)))
	} else {
		w = w.float(0)
		w = w.float(0)
	}
	w = w.uint(bu.maxPackets)
	w = w.uint(bu.idle)
	if bu.idle > 0 {
		w = w.float(quo(bu.idleSum, mul128(bu.idle, 1e9)))
	} else {
		w = w.float(0)
	}
	w = w.float(quo64(uint64(bu.idleMax), 1e9))
	if firstBwd >= 0 {
		w = w.float(Seconds(ps.at(firstBwd).ts - start))
	} else {
		w = w.float(0)
	}

	if t.raw {
		strs.floats(w.k, seqIAT)
		seq := t.fbuf
		clear(seq)
		for i := 0; i < n && i < t.seqL; i++ {
			seq[i] = Seconds(ps.at(i).ts - start)
		}
		strs.floats(w.k, seq)
	}
	if t.splt {
		lens := t.ibuf
		clear(lens)
		for i := 0; i < n && i < t.seqL; i++ {
			lens[i] = int64(ps.at(i).len)
		}
		strs.ints(w.k, lens)
		times := t.fbuf
		clear(times)
		for i := 1; i < n && i < t.seqL; i++ {
			times[i] = quo64(uint64(max(ps.at(i).ts-ps.at(i-1).ts, 0)), 1e9)
		}
		strs.floats(w.k, times)
		dirs := t.ibuf
		clear(dirs)
		for i := 0; i < n && i < t.seqL; i++ {
			dirs[i] = 1
			if ps.dirs.get(i) {
				dirs[i] = -1
			}
		}
		strs.ints(w.k, dirs)
	}

	t.releaseLog(slot)
}

// bursts accumulates the burst and idle columns of one flow.
type bursts struct {
	count, maxPackets uint64
	dur               u128 // sum of burst durations, ns
	idle              uint64
	idleSum           u128 // ns
	idleMax           int64
}

// close ends a burst of span+1 packets, the last one dur ns after the
// first (capture order).
func (b *bursts) close(span int, dur int64) {
	b.count++
	b.maxPackets = max(b.maxPackets, uint64(span+1))
	b.dur.add(uint64(max(dur, 0)))
}

// writeDirIATs writes min, max, mean, std and median of one direction.
func writeDirIATs(w colWriter, d *dist, median float64) colWriter {
	w = w.float(d.min)
	w = w.float(d.max)
	w = w.float(d.mean)
	w = w.float(d.std)
	return w.float(median)
}
