package capture

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// manifestCounts reads the capinfos -c packet counts of the corpus
// manifest; files that capinfos could not read are left out.
func manifestCounts(tb testing.TB) map[string]int {
	tb.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		tb.Skipf("corpus manifest not available: %v", err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		// file, source_repo, source_path, sha256, bytes, format, linktype, packets, notes
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 8 {
			continue
		}
		if n, err := strconv.Atoi(fields[7]); err == nil {
			counts[fields[0]] = n
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return counts
}

// TestCorpus opens every corpus file with Open and reads it to the end or to
// an error wrapping a sentinel, and checks the record count against
// capinfos -c (Wireshark 4.0.17) from the manifest. Rejected files are
// those of link types jj does not decode.
func TestCorpus(t *testing.T) {
	counts := manifestCounts(t)
	for _, file := range corpusFiles(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			rd, c, err := Open(file)
			if err != nil {
				checkErr(t, err)
				var lte *LinkTypeError
				if !errors.As(err, &lte) {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			defer c.Close()
			recs, err := readAll(t, rd)
			checkErr(t, err)
			if p := rd.(Progress); err == io.EOF && p.BytesRead() != p.Size() {
				t.Errorf("BytesRead() = %d at the end, want Size() = %d", p.BytesRead(), p.Size())
			}
			want, ok := counts[name]
			switch {
			case !ok:
				// capinfos cannot read it; the manifest notes what a
				// tolerant parser gets, which TestCorpusUnreadable checks.
			case err != io.EOF:
				t.Errorf("read %d records then %v; capinfos counts %d", len(recs), err, want)
			case len(recs) != want:
				t.Errorf("read %d records, capinfos counts %d", len(recs), want)
			}
		})
	}
}

// TestCorpusUnreadable pins what jj makes of the corpus files capinfos
// rejects.
func TestCorpusUnreadable(t *testing.T) {
	corpusFiles(t)
	tests := []struct {
		file string
		n    int
		err  error // nil for io.EOF
		off  int64
	}{
		// A record claiming 524501 bytes with 199 present.
		{"ndpi__fuzz-2021-10-13.pcap", 0, ErrTruncated, 24},
		// Trailing garbage after record 18: incl_len 3925868813.
		{"suricata__smtp-to-comma__10.7.29.101_49898-178.63.41.150_25.pcap", 18, ErrCorrupt, 3695},
		// Sections of version 2.0, read as 1.0 with a warning.
		{"gopacket__pcapgo-le-test901.pcapng", 3, nil, 0},
		// 18 sections; in the one at offset 580352 two EPBs name interface
		// 1 of a section that declares only interface 0: left out, with a
		// warning, and the rest read: 27 226 of the 27 228 packet blocks
		// the corpus MANIFEST counts (capinfos refuses the file).
		{"wireshark__BT_USB_LinCooked_Eth_80211_RT.ntar", 27226, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rd, c, err := Open(filepath.Join(corpusDir, tt.file))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer c.Close()
			recs, err := readAll(t, rd)
			if len(recs) != tt.n {
				t.Errorf("read %d records, want %d", len(recs), tt.n)
			}
			if tt.err == nil {
				if err != io.EOF {
					t.Errorf("Next = %v, want io.EOF", err)
				}
				return
			}
			var fe *FileError
			if !errors.Is(err, tt.err) || !errors.As(err, &fe) || fe.Offset != tt.off {
				t.Errorf("Next = %v, want %v at offset %d", err, tt.err, tt.off)
			}
		})
	}
}

// TestCapinfos compares the record counts of the testdata captures with
// those of capinfos -c, when Wireshark's capinfos is installed. Files that
// capinfos reports an error for are left out.
func TestCapinfos(t *testing.T) {
	capinfos, err := exec.LookPath("capinfos")
	if err != nil {
		t.Skip("capinfos not installed")
	}
	files, err := filepath.Glob("testdata/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, err := exec.Command(capinfos, "-c", "-M", "-T", "-r", file).Output()
			if err != nil {
				t.Skipf("capinfos fails: %v", err)
			}
			// -T -r: one line "file<TAB>count".
			fields := strings.Fields(string(out))
			want, err := strconv.Atoi(fields[len(fields)-1])
			if err != nil {
				t.Fatalf("capinfos output %q: %v", out, err)
			}
			rd, c, err := Open(file)
			if errors.Is(err, ErrLinkType) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			recs, err := readAll(t, rd)
			if err != io.EOF || len(recs) != want {
				t.Errorf("read %d records then %v, capinfos counts %d", len(recs), err, want)
			}
		})
	}
}
