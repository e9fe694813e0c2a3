package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// File headers of classic pcap, one per magic.
const (
	pcapLEMicro = `
		d4 c3 b2 a1  # magic 0xa1b2c3d4 little-endian: microseconds
		02 00 04 00  # version 2.4
		00 00 00 00  # thiszone
		00 00 00 00  # sigfigs
		ff ff 00 00  # snaplen 65535
		01 00 00 00  # link type 1, Ethernet
	`
	pcapBEMicro = `
		a1 b2 c3 d4  # magic 0xa1b2c3d4 big-endian: microseconds
		00 02 00 04  # version 2.4
		00 00 00 00  # thiszone
		00 00 00 00  # sigfigs
		00 00 ff ff  # snaplen 65535
		00 00 00 01  # link type 1, Ethernet
	`
	pcapLENano = `
		4d 3c b2 a1  # magic 0xa1b23c4d little-endian: nanoseconds
		02 00 04 00  # version 2.4
		00 00 00 00  # thiszone
		00 00 00 00  # sigfigs
		ff ff 00 00  # snaplen 65535
		01 00 00 00  # link type 1, Ethernet
	`
	pcapBENano = `
		a1 b2 3c 4d  # magic 0xa1b23c4d big-endian: nanoseconds
		00 02 00 04  # version 2.4
		00 00 00 00  # thiszone
		00 00 00 00  # sigfigs
		00 00 ff ff  # snaplen 65535
		00 00 00 01  # link type 1, Ethernet
	`
	// pcapLERecord is a 20-byte record at 1.5 s (µs files) or 1.0005 s
	// (ns files) with 4 captured bytes of a 60-byte packet.
	pcapLERecord = `
		01 00 00 00  # ts_sec 1
		20 a1 07 00  # ts_frac 500000
		04 00 00 00  # incl_len 4
		3c 00 00 00  # orig_len 60
		de ad be ef  # data
	`
	pcapBERecord = `
		00 00 00 01  # ts_sec 1
		00 07 a1 20  # ts_frac 500000
		00 00 00 04  # incl_len 4
		00 00 00 3c  # orig_len 60
		de ad be ef  # data
	`
)

var (
	// The record above, read from a µs file and from a ns file.
	recMicro = rec{ts: 1_500_000_000, data: "\xde\xad\xbe\xef", wire: 60, link: LinkEthernet}
	recNano  = rec{ts: 1_000_500_000, data: "\xde\xad\xbe\xef", wire: 60, link: LinkEthernet}
)

// readerCase is one hand-built input and what reading it must give.
type readerCase struct {
	name    string
	in      string // annotated hex
	openErr error  // sentinel NewReader fails with, or nil
	want    []rec
	err     error  // sentinel Next ends with, or nil for io.EOF
	errOff  int64  // FileError.Offset of err or openErr
	warn    string // substring of a warning, or ""
	message string // the complete error message, when checked
}

// pcapCases are the hand-built inputs of TestPcapReader, also fuzz seeds.
var pcapCases = []readerCase{
	{name: "little-endian µs", in: pcapLEMicro + pcapLERecord, want: []rec{recMicro}},
	{name: "big-endian µs", in: pcapBEMicro + pcapBERecord, want: []rec{recMicro}},
	{name: "little-endian ns", in: pcapLENano + pcapLERecord, want: []rec{recNano}},
	{name: "big-endian ns", in: pcapBENano + pcapBERecord, want: []rec{recNano}},
	{name: "header only", in: pcapLEMicro},
	{
		name: "µs fraction of 1.5 s carried into the seconds",
		in: pcapLEMicro + `
			01 00 00 00  # ts_sec 1
			60 e3 16 00  # ts_usec 1500000
			00 00 00 00  # incl_len 0
			00 00 00 00  # orig_len 0
		`,
		want: []rec{{ts: 2_500_000_000, link: LinkEthernet}},
		warn: "carried into the seconds",
	},
	{
		name: "ns fraction of 2^32-1 carried into the seconds",
		in: pcapBENano + `
			00 00 00 01  # ts_sec 1
			ff ff ff ff  # ts_nsec 4294967295
			00 00 00 00  # incl_len 0
			00 00 00 00  # orig_len 0
		`,
		want: []rec{{ts: 1_000_000_000 + 4_294_967_295, link: LinkEthernet}},
		warn: "carried into the seconds",
	},
	{
		name: "µs fraction of 2^32-1 carried into the seconds",
		in: pcapLEMicro + `
			ff ff ff ff  # ts_sec 2^32-1, unsigned: year 2106
			ff ff ff ff  # ts_usec 4294967295
			00 00 00 00  # incl_len 0
			00 00 00 00  # orig_len 0
		`,
		want: []rec{{ts: 4_294_967_295_000_000_000 + 4_294_967_295_000, link: LinkEthernet}},
		warn: "carried into the seconds",
	},
	{
		name: "version 2.2 read as 2.4",
		in: `
			d4 c3 b2 a1  # magic, little-endian µs
			02 00 02 00  # version 2.2
			00 00 00 00 00 00 00 00  # thiszone, sigfigs
			ff ff 00 00  # snaplen
			01 00 00 00  # Ethernet
		` + pcapLERecord,
		want: []rec{recMicro},
		warn: "pcap version 2.2 read as 2.4",
	},
	{
		name: "FCS bits in the link type field ignored",
		in: `
			d4 c3 b2 a1  # magic, little-endian µs
			02 00 04 00  # version 2.4
			00 00 00 00 00 00 00 00  # thiszone, sigfigs
			ff ff 00 00  # snaplen
			01 00 00 30  # 0x30000001: FCS length 1 (bit 28 and up), link type 1
		` + pcapLERecord,
		want: []rec{recMicro},
		warn: "link type field 0x30000001 has FCS or reserved bits set, read as link type 1",
	},
	{
		name: "snaplen 0 and a longer record",
		in: `
			d4 c3 b2 a1  # magic, little-endian µs
			02 00 04 00  # version 2.4
			00 00 00 00 00 00 00 00  # thiszone, sigfigs
			00 00 00 00  # snaplen 0
			01 00 00 00  # Ethernet
		` + pcapLERecord,
		want: []rec{recMicro},
	},
	{
		name: "snaplen 2^32-1",
		in: `
			d4 c3 b2 a1  # magic, little-endian µs
			02 00 04 00  # version 2.4
			00 00 00 00 00 00 00 00  # thiszone, sigfigs
			ff ff ff ff  # snaplen 2^32-1
			01 00 00 00  # Ethernet
		` + pcapLERecord,
		want: []rec{recMicro},
	},
	{
		name: "incl_len over orig_len kept as written",
		in: pcapLEMicro + `
			01 00 00 00  # ts_sec 1
			20 a1 07 00  # ts_usec 500000
			04 00 00 00  # incl_len 4
			02 00 00 00  # orig_len 2
			de ad be ef  # data
		`,
		want: []rec{{ts: 1_500_000_000, data: "\xde\xad\xbe\xef", wire: 2, link: LinkEthernet}},
		warn: "4 captured bytes, more than its original length 2",
	},
	{
		name: "zero-length record",
		in: pcapLEMicro + `
			01 00 00 00  # ts_sec 1
			00 00 00 00  # ts_usec 0
			00 00 00 00  # incl_len 0
			3c 00 00 00  # orig_len 60
		` + pcapLERecord,
		want: []rec{{ts: 1_000_000_000, wire: 60, link: LinkEthernet}, recMicro},
	},
	{
		name: "record length 4 GB",
		in: pcapLEMicro + `
			01 00 00 00  # ts_sec
			00 00 00 00  # ts_usec
			ff ff ff ff  # incl_len 2^32-1
			ff ff ff ff  # orig_len 2^32-1
			de ad be ef  # 4 bytes of data
		`,
		err:     ErrCorrupt,
		errOff:  24,
		message: "read test.pcap: corrupt capture: record length 4294967295 over the 16777216-byte limit at offset 24",
	},
	{
		// Two captures joined with cat: the second's file header reads as
		// a record of no bytes (time zone 0 in the length's place), then
		// its snap length, link type and first record's time as a record
		// header whose length is that time.
		name: "two captures joined",
		in: pcapLEMicro + pcapLERecord + pcapLEMicro + `
			80 00 92 65  # the second file's first record: ts_sec 1704067200
			00 00 00 00  # ts_frac 0
			3c 00 00 00  # incl_len 60
			3c 00 00 00  # orig_len 60
		`,
		// The magic and the version make a time, of the record the
		// header's first 16 bytes are read as.
		want:    []rec{recMicro, {ts: 0xa1b2c3d4*1_000_000_000 + 0x00040002*1000, link: LinkEthernet}},
		err:     ErrCorrupt,
		errOff:  44,
		message: "read test.pcap: corrupt capture: a second pcap file header, as where two captures are joined with cat (give each as an input, or merge them with mergecap) at offset 44",
	},
	{
		// The same with the second file big-endian: its snap length and
		// link type read as this file's, byte for byte reversed.
		name: "two captures joined, the second big-endian",
		in: pcapLEMicro + pcapLERecord + pcapBEMicro + `
			65 92 00 80  # the second file's first record: ts_sec 1704067200
			00 00 00 00  # ts_frac 0
			00 00 00 3c  # incl_len 60
			00 00 00 3c  # orig_len 60
		`,
		want:    []rec{recMicro, {ts: 0xd4c3b2a1*1_000_000_000 + 0x04000200*1000, link: LinkEthernet}},
		err:     ErrCorrupt,
		errOff:  44,
		warn:    "fraction of a second",
		message: "read test.pcap: corrupt capture: a second pcap file header, as where two captures are joined with cat (give each as an input, or merge them with mergecap) at offset 44",
	},
	{
		name: "second record length 4 GB",
		in: pcapLEMicro + pcapLERecord + `
			01 00 00 00  # ts_sec
			00 00 00 00  # ts_usec
			ff ff ff ff  # incl_len 2^32-1
			3c 00 00 00  # orig_len 60
		`,
		want:   []rec{recMicro},
		err:    ErrCorrupt,
		errOff: 44,
	},
	{
		name: "record length MaxRecordLen+1",
		in: pcapBEMicro + `
			00 00 00 01  # ts_sec
			00 00 00 00  # ts_usec
			01 00 00 01  # incl_len 2^24+1
			01 00 00 01  # orig_len 2^24+1
		`,
		err:    ErrCorrupt,
		errOff: 24,
	},
	{
		name: "record length MaxRecordLen, cut off",
		in: pcapBEMicro + `
			00 00 00 01  # ts_sec
			00 00 00 00  # ts_usec
			01 00 00 00  # incl_len 2^24: allowed
			01 00 00 00  # orig_len 2^24
			de ad be ef  # only 4 bytes of data
		`,
		err:     ErrTruncated,
		errOff:  24,
		message: "read test.pcap: file cut off mid-record: 20 of 16777232 bytes present at offset 24",
	},
	{
		name: "cut off mid record header",
		in: pcapLEMicro + pcapLERecord + `
			01 00 00 00  # ts_sec
			00 00 00 00  # ts_usec
			04 00        # half of incl_len
		`,
		want:    []rec{recMicro},
		err:     ErrTruncated,
		errOff:  44,
		message: "read test.pcap: file cut off mid-record: 10 of 16 bytes present at offset 44",
	},
	{
		name: "cut off mid body",
		in: pcapLEMicro + pcapLERecord + `
			01 00 00 00  # ts_sec
			00 00 00 00  # ts_usec
			08 00 00 00  # incl_len 8
			08 00 00 00  # orig_len 8
			01 02 03     # 3 of 8 bytes
		`,
		want:   []rec{recMicro},
		err:    ErrTruncated,
		errOff: 44,
	},
	{
		name:    "cut off in the file header",
		in:      `d4 c3 b2 a1 02 00 04 00 00 00`,
		openErr: ErrTruncated,
		errOff:  0,
		message: "read test.pcap: file cut off mid-record: 10 of 24 bytes of the file header present at offset 0",
	},
	{
		name: "unsupported link type 160",
		in: `
			d4 c3 b2 a1  # magic, little-endian µs
			02 00 04 00  # version 2.4
			00 00 00 00 00 00 00 00  # thiszone, sigfigs
			ff ff 00 00  # snaplen
			a0 00 00 00  # link type 160, USER13
		` + pcapLERecord,
		openErr: ErrLinkType,
		errOff:  -1,
		message: "read test.pcap: unsupported link type 160 (USER13)",
	},
}

func TestPcapReader(t *testing.T) {
	runReaderCases(t, "test.pcap", pcapCases)
}

// runReaderCases checks each case, giving inputs the name name.
func runReaderCases(t *testing.T, name string, tests []readerCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, got, err := readBytes(t, hx(t, tt.in), name)
			checkErr(t, err)
			wantErr := tt.err
			if tt.openErr != nil {
				if rd != nil {
					t.Fatalf("NewReader succeeded, want an error wrapping %q", tt.openErr)
				}
				wantErr = tt.openErr
			} else if rd == nil {
				t.Fatalf("NewReader: %v", err)
			}
			if wantErr == nil {
				if err != io.EOF {
					t.Errorf("Next = %v, want io.EOF", err)
				}
			} else {
				if !errors.Is(err, wantErr) {
					t.Errorf("error = %v, want one wrapping %q", err, wantErr)
				}
				var fe *FileError
				if errors.As(err, &fe) && fe.Offset != tt.errOff {
					t.Errorf("error offset = %d, want %d", fe.Offset, tt.errOff)
				}
			}
			if tt.message != "" && (err == nil || err.Error() != tt.message) {
				t.Errorf("error message = %q, want %q", err, tt.message)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records (-got, +want):\n- %+v\n+ %+v", got, tt.want)
			}
			if rd != nil && tt.warn != "" {
				if w := rd.Warnings(); !strings.Contains(strings.Join(w, "\n"), tt.warn) {
					t.Errorf("Warnings() = %q, want one containing %q", w, tt.warn)
				}
			}
			if rd != nil && tt.warn == "" && len(rd.Warnings()) > 0 {
				t.Errorf("Warnings() = %q, want none", rd.Warnings())
			}
		})
	}
}

// TestPcapRecordOverLimitPresent checks that a record longer than
// MaxRecordLen is refused even when all its bytes are there, as in a
// mapped file, which holds them all at once (Next's fast path), and
// through a stream.
func TestPcapRecordOverLimitPresent(t *testing.T) {
	b := hx(t, pcapLEMicro+pcapLERecord)
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], 2)               // ts_sec
	binary.LittleEndian.PutUint32(h[8:], MaxRecordLen+1)  // incl_len
	binary.LittleEndian.PutUint32(h[12:], MaxRecordLen+1) // orig_len
	b = append(append(b, h...), make([]byte, MaxRecordLen+1)...)
	_, streamed, serr := readBytes(t, b, "x")
	_, opened, mapped, merr := openBytes(t, b)
	if !opened {
		t.Fatalf("Open: %v", merr)
	}
	for how, got := range map[string]struct {
		recs []rec
		err  error
	}{"streamed": {streamed, serr}, "mapped": {mapped, merr}} {
		if len(got.recs) != 1 || got.recs[0] != recMicro {
			t.Errorf("%s: records %+v, want only %+v", how, got.recs, recMicro)
		}
		var fe *FileError
		if !errors.Is(got.err, ErrCorrupt) || !errors.As(got.err, &fe) || fe.Offset != 44 {
			t.Errorf("%s: error %v, want one wrapping %q at offset 44", how, got.err, ErrCorrupt)
		}
	}
}

// TestPcapTestdata checks captures of real tools against tshark 4.0.17's
// frame.time_epoch, frame.len and frame.cap_len.
func TestPcapTestdata(t *testing.T) {
	tests := []struct {
		file  string
		n     int
		first rec // data not compared
		err   error
		warn  string
	}{
		{file: "big-endian-sctp.pcap", n: 4, first: rec{ts: 1088696689_784578000, wire: 138, link: LinkEthernet}},
		{file: "nano-sll.pcap", n: 3, first: rec{ts: 1418145369_924505488, wire: 76, link: LinkSLL}},
		// tshark prints the second and third as 1418145370.1000000000 and
		// -1418145370.2147483648: fractions of 10^9 and 2^31 ns.
		{file: "nano-fraction-over-1s.pcap", n: 3, first: rec{ts: 1418145369_999999999, wire: 76, link: LinkSLL}, warn: "carried"},
		{file: "fcs-bits-linktype.pcap", n: 1, first: rec{ts: 1605787646_999999000, wire: 65613, link: LinkEthernet}, warn: "0x40000001"},
		{file: "caplen-over-origlen.pcap", n: 3, first: rec{ts: 167800896_131862000, wire: 262144, link: LinkEthernet}, warn: "more than its original length"},
		{file: "cut-first-record-v2.0-fcs-bits.pcap", n: 0, err: ErrTruncated, warn: "pcap version 2.0 read as 2.4"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			rd, got, err := readBytes(t, b, tt.file)
			if rd == nil {
				t.Fatalf("NewReader: %v", err)
			}
			if tt.err == nil && err != io.EOF || tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Next = %v, want %v", err, tt.err)
			}
			if len(got) != tt.n {
				t.Fatalf("got %d records, want %d", len(got), tt.n)
			}
			if tt.n > 0 {
				got[0].data = ""
				if got[0] != tt.first {
					t.Errorf("first record = %+v, want %+v", got[0], tt.first)
				}
			}
			if w := strings.Join(rd.Warnings(), "\n"); !strings.Contains(w, tt.warn) {
				t.Errorf("Warnings() = %q, want one containing %q", w, tt.warn)
			}
		})
	}
}

func TestPcapUnsupportedLinkTypeFile(t *testing.T) {
	r, c, err := Open("testdata/linktype-160.pcap")
	if err == nil {
		c.Close()
		t.Fatalf("Open = %T, want an error", r)
	}
	var lte *LinkTypeError
	if !errors.As(err, &lte) || lte.LinkType != 160 || !errors.Is(err, ErrLinkType) {
		t.Errorf("Open error = %v, want a *LinkTypeError for 160", err)
	}
	if want := "read testdata/linktype-160.pcap: unsupported link type 160 (USER13)"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}
