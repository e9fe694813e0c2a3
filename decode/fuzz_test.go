package decode

import (
	"path/filepath"
	"testing"

	"github.com/jjflow/jj/capture"
)

// FuzzDecode decodes arbitrary bytes under a link type, with and without
// Decap. Invariants: no panic (no read outside the frame), payload never
// above length, a stack within MaxLayers that names an IP header, and
// decapsulation never losing a packet: a frame decodes with Decap exactly
// when it decodes without. Seeds: every record of the test captures, the
// tunnel frames and the hostile cases.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("../testdata/captures/*")
	for _, file := range files {
		recs, _ := readRecords(file)
		for _, r := range recs {
			f.Add(uint16(r.link), r.data, r.wire)
		}
	}
	for _, fr := range tunnelFrames() {
		data, wire := fr.Build()
		f.Add(uint16(capture.LinkEthernet), data, uint32(wire))
	}
	for _, c := range hostileCases() {
		f.Add(uint16(capture.LinkEthernet), c.data, c.wire)
	}
	f.Fuzz(func(t *testing.T, link uint16, data []byte, wire uint32) {
		lt := capture.LinkType(link)
		on := Decoder{Decap: true}
		var off Decoder
		var p, q Packet
		r1 := on.Decode(lt, data, wire, &p)
		r2 := off.Decode(lt, data, wire, &q)
		if (r1 == ReasonOK) != (r2 == ReasonOK) {
			t.Fatalf("decap %v (%s), no decap %v (%s)", r1, p.Hdrs, r2, q.Hdrs)
		}
		if r1 != ReasonOK {
			return
		}
		for _, x := range []*Packet{&p, &q} {
			if x.Payload > x.Length {
				t.Fatalf("%s: payload %d above length %d", x.Hdrs, x.Payload, x.Length)
			}
			if x.Hdrs.N == 0 || int(x.Hdrs.N) > MaxLayers {
				t.Fatalf("%d layers", x.Hdrs.N)
			}
			hasIP := false
			for _, l := range x.Hdrs.Layers[:x.Hdrs.N] {
				hasIP = hasIP || l == LayerIP || l == LayerIP6
				if l == LayerNone || l >= numLayers {
					t.Fatalf("layer %d in %v", l, x.Hdrs.Layers[:x.Hdrs.N])
				}
			}
			if !hasIP && x.Hdrs.N < MaxLayers {
				t.Fatalf("%s: no IP header", x.Hdrs)
			}
			if x.Flags&FlagPorts == 0 && (x.SrcPort != 0 || x.DstPort != 0) {
				t.Fatalf("%s: ports %d %d without FlagPorts", x.Hdrs, x.SrcPort, x.DstPort)
			}
		}
		// Without Decap the stack has at most one IP header.
		n := 0
		for _, l := range q.Hdrs.Layers[:q.Hdrs.N] {
			if l == LayerIP || l == LayerIP6 {
				n++
			}
		}
		if n != 1 && q.Hdrs.N < MaxLayers {
			t.Fatalf("no decap: %s", q.Hdrs)
		}
	})
}
