package extract

import (
	"math"
	"slices"

	"github.com/jjflow/jj/output"
)

// Size is the size extractor (extractors.md, "size"): distributions of IP
// packet lengths (all packets and per direction) and of payload lengths,
// the dominant length, L7 byte counts and direction asymmetry.
//
// Per flow it reads each packet's IP length, payload length and direction
// from the packet log it shares with timing (packetLog), in capture order:
// medians, percentiles and the dominant length need the values, and
// capture order breaks ties of the dominant length and gives
// pkt_len_sequence. Payload means and standard deviations come from exact
// integer sums (count, Σx, Σx²) per direction, taken at Emit.
type Size struct {
	cols []output.Column
	seqL int  // max_sequence_length
	raw  bool // include_raw_sequences

	logRole
	ibuf []int64 // pkt_len_sequence, length seqL
}

// sizeSums are one flow's counts and payload sums, indexed by Dir where
// per direction, taken from its packet log at Emit.
type sizeSums struct {
	packets [2]uint64
	bytes   [2]uint64
	pay     [2]u128 // Σ payload
	pay2    [2]u128 // Σ payload²
	payMin  uint32  // over every packet, zero payloads included
	payMax  uint32
	withPay [2]uint64 // packets with payload > 0
	l7Min   [2]uint32 // over packets with payload > 0; valid when withPay > 0
	l7Max   [2]uint32
}

var _ Extractor = (*Size)(nil)

func scol(name string, t output.Type, unit, dir, desc string) output.Column {
	return col("size", name, t, unit, dir, desc)
}

// sizeNumbers is how many of sizeColumns hold numbers (TestColumnNumbers):
// a constant, for newColWriter.
const sizeNumbers = 46

var sizeColumns = []output.Column{
	scol("pkt_len_min", output.Float, "bytes", "both", "smallest IP length (IPv4 total length, IPv6 payload length + 40) of the flow's packets; 0 for no packet"),
	scol("pkt_len_max", output.Float, "bytes", "both", "largest IP length"),
	scol("pkt_len_mean", output.Float, "bytes", "both", "mean IP length (total_bytes / total_packets)"),
	scol("pkt_len_std", output.Float, "bytes", "both", "population standard deviation of the IP lengths"),
	scol("pkt_len_median", output.Float, "bytes", "both", "median IP length (linear interpolation, as NumPy)"),
	scol("pkt_len_p25", output.Float, "bytes", "both", "25th percentile of the IP lengths, linear interpolation at rank (n-1)*p/100"),
	scol("pkt_len_p75", output.Float, "bytes", "both", "75th percentile of the IP lengths"),
	scol("pkt_len_p90", output.Float, "bytes", "both", "90th percentile of the IP lengths"),
	scol("pkt_len_p95", output.Float, "bytes", "both", "95th percentile of the IP lengths"),
	scol("pkt_len_variance", output.Float, "bytes^2", "both", "population variance of the IP lengths (pkt_len_std squared)"),
	scol("pkt_len_skew", output.Float, "", "both", "skewness m3/m2^1.5 of the IP lengths (population central moments); 0 when all are equal"),
	scol("pkt_len_kurtosis", output.Float, "", "both", "excess kurtosis m4/m2^2 - 3 of the IP lengths; 0 when all are equal"),
	scol("pkt_len_cv", output.Float, "", "both", "coefficient of variation pkt_len_std / pkt_len_mean; 0 when the mean is 0"),
	scol("pkt_len_fwd_min", output.Float, "bytes", "fwd", "smallest IP length initiator to responder; 0 if none"),
	scol("pkt_len_fwd_max", output.Float, "bytes", "fwd", "largest forward IP length"),
	scol("pkt_len_fwd_mean", output.Float, "bytes", "fwd", "mean forward IP length"),
	scol("pkt_len_fwd_std", output.Float, "bytes", "fwd", "population standard deviation of the forward IP lengths"),
	scol("pkt_len_fwd_median", output.Float, "bytes", "fwd", "median forward IP length"),
	scol("pkt_len_bwd_min", output.Float, "bytes", "bwd", "smallest IP length responder to initiator; 0 if none"),
	scol("pkt_len_bwd_max", output.Float, "bytes", "bwd", "largest backward IP length"),
	scol("pkt_len_bwd_mean", output.Float, "bytes", "bwd", "mean backward IP length"),
	scol("pkt_len_bwd_std", output.Float, "bytes", "bwd", "population standard deviation of the backward IP lengths"),
	scol("pkt_len_bwd_median", output.Float, "bytes", "bwd", "median backward IP length"),
	scol("payload_len_min", output.Float, "bytes", "both", "smallest application payload (from header lengths) over all packets, zero payloads included"),
	scol("payload_len_max", output.Float, "bytes", "both", "largest payload"),
	scol("payload_len_mean", output.Float, "bytes", "both", "mean payload over all packets, zero payloads included"),
	scol("payload_len_std", output.Float, "bytes", "both", "population standard deviation of the payloads, zero payloads included"),
	scol("payload_len_fwd_mean", output.Float, "bytes", "fwd", "mean payload of the forward packets"),
	scol("payload_len_fwd_std", output.Float, "bytes", "fwd", "population standard deviation of the forward payloads"),
	scol("payload_len_bwd_mean", output.Float, "bytes", "bwd", "mean payload of the backward packets"),
	scol("payload_len_bwd_std", output.Float, "bytes", "bwd", "population standard deviation of the backward payloads"),
	scol("packets_with_payload", output.Int, "packets", "both", "packets with payload > 0"),
	scol("packets_with_payload_fwd", output.Int, "packets", "fwd", "forward packets with payload > 0"),
	scol("packets_with_payload_bwd", output.Int, "packets", "bwd", "backward packets with payload > 0"),
	scol("header_only_ratio", output.Float, "", "both", "packets without payload / packets; 0 for no packet"),
	scol("dominant_pkt_size", output.Int, "bytes", "both", "most frequent IP length; on a tie the one seen first; 0 for no packet"),
	scol("dominant_pkt_ratio", output.Float, "", "both", "packets with the dominant IP length / packets"),
	scol("l7_bytes_fwd", output.Int, "bytes", "fwd", "sum of the forward payloads"),
	scol("l7_bytes_bwd", output.Int, "bytes", "bwd", "sum of the backward payloads"),
	scol("l7_bytes_total", output.Int, "bytes", "both", "sum of all payloads"),
	scol("l7_pkt_min_fwd", output.Int, "bytes", "fwd", "smallest forward payload among packets with payload > 0; 0 if none"),
	scol("l7_pkt_max_fwd", output.Int, "bytes", "fwd", "largest forward payload; 0 if none"),
	scol("l7_pkt_min_bwd", output.Int, "bytes", "bwd", "smallest backward payload among packets with payload > 0; 0 if none"),
	scol("l7_pkt_max_bwd", output.Int, "bytes", "bwd", "largest backward payload; 0 if none"),
	scol("pkt_asymmetry", output.Float, "", "both", "(packets_fwd - packets_bwd) / (packets_fwd + packets_bwd); 0 for no packet"),
	scol("byte_asymmetry", output.Float, "", "both", "(bytes_fwd - bytes_bwd) / (bytes_fwd + bytes_bwd) over IP lengths; 0 if both are 0"),
}

var sizeRawColumns = []output.Column{
	scol("pkt_len_sequence", output.IntList, "bytes", "both", "IP lengths of the first max_sequence_length packets, negative for responder-to-initiator packets, zero-padded"),
}

// NewSize builds the size extractor for the options.
func NewSize(o Options) *Size {
	z := &Size{seqL: seqLength(o.MaxSequenceLength), raw: o.IncludeRawSequences, logRole: ownLog()}
	z.cols = append(z.cols, sizeColumns...)
	if z.raw {
		z.cols = append(z.cols, sizeRawColumns...)
		z.ibuf = make([]int64, z.seqL)
	}
	return z
}

// Name returns "size".
func (z *Size) Name() string { return "size" }

// Columns returns the enabled columns.
func (z *Size) Columns() []output.Column { return z.cols }

// Emit appends the flow's size values and releases its buffers.
func (z *Size) Emit(slot uint32, f *Flow, b *output.Batch, base int) {
	ps := z.log.packets(slot)
	w, strs := newColWriter(b, base, sizeNumbers), newStrCols(b, base) // one line: default.pgo names hot calls by line
	n := ps.n

	// One pass over the packets: the sums, and the lengths of each
	// direction, forward ones from the front of sc and backward ones from
	// the back of its first half (their order does not matter: they are
	// sorted next).
	var s sizeSums
	// sc holds fwd lengths, bwd lengths, then all, each sorted.
	sc := z.log.scratchFor(2 * n)
	nf, i, dirs := 0, 0, ps.dirs
	for k := range ps.parts() {
		for _, p := range ps.part(k) {
			d := Fwd
			if dirs.get(i) {
				d = Bwd
				sc[n-1-(i-nf)] = int64(p.len)
			} else {
				sc[nf] = int64(p.len)
				nf++
			}
			s.packets[d]++
			s.bytes[d] += uint64(p.len)
			pl := p.pay
			s.pay[d].add(uint64(pl))
			s.pay2[d].add(uint64(pl) * uint64(pl))
			if i == 0 || pl < s.payMin {
				s.payMin = pl
			}
			s.payMax = max(s.payMax, pl)
			if pl > 0 {
				if s.withPay[d] == 0 || pl < s.l7Min[d] {
					s.l7Min[d] = pl
				}
				s.l7Max[d] = max(s.l7Max[d], pl)
				s.withPay[d]++
			}
			i++
		}
	}

	// Sorted: the forward lengths, the backward ones, and all of them
	// merged from those two (cheaper than sorting all of them again).
	fwd, bwd, all := sc[:nf], sc[nf:n], sc[n:2*n]
	sortSeries(fwd, all) // all is free until the merge: scratch
	sortSeries(bwd, all)
	merge(all, fwd, bwd)
	da, df, db := describe(all, 1), describe(fwd, 1), describe(bwd, 1)

	w = w.float(da.min)
	w = w.float(da.max)
	w = w.float(da.mean)
	w = w.float(da.std)
	w = w.float(quantile(all, pMedian, 1))
	w = w.float(quantile(all, p25, 1))
	w = w.float(quantile(all, p75, 1))
	w = w.float(quantile(all, p90, 1))
	w = w.float(quantile(all, p95, 1))
	w = w.float(da.variance)
	w = w.float(da.skew)
	w = w.float(da.kurtosis)
	w = w.float(da.cv)
	for _, d := range [2]struct {
		d      *dist
		sorted []int64
	}{{&df, fwd}, {&db, bwd}} {
		w = w.float(d.d.min)
		w = w.float(d.d.max)
		w = w.float(d.d.mean)
		w = w.float(d.d.std)
		w = w.float(quantile(d.sorted, pMedian, 1))
	}

	np := s.packets[Fwd] + s.packets[Bwd]
	payAll, pay2All := s.pay[Fwd].plus(s.pay[Bwd]), s.pay2[Fwd].plus(s.pay2[Bwd])
	w = w.float(float64(s.payMin))
	w = w.float(float64(s.payMax))
	w = w.float(payloadMean(np, payAll))
	w = w.float(math.Sqrt(sumsVariance(np, payAll, pay2All)))
	for _, d := range [2]Dir{Fwd, Bwd} {
		w = w.float(payloadMean(s.packets[d], s.pay[d]))
		w = w.float(math.Sqrt(sumsVariance(s.packets[d], s.pay[d], s.pay2[d])))
	}

	wp := s.withPay[Fwd] + s.withPay[Bwd]
	w = w.uint(wp)
	w = w.uint(s.withPay[Fwd])
	w = w.uint(s.withPay[Bwd])
	w = w.float(fraction(np-wp, np))

	dom, domN := dominant(&ps, all)
	w = w.int(dom)
	w = w.float(fraction(domN, np))

	// Payload sums fit 64 bits: 2^32 packets of 2^32 bytes would be needed
	// to overflow them.
	w = w.uint(s.pay[Fwd].lo)
	w = w.uint(s.pay[Bwd].lo)
	w = w.uint(payAll.lo)
	for _, d := range [2]Dir{Fwd, Bwd} {
		w = w.uint(uint64(s.l7Min[d]))
		w = w.uint(uint64(s.l7Max[d]))
	}
	w = w.float(asymmetry(s.packets[Fwd], s.packets[Bwd]))
	w = w.float(asymmetry(s.bytes[Fwd], s.bytes[Bwd]))

	if z.raw {
		seq := z.ibuf
		clear(seq)
		for i := 0; i < n && i < z.seqL; i++ {
			seq[i] = int64(ps.at(i).len)
			if ps.dirs.get(i) {
				seq[i] = -seq[i]
			}
		}
		strs.ints(w.k, seq)
	}

	z.releaseLog(slot)
}

// merge writes the sorted a and b, merged, into dst (len(a)+len(b)).
func merge(dst, a, b []int64) {
	i, j := 0, 0
	for k := range dst {
		if j == len(b) || i < len(a) && a[i] <= b[j] {
			dst[k] = a[i]
			i++
		} else {
			dst[k] = b[j]
			j++
		}
	}
}

// payloadMean returns sum / n, 0 when n is 0.
func payloadMean(n uint64, sum u128) float64 {
	if n == 0 {
		return 0
	}
	return quo(sum, u128{lo: n})
}

// dominant returns the most frequent IP length of ps (capture order) and
// its count; on a tie, the value seen first. sorted holds the same lengths
// in ascending order. (0, 0) for no packet.
func dominant(ps *packets, sorted []int64) (int64, uint64) {
	if len(sorted) == 0 {
		return 0, 0
	}
	best, bestVal, ties := 0, int64(0), 0
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		switch c := j - i; {
		case c > best:
			best, bestVal, ties = c, sorted[i], 1
		case c == best:
			ties++
		}
		i = j
	}
	if ties == 1 {
		return bestVal, uint64(best)
	}
	// Several values reach the best count: the first of them in capture
	// order (with every value once, the first packet's).
	for k := range ps.parts() {
		for _, p := range ps.part(k) {
			v := int64(p.len)
			lo, _ := slices.BinarySearch(sorted, v)
			hi, _ := slices.BinarySearch(sorted, v+1)
			if hi-lo == best {
				return v, uint64(best)
			}
		}
	}
	return 0, 0 // not reached: some value has the best count
}
