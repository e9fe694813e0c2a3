package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/pierrec/lz4/v4"
)

// addSeeds adds the testdata files whose names end in ext, the inputs of
// the table tests and the given annotated vectors to the fuzz corpus.
func addSeeds(f *testing.F, ext string, cases []readerCase, vectors ...string) {
	files, err := filepath.Glob("testdata/*" + ext)
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata/*%s seeds: %v", ext, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range cases {
		f.Add(hx(f, c.in))
	}
	for _, v := range vectors {
		f.Add(hx(f, v))
	}
}

// fuzzRead reads b and checks the invariants of any input: no panic, every
// error a *FileError wrapping a sentinel (a byte slice has no I/O errors),
// records no longer than MaxRecordLen and, for uncompressed input, made of
// bytes of the input, no link type rejected after NewReader, the same error
// again after the first, a bounded number of warnings. It returns what it
// read.
func fuzzRead(t *testing.T, b []byte) (opened bool, recs []rec, err error) {
	rd, err := NewReader(bytes.NewReader(b), "fuzz")
	if err != nil {
		checkErr(t, err)
		return false, nil, err
	}
	f, _ := detect(b)
	plain := f == formatPcap || f == formatPcapng
	var r Record
	for {
		if err = rd.Next(&r); err != nil {
			break
		}
		if len(r.Data) > MaxRecordLen {
			t.Fatalf("record of %d bytes, over MaxRecordLen", len(r.Data))
		}
		if plain && !bytes.Contains(b, r.Data) {
			t.Fatalf("record data %x is not part of the input", r.Data)
		}
		recs = append(recs, rec{r.Timestamp, string(r.Data), r.WireLen, r.LinkType, r.Interface})
	}
	checkErr(t, err)
	if errors.Is(err, ErrLinkType) {
		t.Fatalf("Next = %v: only NewReader rejects a link type", err)
	}
	if again := rd.Next(&r); again != err {
		t.Fatalf("Next after %v = %v, want the same error", err, again)
	}
	if w := rd.Warnings(); len(w) > maxWarnings+1 {
		t.Fatalf("%d warnings, want at most %d", len(w), maxWarnings+1)
	}
	ringSame(t, b, recs, err, rd.Warnings())
	return true, recs, err
}

// ringSame reads b through a ring of 64-byte buffers with 16 bytes of
// room, as Open reads a file it does not map, and fails unless it gives
// the records, the error and the warnings that a plain stream gave.
func ringSame(t *testing.T, b []byte, recs []rec, err error, warnings []string) {
	t.Helper()
	rd, in, rerr := ringNamed(bytes.NewReader(b), "fuzz", 16, 64, 2)
	if rerr != nil {
		t.Fatalf("through a ring, NewReader = %v, plain %d records then %v", rerr, len(recs), err)
	}
	defer in.close()
	var got []rec
	var r Record
	for {
		if rerr = rd.Next(&r); rerr != nil {
			break
		}
		got = append(got, rec{r.Timestamp, string(r.Data), r.WireLen, r.LinkType, r.Interface})
	}
	if rerr.Error() != err.Error() || !reflect.DeepEqual(got, recs) {
		t.Fatalf("through a ring, %d records then %v; plain %d then %v", len(got), rerr, len(recs), err)
	}
	if w := rd.Warnings(); !reflect.DeepEqual(w, warnings) {
		t.Fatalf("through a ring, warnings %q; plain %q", w, warnings)
	}
}

func FuzzPcap(f *testing.F) {
	addSeeds(f, ".pcap", pcapCases,
		pcapLEMicro+pcapLERecord+pcapLERecord,
		pcapBENano+pcapBERecord,
		pcapLEMicro+pcapLERecord+`01 00 00 00 00 00 00 00 ff ff ff ff`,
	)
	f.Add(gzipBytes(f, hx(f, pcapLEMicro+pcapLERecord)))
	f.Add(zstdBytes(f, hx(f, pcapBEMicro+pcapBERecord)))
	f.Add(lz4Bytes(f, hx(f, pcapLENano+pcapLERecord), lz4.BlockChecksumOption(true)))
	f.Add(lz4Bytes(f, hx(f, pcapLEMicro+pcapLERecord)))
	f.Add(xzBytes(f, hx(f, pcapBENano+pcapBERecord)))
	for _, name := range []string{"big-endian-sctp.pcap.bz2", "null-and-ethernet-nrb-isb.pcapng.sha256-blocks.xz"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		opened, got, err := fuzzRead(t, b)
		if f, _ := detect(b); f != formatPcap || !opened {
			return
		}
		// Differential: gopacket's pcapgo is stricter (it rejects versions
		// other than 2.4, incl_len > orig_len, and incl_len above both the
		// snaplen and 256 KiB), so whatever it reads to the end, we read
		// the same.
		pr, perr := pcapgo.NewReader(bytes.NewReader(b))
		if perr != nil {
			return
		}
		nano := binary.LittleEndian.Uint32(b) == 0xa1b23c4d || binary.BigEndian.Uint32(b) == 0xa1b23c4d
		for i := 0; ; i++ {
			data, ci, perr := pr.ReadPacketData()
			if perr != nil {
				// pcapgo v1.7.7 says io.EOF for a record header followed
				// by none of its data (io.ReadFull's answer when it reads
				// nothing); we say cut off, or corrupt for a length over
				// MaxRecordLen.
				cutBody := (errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt)) && pcapgoEmptyBody(b)
				if perr == io.EOF && (err != io.EOF || len(got) != i) && !(cutBody && len(got) == i) {
					t.Fatalf("pcapgo reads %d records to the end, we %d then %v", i, len(got), err)
				}
				return
			}
			if i >= len(got) {
				t.Fatalf("pcapgo reads record %d, we stop after %d with %v", i, len(got), err)
			}
			g := got[i]
			if g.data != string(data) || g.wire != uint32(ci.Length) || g.link != LinkType(pr.LinkType()) {
				t.Fatalf("record %d: got %+v, pcapgo %x %+v", i, short(g), data, ci)
			}
			// pcapgo computes ts_usec*1000 in uint32: past 4.29 s of
			// fraction its timestamp falls short by a multiple of 2^32 ns.
			if d := g.ts - ci.Timestamp.UnixNano(); d != 0 && (nano || d < 0 || d%(1<<32) != 0) {
				t.Fatalf("record %d: timestamp %d, pcapgo %d", i, g.ts, ci.Timestamp.UnixNano())
			}
		}
	})
}

// pcapgoEmptyBody reports whether the pcap file b ends with a record header
// of incl_len > 0 and no data, which pcapgo takes for a clean end. It walks
// the records as a reference reader would.
func pcapgoEmptyBody(b []byte) bool {
	big := binary.BigEndian.Uint32(b) == 0xa1b2c3d4 || binary.BigEndian.Uint32(b) == 0xa1b23c4d
	for off := 24; off+16 <= len(b); {
		incl := int(u32(b[off+8:], big))
		if off+16 == len(b) {
			return incl > 0
		}
		off += 16 + incl
	}
	return false
}

func FuzzPcapng(f *testing.F) {
	addSeeds(f, ".pcapng", pcapngCases,
		shbLE+idbLE+epbLE+spbLE,
		shbBE+idbBE+epbBE+shbLE+idb271LE+idbLE+epb1LE,
		shbLE+idb271LE+epbLE+shbBE+idbBE+epbBE,
	)
	f.Add(gzipBytes(f, hx(f, shbLE+idbLE+epbLE)))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b)
		// Differential: the same with nextEPB and without.
		readBoth(t, "fuzz", func() (Reader, error) { return NewReader(bytes.NewReader(b), "fuzz") })
	})
}
