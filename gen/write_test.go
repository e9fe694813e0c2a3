package gen

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// TestWriteHeader pins the file headers to the tcpdump.org specifications
// (pcap: draft-ietf-opsawg-pcap; pcapng: draft-ietf-opsawg-pcapng), byte by
// byte, little-endian.
func TestWriteHeader(t *testing.T) {
	pcap := func(magic ...byte) []byte {
		return append(magic,
			0x02, 0x00, 0x04, 0x00, // version 2.4
			0x00, 0x00, 0x00, 0x00, // thiszone
			0x00, 0x00, 0x00, 0x00, // sigfigs
			0x00, 0x00, 0x04, 0x00, // snaplen 262144
			0x01, 0x00, 0x00, 0x00, // LINKTYPE_ETHERNET
		)
	}
	for _, tc := range []struct {
		format Format
		want   []byte
	}{
		{FormatPcap, pcap(0xd4, 0xc3, 0xb2, 0xa1)},
		{FormatPcapNano, pcap(0x4d, 0x3c, 0xb2, 0xa1)},
		{FormatPcapNG, []byte{
			0x0a, 0x0d, 0x0d, 0x0a, // SHB
			0x2c, 0x00, 0x00, 0x00, // block length 44
			0x4d, 0x3c, 0x2b, 0x1a, // byte-order magic
			0x01, 0x00, 0x00, 0x00, // version 1.0
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // section length unknown
			0x04, 0x00, 0x06, 0x00, 'j', 'j', '/', 'g', 'e', 'n', 0, 0, // shb_userappl
			0x00, 0x00, 0x00, 0x00, // opt_endofopt
			0x2c, 0x00, 0x00, 0x00, // block length 44
			0x01, 0x00, 0x00, 0x00, // IDB
			0x20, 0x00, 0x00, 0x00, // block length 32
			0x01, 0x00, 0x00, 0x00, // LINKTYPE_ETHERNET, reserved
			0x00, 0x00, 0x04, 0x00, // snaplen 262144
			0x09, 0x00, 0x01, 0x00, 0x09, 0, 0, 0, // if_tsresol 9
			0x00, 0x00, 0x00, 0x00, // opt_endofopt
			0x20, 0x00, 0x00, 0x00, // block length 32
		}},
	} {
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		if err := writeHeader(bw, tc.format); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		if !bytes.Equal(buf.Bytes(), tc.want) {
			t.Errorf("%v header =\n% x\nwant\n% x", tc.format, buf.Bytes(), tc.want)
		}
	}
}

// TestWriteRecord pins one record of each format for a 5-byte frame at
// 2024-01-01T00:00:00.123456789Z (1704067200 s).
func TestWriteRecord(t *testing.T) {
	const ts = 1704067200_123456789
	frame := []byte{1, 2, 3, 4, 5}
	pcapRec := func(frac ...byte) []byte {
		b := []byte{0x80, 0x00, 0x92, 0x65} // 1704067200 = 0x65920080
		b = append(b, frac...)
		b = append(b, 5, 0, 0, 0, 5, 0, 0, 0) // captured, original length
		return append(b, frame...)
	}
	for _, tc := range []struct {
		format Format
		want   []byte
	}{
		{FormatPcap, pcapRec(0x40, 0xe2, 0x01, 0x00)},     // 123456 µs
		{FormatPcapNano, pcapRec(0x15, 0xcd, 0x5b, 0x07)}, // 123456789 ns
		{FormatPcapNG, []byte{
			0x06, 0x00, 0x00, 0x00, // EPB
			0x28, 0x00, 0x00, 0x00, // block length 40 = 32 + 5 + 3 padding
			0x00, 0x00, 0x00, 0x00, // interface 0
			0x17, 0x10, 0xa6, 0x17, // timestamp high: 0x17a61017_08c0cd15 ns
			0x15, 0xcd, 0xc0, 0x08, // timestamp low
			0x05, 0x00, 0x00, 0x00, // captured length
			0x05, 0x00, 0x00, 0x00, // original length
			1, 2, 3, 4, 5, 0, 0, 0, // data, padding
			0x28, 0x00, 0x00, 0x00, // block length
		}},
	} {
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		if err := writeRecord(bw, tc.format, ts, frame, uint32(len(frame))); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		if !bytes.Equal(buf.Bytes(), tc.want) {
			t.Errorf("%v record =\n% x\nwant\n% x", tc.format, buf.Bytes(), tc.want)
		}
	}
}

func TestFormatText(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Format
		err  bool
	}{
		{"pcap", FormatPcap, false},
		{"pcap-ns", FormatPcapNano, false},
		{"pcapng", FormatPcapNG, false},
		{"PCAP", 0, true},
		{"", 0, true},
	} {
		var f Format
		err := f.UnmarshalText([]byte(tc.text))
		if tc.err {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("UnmarshalText(%q) error = %v, want ErrFormat", tc.text, err)
			}
			continue
		}
		if err != nil || f != tc.want {
			t.Errorf("UnmarshalText(%q) = %v, %v, want %v", tc.text, f, err, tc.want)
		}
		if b, err := f.MarshalText(); err != nil || string(b) != tc.text {
			t.Errorf("%v.MarshalText() = %q, %v, want %q", f, b, err, tc.text)
		}
	}
	if _, err := Format(9).MarshalText(); !errors.Is(err, ErrFormat) {
		t.Errorf("Format(9).MarshalText() error = %v, want ErrFormat", err)
	}
}
