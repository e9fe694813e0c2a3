package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jjflow/jj/internal/testpkt"
)

// The sample's facts are those of capinfos (Wireshark 4.0.17): 18 packets,
// data size 3795 bytes, first packet 1704067200.000000, last
// 1704067201.200000, Ethernet, snaplen 65535, microseconds.
func TestInfoText(t *testing.T) {
	code, out, errs := runJJ(t, nil, "info", sample)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"format:      pcap 2.4, little-endian\n",
		"  #0     ETHERNET (1), snaplen 65535, timestamps in µs, 18 packets\n",
		"packets:     18\n",
		"bytes:       3795 on the wire, 3795 captured\n",
		"first:       2024-01-01 00:00:00.000000 UTC\n",
		"last:        2024-01-01 00:00:01.200000 UTC\n",
		"duration:    1.2s (1.2 s)\n",
		"cut off:     no\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInfoJSON(t *testing.T) {
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	cut := writeFile(t, "cut.pcap", data[:len(data)-10])
	code, out, errs := runJJ(t, data, "info", "-f", "json", sample, cut, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var infos []infoJSON
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 {
		t.Fatalf("%d files, want 3", len(infos))
	}
	s := infos[0]
	if s.Packets != 18 || s.WireBytes != 3795 || *s.FirstNS != 1704067200000000000 || *s.LastNS != 1704067201200000000 || s.Interfaces[0].LinkName != "ETHERNET" || !s.Interfaces[0].Decoded || s.CutOff {
		t.Errorf("sample = %+v", s)
	}
	if c := infos[1]; !c.CutOff || c.Packets != 17 || !strings.Contains(c.Error, "cut off") {
		t.Errorf("cut file = %+v", c)
	}
	if in := infos[2]; in.File != "stdin" || in.Packets != 18 || in.FileSize != -1 {
		t.Errorf("standard input = %+v", in)
	}
}

func TestInfoErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pcap")
	code, out, errs := runJJ(t, nil, "info", missing, sample)
	if code != exitInput || !strings.Contains(errs, "missing.pcap") || !strings.Contains(out, "packets:     18") {
		t.Errorf("missing file: exit %d, stderr %q; want exit 1 and the other file described", code, errs)
	}
	if code, _, _ := runJJ(t, nil, "info"); code != exitUsage {
		t.Errorf("no file: exit %d, want 2", code)
	}
	// In JSON, a file that could not be read is an entry of its name and
	// error, in its place among the others.
	code, out, errs = runJJ(t, nil, "info", "-f", "json", missing, sample)
	var infos []infoJSON
	if err := json.Unmarshal([]byte(out), &infos); err != nil || code != exitInput || !strings.Contains(errs, "missing.pcap") {
		t.Fatalf("missing file, JSON: exit %d, %v, stderr %q", code, err, errs)
	}
	if len(infos) != 2 || infos[0].File != missing || !strings.Contains(infos[0].Error, "no such file") || infos[1].Packets != 18 {
		t.Errorf("missing file, JSON: %+v; want its name and error, then the sample", infos)
	}
	text := writeFile(t, "notes.txt", []byte("not a capture\n"))
	if code, _, errs := runJJ(t, nil, "info", text); code != exitInput || !strings.Contains(errs, "not a pcap") {
		t.Errorf("text file: exit %d, %q", code, errs)
	}
	if code, out, _ := runJJ(t, nil, "info", "../../capture/testdata/linktype-160.pcap"); code != 0 || !strings.Contains(out, "USER13 (160), not decoded by jj") {
		t.Errorf("unsupported link type: exit %d\n%s", code, out)
	}
}

// TestInfoDurationText checks the duration in seconds written from the
// nanoseconds by one division (2 147 483 649 ns: 2.147483649, not
// d.Seconds()'s 2.1474836489999998) and a count of one packet.
func TestInfoDurationText(t *testing.T) {
	f := testpkt.Frame{Src: testpkt.Addr("10.0.0.1"), Dst: testpkt.Addr("10.0.0.2"), Proto: 17}
	g := f
	g.TS = 2_147_483_649
	one := writeFile(t, "one.pcap", testpkt.Pcap(f))
	two := writeFile(t, "two.pcap", testpkt.Pcap(f, g))
	for _, c := range []struct{ file, want string }{
		{two, "duration:    2.147s (2.147483649 s)\n"},
		{one, "timestamps in ns, 1 packet\n"},
	} {
		code, out, errs := runJJ(t, nil, "info", c.file)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("exit %d, stderr %q; output lacks %q:\n%s", code, errs, c.want, out)
		}
	}
}
