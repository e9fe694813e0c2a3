package gen

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jjflow/jj/capture"
)

// Real captures in the repo: HTTP over IPv4 (TCP and DNS over UDP) and
// over IPv6, with valid checksums on most packets.
var tileInputs = []string{
	"../testdata/captures/wireshark__http.cap",
	"../testdata/captures/wireshark__v6-http.cap",
}

// readAll returns the records of a capture file.
func readAll(t *testing.T, path string) []capture.Record {
	t.Helper()
	r, c, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var recs []capture.Record
	for {
		var rec capture.Record
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		rec.Data = bytes.Clone(rec.Data)
		recs = append(recs, rec)
	}
}

func tile(t *testing.T, cfg TileConfig) (string, TileStats) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "tile.pcap")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Tile(f, tileInputs, cfg, FormatPcapNano)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out, st
}

// TestTileCopies tiles with copies an hour apart, so each comes whole
// after the one before: copy 0 is the inputs, merged in time order from
// Start; copy k is the same packets k hours later, with only the last 16
// bits of each address XORed with k and the checksums changed.
func TestTileCopies(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out, st := tile(t, TileConfig{Copies: 3, Step: time.Hour, Start: start})
	var in []capture.Record
	for _, p := range tileInputs {
		in = append(in, readAll(t, p)...)
	}
	got := readAll(t, out)
	if len(in) != 43+55 || st.Read != int64(len(in)) || st.Skipped != 0 ||
		st.Packets != 3*int64(len(in)) || int64(len(got)) != st.Packets {
		t.Fatalf("read %d, stats %+v, wrote %d records", len(in), st, len(got))
	}
	n := len(in)
	for i := 1; i < len(got); i++ {
		if got[i].Timestamp < got[i-1].Timestamp {
			t.Fatalf("record %d goes back in time", i)
		}
	}
	if got[0].Timestamp != start.UnixNano() {
		t.Errorf("first timestamp %d, want Start %d", got[0].Timestamp, start.UnixNano())
	}
	// Copy 0: every input packet once, unchanged, in order of time.
	seen := map[string]int{}
	for _, r := range in {
		seen[string(r.Data)]++
	}
	for i, r := range got[:n] {
		if seen[string(r.Data)] == 0 {
			t.Fatalf("copy 0, record %d: not an input packet", i)
		}
		seen[string(r.Data)]--
	}
	for k := 1; k < 3; k++ {
		for i, r := range got[k*n : (k+1)*n] {
			c0 := got[i]
			if r.Timestamp-c0.Timestamp != int64(k)*int64(time.Hour) || r.WireLen != c0.WireLen || len(r.Data) != len(c0.Data) {
				t.Fatalf("copy %d, record %d: time, length or wire length not copy 0's", k, i)
			}
			diff := changedBytes(c0.Data, r.Data)
			if want := addressBytes(c0.Data, k); !subset(want, diff) {
				t.Errorf("copy %d, record %d: address bytes %v should change, changed %v", k, i, want, diff)
			}
		}
	}
}

// changedBytes lists the offsets where a and b differ.
func changedBytes(a, b []byte) []int {
	var d []int
	for i := range a {
		if a[i] != b[i] {
			d = append(d, i)
		}
	}
	return d
}

// addressBytes lists the offsets of the last two bytes of each address of
// an untagged IPv4 or IPv6 Ethernet frame that XOR with k changes.
func addressBytes(f []byte, k int) []int {
	var offs []int
	switch binary.BigEndian.Uint16(f[12:]) {
	case 0x0800:
		offs = []int{14 + 14, 14 + 15, 14 + 18, 14 + 19}
	case 0x86dd:
		offs = []int{14 + 22, 14 + 23, 14 + 38, 14 + 39}
	}
	var want []int
	for j, o := range offs {
		if byte(k>>(8*(1-j%2))) != 0 {
			want = append(want, o)
		}
	}
	return want
}

func subset(a, b []int) bool {
	in := map[int]bool{}
	for _, x := range b {
		in[x] = true
	}
	for _, x := range a {
		if !in[x] {
			return false
		}
	}
	return true
}

// TestTileChecksums recomputes, in full (RFC 1071), the IPv4 header and
// TCP and UDP checksums of every copy: each one that was valid in the
// input is valid in every copy.
func TestTileChecksums(t *testing.T) {
	out, _ := tile(t, TileConfig{Copies: 300, Step: time.Millisecond, Start: time.Unix(1e9, 0)})
	in := map[string]bool{} // the valid sums of the inputs, by kind and packet
	for _, p := range tileInputs {
		for _, r := range readAll(t, p) {
			for _, kind := range validSums(r.Data) {
				in[kind+string(ipPayloadKey(r.Data))] = true
			}
		}
	}
	checked := 0
	recs := readAll(t, out)
	for i, r := range recs {
		if i > 0 && r.Timestamp < recs[i-1].Timestamp {
			t.Fatalf("record %d goes back in time", i)
		}
		valid := map[string]bool{}
		for _, kind := range validSums(r.Data) {
			valid[kind] = true
		}
		for _, kind := range []string{"ipv4", "tcp", "udp"} {
			if in[kind+string(ipPayloadKey(r.Data))] {
				checked++
				if !valid[kind] {
					t.Errorf("record %d: %s checksum no longer valid", i, kind)
				}
			}
		}
	}
	if checked < 300*(43+55) {
		t.Errorf("only %d checksums checked", checked)
	}
}

// ipPayloadKey identifies a packet across copies: its bytes after the IP
// addresses with the checksum fields zeroed (the payload and the ports,
// the same in every copy), and its length.
func ipPayloadKey(f []byte) []byte {
	k := bytes.Clone(f[14:])
	switch binary.BigEndian.Uint16(f[12:]) {
	case 0x0800:
		clear(k[10:20])
		ihl := int(k[0]&0xf) * 4
		if k[9] == 6 && len(k) >= ihl+18 {
			clear(k[ihl+16 : ihl+18])
		} else if k[9] == 17 && len(k) >= ihl+8 {
			clear(k[ihl+6 : ihl+8])
		}
	case 0x86dd:
		clear(k[8:40])
		if k[6] == 6 && len(k) >= 58 {
			clear(k[56:58])
		} else if k[6] == 17 && len(k) >= 48 {
			clear(k[46:48])
		}
	}
	return k
}

// validSums returns the kinds of checksum ("ipv4", "tcp", "udp") that are
// valid in an untagged Ethernet frame, each computed over all its bytes.
func validSums(f []byte) []string {
	be := binary.BigEndian
	var kinds []string
	var pseudo []byte
	var l4 []byte
	var proto byte
	switch be.Uint16(f[12:]) {
	case 0x0800:
		ip := f[14:]
		ihl := int(ip[0]&0xf) * 4
		if onesSum(ip[:ihl]) == 0xffff {
			kinds = append(kinds, "ipv4")
		}
		total := int(be.Uint16(ip[2:]))
		if total > len(ip) || be.Uint16(ip[6:])&0x3fff != 0 {
			return kinds // cut or fragmented: no L4 sum to check
		}
		proto, l4 = ip[9], ip[ihl:total]
		pseudo = append(bytes.Clone(ip[12:20]), 0, proto, byte(len(l4)>>8), byte(len(l4)))
	case 0x86dd:
		ip := f[14:]
		plen := int(be.Uint16(ip[4:]))
		if 40+plen > len(ip) {
			return nil
		}
		proto, l4 = ip[6], ip[40:40+plen]
		pseudo = append(bytes.Clone(ip[8:40]), 0, 0, byte(plen>>8), byte(plen), 0, 0, 0, proto)
	default:
		return nil
	}
	if (proto == 6 || proto == 17) && onesSum(append(pseudo, l4...)) == 0xffff {
		kinds = append(kinds, map[byte]string{6: "tcp", 17: "udp"}[proto])
	}
	return kinds
}

// TestAdjustSum checks the incremental update against a full
// recomputation, on random data and on sums next to the carries.
func TestAdjustSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 100000 {
		b := make([]byte, 20)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		switch i % 3 {
		case 0:
			for j := 0; j < 16; j++ {
				b[j] = 0xff // sums near 0xffff: end-around carries
			}
		case 1:
			// A sum of 0 and a word of 0 to 1: the update's sum is
			// 0x1ffff and needs its carry folded twice.
			clear(b)
			b[0], b[1] = 0xff, 0xff
			b[2], b[3] = byte(i>>8), byte(i)
			b[4], b[5] = ^b[2], ^b[3]
		}
		binary.BigEndian.PutUint16(b[10:], 0)
		binary.BigEndian.PutUint16(b[10:], ^onesSum(b))
		o := 2 * rng.IntN(10)
		if o == 10 {
			continue
		}
		old := binary.BigEndian.Uint16(b[o:])
		nw := uint16(rng.Uint32())
		if i%3 == 1 {
			o, old, nw = 6, 0, 1
		}
		binary.BigEndian.PutUint16(b[o:], nw)
		got := adjustSum(binary.BigEndian.Uint16(b[10:]), old, nw)
		binary.BigEndian.PutUint16(b[10:], got)
		if onesSum(b) != 0xffff {
			t.Fatalf("word %d %#04x to %#04x: sum %#04x does not verify", o, old, nw, got)
		}
	}
}

// onesSum is the 16-bit ones' complement sum of b (RFC 1071).
func onesSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// TestTileConfig checks the limits and the errors named after the input.
func TestTileConfig(t *testing.T) {
	ok := TileConfig{Copies: 1, Start: time.Unix(0, 0)}
	for _, c := range []TileConfig{
		{Copies: 0, Start: ok.Start},
		{Copies: maxCopies + 1, Start: ok.Start},
		{Copies: 1, Step: -1, Start: ok.Start},
		{Copies: 1},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: valid", c)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
	_, err := Tile(io.Discard, []string{"no-such.pcap"}, ok, FormatPcap)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("no-such.pcap")) {
		t.Errorf("missing input: %v", err)
	}
}

// TestTileDamaged tiles a capture cut off inside its last record: the
// records before it are written and the error, naming the file, is in
// Damaged.
func TestTileDamaged(t *testing.T) {
	data, err := os.ReadFile(tileInputs[0])
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := Tile(io.Discard, []string{cut}, TileConfig{Copies: 2, Start: time.Unix(0, 0)}, FormatPcap)
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != 42 || st.Packets != 84 || len(st.Damaged) != 1 ||
		!errors.Is(st.Damaged[0], capture.ErrTruncated) || !bytes.Contains([]byte(st.Damaged[0].Error()), []byte("cut.pcap")) {
		t.Errorf("stats %+v", st)
	}
}

// FuzzPerturb gives perturb any frame: it never panics or changes the
// length, and changes no byte but the addresses' last 16 bits and the
// checksums that cover them.
func FuzzPerturb(f *testing.F) {
	for _, p := range tileInputs {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[24+16:], uint16(3)) // the first frame onwards
	}
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0, 0, 1, 0x86, 0xdd}, uint16(1))
	f.Fuzz(func(t *testing.T, frame []byte, k uint16) {
		b := bytes.Clone(frame)
		perturb(b, k)
		if len(b) != len(frame) {
			t.Fatalf("length %d, was %d", len(b), len(frame))
		}
		// What may change, wherever the IP header starts (after 0 to 2
		// tags): its bytes 10-11 (IPv4 sum), 14-15 and 18-19 (IPv4
		// addresses), 22-23 and 38-39 (IPv6 addresses), and the TCP
		// (16-17) or UDP (6-7) sum after any IPv4 header length or the
		// IPv6 header.
		may := map[int]bool{}
		for _, ip := range []int{14, 18, 22} {
			for _, o := range []int{10, 14, 18, 22, 38} {
				may[ip+o], may[ip+o+1] = true, true
			}
			for l4 := ip + 20; l4 <= ip+60; l4 += 4 {
				for _, o := range []int{6, 16} {
					may[l4+o], may[l4+o+1] = true, true
				}
			}
		}
		for i := range b {
			if b[i] != frame[i] && !may[i] {
				t.Fatalf("byte %d changed", i)
			}
		}
		if k == 0 && !bytes.Equal(b, frame) {
			t.Fatal("copy 0 changed")
		}
	})
}

// TestTileTies tiles with no step, so that every copy's packet comes at
// the same time as copy 0's: ties go to the lower copy, then to input
// order (TestTileCopies checks what perturb changes).
func TestTileTies(t *testing.T) {
	start := time.Unix(1e9, 0)
	one, _ := tile(t, TileConfig{Copies: 1, Start: start})
	three, _ := tile(t, TileConfig{Copies: 3, Start: start})
	s, got := readAll(t, one), readAll(t, three)
	type key struct {
		ts   int64
		k, j int
	}
	var want []key
	for j, r := range s {
		for k := range 3 {
			want = append(want, key{r.Timestamp, k, j})
		}
	}
	slices.SortFunc(want, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.k, b.k), cmp.Compare(a.j, b.j))
	})
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		data := bytes.Clone(s[w.j].Data)
		perturb(data, uint16(w.k))
		if got[i].Timestamp != w.ts || !bytes.Equal(got[i].Data, data) {
			t.Fatalf("record %d: not copy %d of input packet %d", i, w.k, w.j)
		}
	}
}
