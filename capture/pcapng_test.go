package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// pcapng blocks, little-endian unless named BE.
const (
	shbLE = `
		0a 0d 0d 0a  # block type: section header
		1c 00 00 00  # total length 28
		4d 3c 2b 1a  # byte-order magic 0x1a2b3c4d, little-endian
		01 00 00 00  # version 1.0
		ff ff ff ff ff ff ff ff  # section length: unknown
		1c 00 00 00  # total length 28
	`
	shbBE = `
		0a 0d 0d 0a  # block type: section header
		00 00 00 1c  # total length 28
		1a 2b 3c 4d  # byte-order magic, big-endian
		00 01 00 00  # version 1.0
		ff ff ff ff ff ff ff ff  # section length: unknown
		00 00 00 1c  # total length 28
	`
	idbLE = `
		01 00 00 00  # block type: interface description
		14 00 00 00  # total length 20
		01 00 00 00  # link type 1 (Ethernet), reserved
		00 00 00 00  # snaplen 0: none
		14 00 00 00  # total length 20
	`
	idbBE = `
		00 00 00 01  # block type: interface description
		00 00 00 14  # total length 20
		00 01 00 00  # link type 1 (Ethernet), reserved
		00 00 00 00  # snaplen 0: none
		00 00 00 14  # total length 20
	`
	// epbLE is 4 bytes of a 60-byte packet on interface 0 at 10^6 ticks.
	epbLE = `
		06 00 00 00  # block type: enhanced packet
		24 00 00 00  # total length 36
		00 00 00 00  # interface 0
		00 00 00 00  # timestamp, upper 32 bits
		40 42 0f 00  # timestamp, lower 32 bits: 1000000 ticks
		04 00 00 00  # captured length 4
		3c 00 00 00  # original length 60
		de ad be ef  # data
		24 00 00 00  # total length 36
	`
	epbBE = `
		00 00 00 06  # block type: enhanced packet
		00 00 00 24  # total length 36
		00 00 00 00  # interface 0
		00 00 00 00  # timestamp, upper 32 bits
		00 0f 42 40  # timestamp, lower 32 bits: 1000000 ticks
		00 00 00 04  # captured length 4
		00 00 00 3c  # original length 60
		de ad be ef  # data
		00 00 00 24  # total length 36
	`
	// epb1LE is epbLE on interface 1.
	epb1LE = `
		06 00 00 00  # block type: enhanced packet
		24 00 00 00  # total length 36
		01 00 00 00  # interface 1
		00 00 00 00  # timestamp, upper 32 bits
		40 42 0f 00  # timestamp, lower 32 bits: 1000000 ticks
		04 00 00 00  # captured length 4
		3c 00 00 00  # original length 60
		de ad be ef  # data
		24 00 00 00  # total length 36
	`
	// spbLE is a simple packet block with 4 bytes of a 60-byte packet.
	spbLE = `
		03 00 00 00  # block type: simple packet
		14 00 00 00  # total length 20
		3c 00 00 00  # original length 60
		de ad be ef  # data
		14 00 00 00  # total length 20
	`
	// idb271LE declares a VSOCK interface, a link type jj does not decode.
	idb271LE = `
		01 00 00 00  # block type: interface description
		14 00 00 00  # total length 20
		0f 01 00 00  # link type 271 (VSOCK), reserved
		00 00 00 00  # snaplen 0
		14 00 00 00  # total length 20
	`
)

// pkt is the 4 bytes of data of the blocks above at the given timestamp.
func pkt(ts int64, link LinkType, iface uint32) rec {
	return rec{ts: ts, data: "\xde\xad\xbe\xef", wire: 60, link: link, iface: iface}
}

// pcapngCases are the hand-built inputs of TestPcapngReader, also fuzz seeds.
var pcapngCases = []readerCase{
	{name: "little-endian, default µs", in: shbLE + idbLE + epbLE, want: []rec{pkt(1e9, LinkEthernet, 0)}},
	{name: "big-endian, default µs", in: shbBE + idbBE + epbBE, want: []rec{pkt(1e9, LinkEthernet, 0)}},
	{name: "section without interfaces or packets", in: shbLE},
	{
		name: "if_tsresol 10^-9",
		in: shbLE + `
			01 00 00 00  # interface description
			20 00 00 00  # total length 32
			01 00 00 00  # Ethernet
			00 00 00 00  # snaplen
			09 00 01 00  # if_tsresol, length 1
			09 00 00 00  # 10^-9, padding
			00 00 00 00  # opt_endofopt
			20 00 00 00  # total length 32
		` + epbLE,
		want: []rec{pkt(1_000_000, LinkEthernet, 0)},
	},
	{
		name: "if_tsresol 2^-8, big-endian",
		in: shbBE + `
			00 00 00 01  # interface description
			00 00 00 1c  # total length 28
			00 01 00 00  # Ethernet
			00 00 00 00  # snaplen
			00 09 00 01  # if_tsresol, length 1
			88 00 00 00  # 0x80|8: 2^-8, padding
			00 00 00 1c  # total length 28
		` + epbBE,
		want: []rec{pkt(3_906_250_000_000, LinkEthernet, 0)}, // 10^6/256 s = 3906.25 s
	},
	{
		name: "if_tsoffset 100 s, with a comment option before it",
		in: shbLE + `
			01 00 00 00  # interface description
			28 00 00 00  # total length 40
			01 00 00 00  # Ethernet
			00 00 00 00  # snaplen
			01 00 03 00  # opt_comment, length 3
			61 62 63 00  # "abc", padding
			0e 00 08 00  # if_tsoffset, length 8
			64 00 00 00 00 00 00 00  # 100 s
			28 00 00 00  # total length 40
		` + epbLE,
		want: []rec{pkt(101e9, LinkEthernet, 0)},
	},
	{
		name: "if_tsoffset -1 s",
		in: shbLE + `
			01 00 00 00  # interface description
			20 00 00 00  # total length 32
			01 00 00 00  # Ethernet
			00 00 00 00  # snaplen
			0e 00 08 00  # if_tsoffset, length 8
			ff ff ff ff ff ff ff ff  # -1 s
			20 00 00 00  # total length 32
		` + epbLE,
		want: []rec{pkt(0, LinkEthernet, 0)},
	},
	{
		name: "option running past the block end",
		in: shbLE + `
			01 00 00 00  # interface description
			1c 00 00 00  # total length 28
			01 00 00 00  # Ethernet
			00 00 00 00  # snaplen
			09 00 08 00  # if_tsresol claiming 8 bytes
			09 00 00 00  # only 4 left
			1c 00 00 00  # total length 28
		` + epbLE,
		want: []rec{pkt(1e9, LinkEthernet, 0)},
		warn: "run past its end",
	},
	{
		name: "two sections, big- then little-endian, interfaces reset",
		in: shbBE + idbBE + epbBE + shbLE + `
			01 00 00 00  # interface description
			14 00 00 00  # total length 20
			71 00 00 00  # link type 113 (Linux SLL)
			00 00 00 00  # snaplen
			14 00 00 00  # total length 20
		` + epbLE,
		want: []rec{pkt(1e9, LinkEthernet, 0), pkt(1e9, LinkSLL, 0)},
	},
	{
		// The block is left out, counted in a warning; the blocks after
		// it are read.
		name: "interface of a previous section",
		in:   shbLE + idbLE + idbLE + epb1LE + shbLE + idbLE + epb1LE + epb1LE + epbLE,
		want: []rec{pkt(1e9, LinkEthernet, 1), pkt(1e9, LinkEthernet, 0)},
		warn: "test.pcapng: 2 packet block(s) skipped, the first at offset 152: packet for interface 1, but its section describes 1 interface (0)",
	},
	{
		name: "packet before any interface",
		in:   shbLE + epbLE + idbLE + epbLE,
		want: []rec{pkt(1e9, LinkEthernet, 0)},
		warn: "test.pcapng: 1 packet block(s) skipped, the first at offset 28: packet for interface 0, but its section describes no interface",
	},
	{
		name: "simple packet before any interface",
		in:   shbLE + spbLE,
		warn: "test.pcapng: 1 packet block(s) skipped, the first at offset 28: simple packet block before any interface description",
	},
	{
		name: "simple packet blocks: previous timestamp, length from snaplen and body",
		in: shbLE + `
			01 00 00 00  # interface description
			14 00 00 00  # total length 20
			01 00 00 00  # Ethernet
			03 00 00 00  # snaplen 3
			14 00 00 00  # total length 20
		` + spbLE + epbLE + spbLE + `
			03 00 00 00  # simple packet
			14 00 00 00  # total length 20
			02 00 00 00  # original length 2
			de ad 00 00  # data, padding
			14 00 00 00  # total length 20
		`,
		want: []rec{
			{ts: 0, data: "\xde\xad\xbe", wire: 60, link: LinkEthernet},   // no previous record
			pkt(1e9, LinkEthernet, 0),                                     // EPB: captured length 4 despite snaplen 3
			{ts: 1e9, data: "\xde\xad\xbe", wire: 60, link: LinkEthernet}, // snaplen 3
			{ts: 1e9, data: "\xde\xad", wire: 2, link: LinkEthernet},      // original length 2
		},
		warn: "simple packet blocks carry no timestamp",
	},
	{
		name: "simple packet longer than its block",
		in: shbLE + idbLE + `
			03 00 00 00  # simple packet
			14 00 00 00  # total length 20
			e8 03 00 00  # original length 1000
			de ad be ef  # 4 bytes of data
			14 00 00 00  # total length 20
		`,
		want: []rec{{ts: 0, data: "\xde\xad\xbe\xef", wire: 1000, link: LinkEthernet}},
		warn: "simple packet blocks carry no timestamp",
	},
	{
		name: "obsolete packet block",
		in: shbLE + idbLE + idbLE + `
			02 00 00 00  # block type: packet (obsolete)
			24 00 00 00  # total length 36
			01 00        # interface 1
			00 00        # drops count
			00 00 00 00  # timestamp, upper 32 bits
			40 42 0f 00  # timestamp, lower 32 bits: 10^6 µs
			04 00 00 00  # captured length 4
			3c 00 00 00  # original length 60
			de ad be ef  # data
			24 00 00 00  # total length 36
		`,
		want: []rec{pkt(1e9, LinkEthernet, 1)},
	},
	{
		name: "skipped blocks: name resolution, statistics, custom, unknown",
		in: shbLE + idbLE + `
			04 00 00 00  # name resolution
			10 00 00 00  # total length 16
			00 00 00 00  # nrb_record_end
			10 00 00 00  # total length 16
			05 00 00 00  # interface statistics
			18 00 00 00  # total length 24
			07 00 00 00  # interface 7: not checked, the block is skipped
			00 00 00 00 00 00 00 00  # timestamp
			18 00 00 00  # total length 24
			ad 0b 00 00  # custom block 0x00000bad
			14 00 00 00  # total length 20
			7b 00 00 00  # private enterprise number 123
			01 02 03 04  # custom data
			14 00 00 00  # total length 20
			78 56 34 12  # unknown block type 0x12345678
			0c 00 00 00  # total length 12
			0c 00 00 00  # total length 12
		` + epbLE,
		want: []rec{pkt(1e9, LinkEthernet, 0)},
	},
	{
		name: "captured length larger than the block",
		in: shbLE + idbLE + `
			06 00 00 00  # enhanced packet
			24 00 00 00  # total length 36
			00 00 00 00  # interface 0
			00 00 00 00 40 42 0f 00  # timestamp
			08 00 00 00  # captured length 8
			3c 00 00 00  # original length 60
			de ad be ef  # 4 bytes of data
			24 00 00 00  # total length 36
		`,
		err:     ErrCorrupt,
		errOff:  48,
		message: "read test.pcapng: corrupt capture: captured length 8 larger than the 4-byte block body at offset 48",
	},
	{
		name: "block length 4 GB",
		in: shbLE + idbLE + epbLE + `
			06 00 00 00  # enhanced packet
			fc ff ff ff  # total length 2^32-4, a multiple of 4
			00 00 00 00  # interface 0
		`,
		want:    []rec{pkt(1e9, LinkEthernet, 0)},
		err:     ErrCorrupt,
		errOff:  84,
		message: "read test.pcapng: corrupt capture: block of type 0x6 with a lying length of 4294967292 bytes at offset 84",
	},
	{
		name: "block length 8",
		in: shbLE + idbLE + `
			06 00 00 00  # enhanced packet
			08 00 00 00  # total length 8: less than type, two lengths
			08 00 00 00  # trailing length
		` + epbLE,
		err:    ErrCorrupt,
		errOff: 48,
	},
	{
		name: "block length not a multiple of 4",
		in: shbLE + idbLE + `
			05 00 00 00  # interface statistics
			0d 00 00 00  # total length 13
			00 00 00 00 00
		`,
		err:    ErrCorrupt,
		errOff: 48,
	},
	{
		name: "trailing length mismatch",
		in: shbLE + idbLE + `
			06 00 00 00  # enhanced packet
			24 00 00 00  # total length 36
			00 00 00 00  # interface 0
			00 00 00 00 40 42 0f 00  # timestamp
			04 00 00 00  # captured length 4
			3c 00 00 00  # original length 60
			de ad be ef  # data
			28 00 00 00  # trailing length 40
		`,
		err:     ErrCorrupt,
		errOff:  48,
		message: "read test.pcapng: corrupt capture: block of type 0x6 with a length of 36 bytes and a trailing length of 40 at offset 48",
	},
	{
		name: "section header with a bad byte-order magic",
		in: shbLE + idbLE + epbLE + `
			0a 0d 0d 0a  # section header
			1c 00 00 00  # total length 28
			11 22 33 44  # no byte-order magic
		`,
		want:   []rec{pkt(1e9, LinkEthernet, 0)},
		err:    ErrCorrupt,
		errOff: 84,
	},
	{
		name: "section header too short",
		in: shbLE + idbLE + `
			0a 0d 0d 0a  # section header
			10 00 00 00  # total length 16
			4d 3c 2b 1a  # byte-order magic
			10 00 00 00  # total length 16
		`,
		err:    ErrCorrupt,
		errOff: 48,
	},
	{
		name:    "cut off mid block",
		in:      shbLE + idbLE + epbLE + `06 00 00 00 24 00 00 00 00 00 00 00 00 00`,
		want:    []rec{pkt(1e9, LinkEthernet, 0)},
		err:     ErrTruncated,
		errOff:  84,
		message: "read test.pcapng: file cut off mid-record: 14 of 36 bytes present at offset 84",
	},
	{
		name:   "cut off mid block header",
		in:     shbLE + idbLE + epbLE + `06 00 00 00 24 00`,
		want:   []rec{pkt(1e9, LinkEthernet, 0)},
		err:    ErrTruncated,
		errOff: 84,
	},
	{
		name:    "cut off in the first section header",
		in:      `0a 0d 0d 0a 1c 00 00 00 4d 3c 2b 1a 01 00`,
		openErr: ErrTruncated,
		errOff:  0,
	},
	{
		name:    "no byte-order magic: not pcapng",
		in:      `0a 0d 0d 0a 1c 00 00 00 61 62 63 64`,
		openErr: ErrNotCapture,
		errOff:  -1,
	},
	{
		name: "section version 2.0 read as 1.0",
		in: `
			0a 0d 0d 0a  # section header
			1c 00 00 00  # total length 28
			4d 3c 2b 1a  # byte-order magic
			02 00 00 00  # version 2.0
			ff ff ff ff ff ff ff ff  # section length
			1c 00 00 00  # total length 28
		` + idbLE + epbLE,
		want: []rec{pkt(1e9, LinkEthernet, 0)},
		warn: "section at offset 0 has version 2.0, read as 1.0",
	},
	{
		name:    "only interface unsupported",
		in:      shbLE + idb271LE + epbLE,
		openErr: ErrLinkType,
		errOff:  -1,
		message: "read test.pcapng: unsupported link type 271 (VSOCK)",
	},
	{
		name:    "only interface unsupported, no packets",
		in:      shbLE + idb271LE,
		openErr: ErrLinkType,
		errOff:  -1,
	},
	{
		name: "one of two interfaces unsupported: its packets returned",
		in:   shbLE + idb271LE + idbLE + epbLE + epb1LE,
		want: []rec{pkt(1e9, 271, 0), pkt(1e9, LinkEthernet, 1)},
	},
	{
		name: "unsupported interface, then a section with another one",
		in:   shbLE + idb271LE + epbLE + shbBE + idbBE + epbBE,
		want: []rec{pkt(1e9, 271, 0), pkt(1e9, LinkEthernet, 0)},
	},
	{
		name: "supported interface, then a section with only an unsupported one",
		in:   shbLE + idbLE + epbLE + shbLE + idb271LE + epbLE,
		want: []rec{pkt(1e9, LinkEthernet, 0), pkt(1e9, 271, 0)},
	},
}

func TestPcapngReader(t *testing.T) {
	runReaderCases(t, "test.pcapng", pcapngCases)
}

// wrapMul and wrapAdd compute modulo 2^64 at run time, where constant
// expressions would not compile.
func wrapMul(a, b uint64) int64 { return int64(a * b) }
func wrapAdd(a, b uint64) int64 { return int64(a + b) }

func TestNanos(t *testing.T) {
	tests := []struct {
		name   string
		ifc    ngInterface
		ticks  uint64
		want   int64
		wantOK bool
	}{
		{"10^-6", ngInterface{exp: 6}, 1_500_000, 1_500_000_000, true},
		{"10^-9", ngInterface{exp: 9}, 123_456_789, 123_456_789, true},
		{"10^0", ngInterface{exp: 0}, 5, 5e9, true},
		{"10^-12 truncated", ngInterface{exp: 12}, 1_000_000_001_999, 1_000_000_001, true},
		{"10^-19", ngInterface{exp: 19}, 1e19, 1e9, true},
		{"10^-30", ngInterface{exp: 30}, math.MaxUint64, 0, true},
		{"10^-127", ngInterface{exp: 127}, math.MaxUint64, 0, true},
		{"2^0", ngInterface{binary: true}, 10, 10e9, true},
		{"2^-8", ngInterface{binary: true, exp: 8}, 1_000_000, 3_906_250_000_000, true},
		{"2^-10 truncated", ngInterface{binary: true, exp: 10}, 1, 976_562, true}, // 0.9765625 µs
		{"2^-30", ngInterface{binary: true, exp: 30}, 3 << 30, 3e9, true},
		{"2^-32 of 2^64-1", ngInterface{binary: true, exp: 32}, math.MaxUint64, 4_294_967_295_999_999_999, true},
		{"2^-64", ngInterface{binary: true, exp: 64}, 1 << 63, 500_000_000, true},
		{"2^-127", ngInterface{binary: true, exp: 127}, math.MaxUint64, 0, true},
		{"offset 100 s", ngInterface{exp: 6, offset: 100}, 1, 100e9 + 1000, true},
		{"offset -2 s", ngInterface{exp: 9, offset: -2}, 1, -2e9 + 1, true},
		// Out of range: the result wraps modulo 2^64, as time.Time.UnixNano.
		{"10^-6 of 2^64-1 wraps", ngInterface{exp: 6}, math.MaxUint64, -1000, false},
		{"2^0 of 2^62 wraps", ngInterface{binary: true}, 1 << 62, wrapMul(1<<62, 1e9), false},
		{"offset 2^62 s wraps", ngInterface{exp: 9, offset: 1 << 62}, 0, wrapMul(1<<62, 1e9), false},
		{"offset pushing past 2262 wraps", ngInterface{exp: 9, offset: 9e9}, 1 << 62, wrapAdd(1<<62, 9e18), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.ifc.nanos(tt.ticks)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("nanos(%d) = %d, %v, want %d, %v", tt.ticks, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestPcapngTestdata checks captures of real tools against tshark 4.0.17's
// frame.time_epoch, frame.len and frame.interface_id.
func TestPcapngTestdata(t *testing.T) {
	tests := []struct {
		file    string
		n       int
		first   rec // data not compared
		openErr error
		warn    string
	}{
		{file: "tsresol-2-8-be.pcapng", n: 1, first: rec{ts: 1519128000_195312500, wire: 314, link: LinkEthernet}},
		{file: "tsresol-nano.pcapng", n: 1, first: rec{ts: 1759756153_000001000, wire: 98, link: LinkEthernet}},
		// tshark: 4734231571822.539464 s, past int64 nanoseconds: wrapped.
		{file: "timestamp-year-150000-be.pcapng", n: 4, first: rec{ts: wrapMul(4734231571822_539464, 1000), wire: 314, link: LinkEthernet}, warn: "wrapped around"},
		// SPB first: no timestamp yet.
		{file: "spb.pcapng", n: 4, first: rec{ts: 0, wire: 314, link: LinkEthernet}, warn: "simple packet blocks"},
		{file: "three-sections-be-le-spb.pcapng", n: 8, first: rec{ts: 1340954905_298858000, wire: 314, link: LinkEthernet}, warn: "simple packet blocks"},
		{file: "null-and-ethernet-nrb-isb.pcapng", n: 5, first: rec{ts: 1340954905_298858000, wire: 314, link: LinkEthernet}, warn: "simple packet blocks"},
		// capinfos rejects version 2.0; jj reads it with a warning.
		{file: "shb-version-2.0.pcapng", n: 3, first: rec{ts: 1340954905_298858000, wire: 314, link: LinkEthernet}, warn: "version 2.0, read as 1.0"},
		{file: "linktype-271-vsock.pcapng", openErr: ErrLinkType},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			rd, got, err := readBytes(t, b, tt.file)
			if tt.openErr != nil {
				if rd != nil || !errors.Is(err, tt.openErr) {
					t.Fatalf("NewReader error = %v, want %v", err, tt.openErr)
				}
				return
			}
			if rd == nil {
				t.Fatalf("NewReader: %v", err)
			}
			if err != io.EOF {
				t.Errorf("Next = %v, want io.EOF", err)
			}
			if len(got) != tt.n {
				t.Fatalf("got %d records, want %d", len(got), tt.n)
			}
			got[0].data = ""
			if got[0] != tt.first {
				t.Errorf("first record = %+v, want %+v", got[0], tt.first)
			}
			if w := strings.Join(rd.Warnings(), "\n"); !strings.Contains(w, tt.warn) {
				t.Errorf("Warnings() = %q, want one containing %q", w, tt.warn)
			}
		})
	}
}

// readBoth reads a capture twice, with nextEPB and without (ngFastPath),
// by open, and fails unless both give the same records, the same error
// (or none) on opening and at the end, and the same warnings. It returns
// the number of records.
func readBoth(t *testing.T, name string, open func() (Reader, error)) int {
	t.Helper()
	type result struct {
		recs     []rec
		openErr  string
		err      string
		warnings []string
	}
	read := func(fast bool) (res result) {
		saved := ngFastPath
		ngFastPath = fast
		defer func() { ngFastPath = saved }()
		rd, err := open()
		if err != nil {
			res.openErr = err.Error()
			return res
		}
		recs, err := readAll(t, rd)
		res.recs, res.err, res.warnings = recs, err.Error(), rd.Warnings()
		return res
	}
	slow, fast := read(false), read(true)
	if !reflect.DeepEqual(fast, slow) {
		n := min(len(fast.recs), len(slow.recs))
		for i := range n {
			if fast.recs[i] != slow.recs[i] {
				t.Errorf("%s: record %d differs: %+v with nextEPB, %+v without", name, i, short(fast.recs[i]), short(slow.recs[i]))
				break
			}
		}
		t.Errorf("%s: with nextEPB %d records, open error %q, error %q, warnings %q; without %d, %q, %q, %q",
			name, len(fast.recs), fast.openErr, fast.err, fast.warnings, len(slow.recs), slow.openErr, slow.err, slow.warnings)
	}
	return len(slow.recs)
}

// TestPcapngFastPath reads every pcapng input of the tests, those of the
// table tests, the testdata captures, copies of them cut short or with one
// length changed, and the corpus, with nextEPB and without: from a byte
// stream, whose buffer ends make nextEPB leave blocks to the general way,
// and from a mapped file. The records, errors and warnings must be the
// same.
func TestPcapngFastPath(t *testing.T) {
	inputs := map[string][]byte{}
	for _, c := range pcapngCases {
		inputs[c.name] = hx(t, c.in)
	}
	files, err := filepath.Glob("testdata/*.pcapng")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.pcapng: %v", err)
	}
	big := pcapngFile(3000, 1500) // past the stream's first buffer
	inputs["generated"] = big
	// Changed copies. The first packet block, at byte 56, is read the
	// general way while opening; the second, at 56+1532, is nextEPB's
	// first: a captured length one over the block's room, one over the
	// original length, a trailing length that differs, a length not a
	// multiple of 4 (with a trailing length to match), a timestamp past
	// 2262, a binary resolution (2^-8 s) with timestamps small enough
	// not to overflow, and another block type.
	const epb2 = 56 + 1532
	le := binary.LittleEndian
	for name, changes := range map[string][][2]uint32{
		"captured length past the block": {{epb2 + 20, 1500 + 1}, {epb2 + 24, 2000}},
		"captured length over original":  {{epb2 + 24, 1499}},
		"trailing length":                {{epb2 + 1532 - 4, 1536}},
		"length not a multiple of 4":     {{epb2 + 4, 1534}, {epb2 + 1534 - 4, 1534}},
		"timestamp past 2262":            {{epb2 + 12, 0x8000_0000}},
		"resolution 2^-8":                {{48, 0x88}, {56 + 12, 0}, {epb2 + 12, 0}, {epb2 + 1532 + 12, 0}},
		// Microseconds: the first packet's ticks small, the second's
		// past 2^64 ns (2^64/1000 < 0x418938·2^32).
		"microseconds past 2^64 ns": {{48, 6}, {56 + 12, 0}, {epb2 + 12, 0x418938}},
		// A block of another kind, its fields those of a packet block:
		// not a packet.
		"statistics block": {{epb2, blockISB}},
	} {
		b := bytes.Clone(big)
		for _, c := range changes {
			le.PutUint32(b[c[0]:], c[1])
		}
		inputs[name] = b
	}
	// An interface with an if_tsoffset of 100 s.
	idb := le.AppendUint32(nil, blockIDB)
	idb = le.AppendUint32(idb, 44)
	idb = le.AppendUint32(idb, 1) // Ethernet, reserved
	idb = le.AppendUint32(idb, 0) // snaplen
	idb = le.AppendUint32(le.AppendUint32(idb, optTSResol|1<<16), 9)
	idb = le.AppendUint64(le.AppendUint32(idb, optTSOffset|8<<16), 100)
	idb = le.AppendUint32(le.AppendUint32(idb, optEndOfOpt), 44)
	inputs["tsoffset"] = slices.Concat(big[:28], idb, big[56:])
	inputs["cut"] = big[:len(big)/2+3]
	inputs["packet of an undeclared interface"] = hx(t, shbLE+idbLE+epbLE+epb1LE)
	// A second packet block longer than maxBlockLen, its lengths
	// consistent: a lying length to the general way, read from a mapped
	// file (a stream never buffers it).
	long := bytes.Clone(big[:56+1532])
	n := maxBlockLen + 4
	long = le.AppendUint32(long, blockEPB)
	long = le.AppendUint32(long, uint32(n))
	long = append(long, big[56+8:56+28]...) // interface, timestamp, lengths
	long = append(long, make([]byte, n-32)...)
	long = le.AppendUint32(long, uint32(n))
	inputs["block over maxBlockLen"] = long
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = b
	}
	dir := t.TempDir()
	records, written := 0, 0
	for name, b := range inputs {
		records += readBoth(t, name+" (stream)", func() (Reader, error) { return NewReader(bytes.NewReader(b), name) })
		written++
		path := filepath.Join(dir, fmt.Sprint(written))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		records += readBoth(t, name+" (mapped)", func() (Reader, error) { return openReader(t, path) })
	}
	if records < 2*3000 {
		t.Fatalf("read %d records in all, want the generated capture's 3000 twice at least", records)
	}
	// nextEPB does read the blocks it is meant for: nanoseconds, and
	// microseconds in either byte order.
	for name, b := range map[string][]byte{
		"generated":         big,
		"microseconds":      hx(t, shbLE+idbLE+epbLE+epbLE),
		"microseconds (BE)": hx(t, shbBE+idbBE+epbBE+epbBE),
	} {
		rd, err := NewReader(bytes.NewReader(b), name)
		if err != nil {
			t.Fatal(err)
		}
		var first, second Record
		if err := rd.Next(&first); err != nil { // read while opening
			t.Fatal(err)
		}
		if !rd.(*ngReader).nextEPB(&second) {
			t.Errorf("%s: nextEPB left the second packet to the general way", name)
		} else if second.Timestamp < first.Timestamp || len(second.Data) == 0 {
			t.Errorf("%s: nextEPB read %+v after %+v", name, second, first)
		}
	}
	t.Run("corpus", func(t *testing.T) {
		for _, f := range corpusFiles(t) {
			readBoth(t, filepath.Base(f), func() (Reader, error) { return openReader(t, f) })
		}
	})
}

// openReader opens path with Open and closes it when the test ends.
func openReader(t *testing.T, path string) (Reader, error) {
	rd, c, err := Open(path)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return rd, err
}

// isbLE returns an interface statistics block of interface id with the
// isb_ifdrop and isb_osdrop options.
func isbLE(id, ifDrop, osDrop uint64) string {
	le := func(v uint64, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%02x ", byte(v>>(8*i)))
		}
		return b.String()
	}
	return "05 00 00 00 34 00 00 00 " + le(id, 4) + // type, length 52, interface
		"00 00 00 00 00 00 00 00 " + // timestamp
		"05 00 08 00 " + le(ifDrop, 8) + // isb_ifdrop
		"07 00 08 00 " + le(osDrop, 8) + // isb_osdrop
		"00 00 00 00 34 00 00 00" // end of options, length
}

// TestPcapngDropsWarned checks that the drop counts of interface
// statistics blocks are warned of: the latest block of each interface
// counts (they count from the start of the capture), summed over the
// interfaces of every section; a block of an interface not declared is
// passed over. Section 1: 5 + 7, after an earlier 3 + 4; section 2: 0 + 2.
func TestPcapngDropsWarned(t *testing.T) {
	file := hx(t, shbLE+idbLE+epbLE+isbLE(0, 3, 4)+epbLE+isbLE(0, 5, 7)+
		shbLE+idbLE+isbLE(0, 0, 2)+isbLE(9, 100, 100)+epbLE)
	rd, recs, err := readBytes(t, file, "drops.pcapng")
	if err != io.EOF || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	want := "drops.pcapng: the capture tool recorded 14 packets dropped while it captured (5 by the interface, 9 by the capturing system: pcapng interface statistics); they are in no flow"
	if w := rd.Warnings(); !slices.Equal(w, []string{want}) {
		t.Errorf("warnings %q, want %q", w, want)
	}
	// Without drops, no warning.
	rd, _, _ = readBytes(t, hx(t, shbLE+idbLE+epbLE+isbLE(0, 0, 0)), "none.pcapng")
	if w := rd.Warnings(); len(w) != 0 {
		t.Errorf("no drops: warnings %q", w)
	}
	// Through Open, as jj extract reads a file.
	path := filepath.Join(t.TempDir(), "drops.pcapng")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	rd, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := readAll(t, rd); err != io.EOF {
		t.Fatal(err)
	}
	if w := rd.Warnings(); len(w) != 1 || !strings.Contains(w[0], "recorded 14 packets dropped") {
		t.Errorf("Open: warnings %q", w)
	}
}

// TestInfoDrops checks that Info gives each interface the drop counts of
// its latest statistics block, as the warning of TestPcapngDropsWarned
// sums them: section 1's interface 5 and 7, section 2's 0 and 2.
func TestInfoDrops(t *testing.T) {
	file := hx(t, shbLE+idbLE+epbLE+isbLE(0, 3, 4)+epbLE+isbLE(0, 5, 7)+
		shbLE+idbLE+isbLE(0, 0, 2)+isbLE(9, 100, 100)+epbLE)
	path := filepath.Join(t.TempDir(), "drops.pcapng")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := Info(path)
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]uint64
	for _, ifc := range fi.Interfaces {
		got = append(got, [2]uint64{ifc.InterfaceDrops, ifc.SystemDrops})
	}
	if want := [][2]uint64{{5, 7}, {0, 2}}; !slices.Equal(got, want) {
		t.Errorf("drops by interface %v, want %v", got, want)
	}
}
