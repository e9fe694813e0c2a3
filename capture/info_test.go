package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// infoCorpus is the shared corpus of real and hostile captures.
const infoCorpus = "../../shared/pcaps"

func TestInfo(t *testing.T) {
	type iface struct {
		link       LinkType
		snap       uint32
		res        string
		packets    uint64
		supported  bool
		section, i int
	}
	tests := []struct {
		file      string
		format    string
		version   string
		big       bool
		sections  int
		packets   uint64
		ifaces    []iface
		truncated bool
	}{
		// Values from capinfos (Wireshark 4.0.17) and the testdata README.
		{"big-endian-sctp.pcap", "pcap", "2.4", true, 1, 4, []iface{{1, 65535, "µs", 4, true, 0, 0}}, false},
		{"nano-sll.pcap", "pcap", "2.4", false, 1, 3, []iface{{113, 262144, "ns", 3, true, 0, 0}}, false},
		{"linktype-160.pcap", "pcap", "2.4", false, 1, 1, nil, false}, // interfaces checked below
		{"cut-first-record-v2.0-fcs-bits.pcap", "pcap", "2.0", false, 1, 0, nil, true},
		{"null-and-ethernet-nrb-isb.pcapng", "pcapng", "1.0", false, 1, 5, []iface{
			{1, 96, "µs", 3, true, 0, 0}, {0, 0, "µs", 1, true, 0, 1}, {1, 0, "µs", 1, true, 0, 2}}, false},
		{"three-sections-be-le-spb.pcapng", "pcapng", "1.0", false, 3, 8, nil, false}, // the first section is little-endian,
		{"linktype-271-vsock.pcapng", "pcapng", "1.0", false, 1, 10, []iface{{271, 262144, "ns", 10, false, 0, 0}}, false},
		{"tsresol-2-8-be.pcapng", "pcapng", "1.0", true, 1, 1, nil, false},
		{"tsresol-nano.pcapng", "pcapng", "1.0", false, 1, 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fi, err := Info(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatalf("Info: %v", err)
			}
			if fi.Format != tt.format || fi.Version != tt.version || fi.BigEndian != tt.big || fi.Sections != tt.sections {
				t.Errorf("format %s %s big-endian %v, %d sections; want %s %s %v, %d", fi.Format, fi.Version, fi.BigEndian, fi.Sections, tt.format, tt.version, tt.big, tt.sections)
			}
			if fi.Packets != tt.packets || fi.Truncated != tt.truncated {
				t.Errorf("%d packets, truncated %v; want %d, %v", fi.Packets, fi.Truncated, tt.packets, tt.truncated)
			}
			if tt.ifaces != nil {
				if len(fi.Interfaces) != len(tt.ifaces) {
					t.Fatalf("interfaces = %+v, want %d", fi.Interfaces, len(tt.ifaces))
				}
				for i, w := range tt.ifaces {
					g := fi.Interfaces[i]
					if g.LinkType != w.link || g.SnapLen != w.snap || g.Resolution != w.res || g.Packets != w.packets || g.Supported() != w.supported || g.Section != w.section || g.Index != w.i {
						t.Errorf("interface %d = %+v (supported %v), want %+v", i, g, g.Supported(), w)
					}
				}
			}
			st, _ := os.Stat(filepath.Join("testdata", tt.file))
			if fi.FileSize != st.Size() {
				t.Errorf("FileSize = %d, want %d", fi.FileSize, st.Size())
			}
		})
	}

	fi, err := Info("testdata/linktype-160.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if ifc := fi.Interfaces[0]; ifc.LinkType != 160 || ifc.Supported() || ifc.LinkName() != "USER13" {
		t.Errorf("link type 160: %+v %s", ifc, ifc.LinkName())
	}
	fi, _ = Info("testdata/three-sections-be-le-spb.pcapng")
	var perSection [3]int
	var n uint64
	for _, ifc := range fi.Interfaces {
		perSection[ifc.Section]++
		n += ifc.Packets
	}
	if len(fi.Interfaces) != 5 || n != fi.Packets {
		t.Errorf("three sections: %d interfaces with %d packets, want 5 with %d", len(fi.Interfaces), n, fi.Packets)
	}
	if fi, _ := Info("testdata/tsresol-2-8-be.pcapng"); fi.Interfaces[0].Resolution != "2^-8 s" {
		t.Errorf("tsresol 2^-8: resolution %q", fi.Interfaces[0].Resolution)
	}
}

// TestInfoMatchesReader checks that Info counts what a Reader returns, on
// every testdata capture and corpus file that Open accepts, compressed with
// gzip too. (TestCompressedFixtures checks Info on the compressed ones.)
func TestInfoMatchesReader(t *testing.T) {
	var files []string
	for _, ext := range []string{"pcap", "pcapng"} {
		f, _ := filepath.Glob("testdata/*." + ext)
		files = append(files, f...)
	}
	if entries, err := os.ReadDir(infoCorpus); err == nil {
		for _, e := range entries {
			if n := e.Name(); !strings.HasSuffix(n, ".md") && !strings.HasSuffix(n, ".tsv") && e.Type().IsRegular() {
				files = append(files, filepath.Join(infoCorpus, n))
			}
		}
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			rd, c, err := Open(file)
			if err != nil {
				return // link types jj does not decode: Info still reads them
			}
			defer c.Close()
			var rec Record
			var n, captured, wire uint64
			for rerr := rd.Next(&rec); rerr == nil; rerr = rd.Next(&rec) {
				n++
				captured += uint64(len(rec.Data))
				wire += uint64(rec.WireLen)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(data)
			zw.Close()
			for _, src := range []struct {
				name string
				fi   func() (*FileInfo, error)
			}{
				{"file", func() (*FileInfo, error) { return Info(file) }},
				{"gzip", func() (*FileInfo, error) { return InfoReader(&gz, "x.gz") }},
			} {
				fi, err := src.fi()
				if err != nil {
					t.Fatalf("%s: %v", src.name, err)
				}
				if fi.Packets != n || fi.CapturedBytes != captured || fi.WireBytes != wire {
					t.Errorf("%s: Info counts %d packets, %d/%d bytes; the reader %d, %d/%d", src.name, fi.Packets, fi.CapturedBytes, fi.WireBytes, n, captured, wire)
				}
				if (src.name == "gzip") != (fi.Compression == "gzip") {
					t.Errorf("%s: compression %q", src.name, fi.Compression)
				}
			}
		})
	}
}

func TestInfoCutAndErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/big-endian-sctp.pcap")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := InfoReader(bytes.NewReader(data[:len(data)-3]), "cut")
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Truncated || fi.Packets != 3 || !errors.Is(fi.Err, ErrTruncated) {
		t.Errorf("cut file: %d packets, truncated %v, err %v; want 3, true, ErrTruncated", fi.Packets, fi.Truncated, fi.Err)
	}
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"text", []byte("hello, world\n"), ErrNotCapture},
		{"cut header", data[:10], ErrTruncated},
	} {
		if _, err := InfoReader(bytes.NewReader(tt.data), tt.name); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := Info("testdata/no-such-file.pcap"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := Info("testdata"); err == nil {
		t.Error("directory: no error")
	}
}

// TestInfoCapinfos compares packets, data size, first and last packet
// times and time order with capinfos on the corpus, when Wireshark's
// capinfos is installed. Files capinfos rejects are left out, as are the
// fields it prints as n/a or Unknown.
func TestInfoCapinfos(t *testing.T) {
	capinfos, err := exec.LookPath("capinfos")
	if err != nil {
		t.Skip("capinfos not installed (apt-get install tshark)")
	}
	entries, err := os.ReadDir(infoCorpus)
	if err != nil {
		t.Skipf("shared corpus not available: %v", err)
	}
	compared := 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".tsv") || !e.Type().IsRegular() {
			continue
		}
		file := filepath.Join(infoCorpus, name)
		t.Run(name, func(t *testing.T) {
			// -T -r: one tab-separated line: file, packets, data size,
			// start time, end time, strict time order.
			out, err := exec.Command(capinfos, "-T", "-r", "-M", "-c", "-d", "-a", "-e", "-S", "-o", file).Output()
			if err != nil {
				t.Skipf("capinfos rejects it: %v", err)
			}
			f := strings.Split(strings.TrimRight(string(out), "\n"), "\t")
			if len(f) != 6 {
				t.Fatalf("capinfos output %q", out)
			}
			fi, err := Info(file)
			if err != nil {
				t.Fatalf("Info: %v (capinfos reads it)", err)
			}
			if fi.Err != nil {
				t.Fatalf("Info stops at %v (capinfos reads it all)", fi.Err)
			}
			compared++
			check := func(what, capText, ours string) {
				if capText != "n/a" && capText != "Unknown" && capText != ours {
					t.Errorf("%s: capinfos %s, jj %s", what, capText, ours)
				}
			}
			check("packets", f[1], strconv.FormatUint(fi.Packets, 10))
			check("data size", f[2], strconv.FormatUint(fi.WireBytes, 10))
			// Timestamps capinfos cannot print (fractions of a second of a
			// second or more come out as "s.-f") or that jj wraps around
			// (after 2262, with a warning) are not compared.
			wrapped := strings.Contains(strings.Join(fi.Warnings, "\n"), "outside the years 1677 to 2262")
			if fi.Packets > 0 && !wrapped && !strings.Contains(f[3]+f[4], ".-") {
				check("first packet time", f[3], decimalTime(fi.Earliest, f[3]))
				check("last packet time", f[4], decimalTime(fi.Latest, f[4]))
			}
			check("strict time order", f[5], map[bool]string{true: "True", false: "False"}[fi.InOrder])
		})
	}
	if compared < 50 {
		t.Errorf("compared %d files with capinfos, want the corpus (over 50)", compared)
	}
}

// decimalTime renders ns as seconds with as many decimals as like has, the
// way capinfos -S prints a time at the file's precision.
func decimalTime(ns int64, like string) string {
	digits := 0
	if i := strings.IndexByte(like, '.'); i >= 0 {
		digits = len(like) - i - 1
	}
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	s := strconv.FormatInt(sec, 10)
	if digits > 0 {
		f := strconv.FormatInt(1e9+frac, 10)[1:] // 9 digits
		for len(f) < digits {
			f += "0"
		}
		s += "." + f[:digits]
	}
	return s
}

func BenchmarkInfo(b *testing.B) {
	data, err := os.ReadFile("testdata/three-sections-be-le-spb.pcapng")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InfoReader(bytes.NewReader(data), "x"); err != nil {
			b.Fatal(err)
		}
	}
}
