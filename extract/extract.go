// Package extract defines the feature extractors: the fourth stage of the
// pipeline (capture → decode → flow → extract → output).
//
// An extractor fixes its columns when it is built. The flow table then hands
// it batches of packet references (Observe) and, when a flow ends, asks it
// to append that flow's values to an output batch (Emit). Per-flow state
// lives in slices indexed by the flow's slot, so a new flow costs no
// allocation and no interface value, and the interface dispatch is paid once
// per batch rather than once per packet.
//
// Adding an extractor means one file and its test in this package and one
// row in the registry (registry.go); the flow table does not change.
package extract

import (
	"github.com/jjflow/jj/decode"
	"github.com/jjflow/jj/output"
)

// Dir is a packet's direction within its flow.
type Dir uint8

// Directions.
const (
	Fwd Dir = 0 // initiator → responder
	Bwd Dir = 1 // responder → initiator
)

// Ref is one packet as the flow table hands it to extractors.
type Ref struct {
	// Slot identifies the flow. Slots are reused after a flow is emitted.
	Slot uint32
	// Dir is the packet's direction in the flow.
	Dir Dir
	// New is true for the flow's first packet: the extractor must start the
	// slot's state afresh.
	New bool
	// Index is the packet's position in the input (0-based, over all files).
	Index uint64
	// Pkt is the decoded packet, valid only during the Observe call.
	Pkt *decode.Packet
}

// Flow is what the flow table knows about a flow when it ends. Extractors
// read it in Emit; it is valid only during that call.
type Flow struct {
	// Src and Dst are the initiator's and responder's addresses (IPv4 in the
	// first 4 bytes unless V6), SrcPort and DstPort their ports.
	Src, Dst         [16]byte
	SrcPort, DstPort uint16
	V6               bool
	Proto            uint8
	// First and Last are the earliest and latest timestamps (ns).
	First, Last int64
	// Counts are its per-direction packet, byte and payload totals.
	Counts Counts
	// FlowStat is the flow_stat bitmap (flow-meta.md §4).
	FlowStat uint8
	// Hdrs is the header stack of the flow's first packet.
	Hdrs *decode.Stack
	// HdrDesc is Hdrs's text (decode.Stack.AppendTo), which the flow
	// table makes once a stack, or "" if the caller left it to Emit.
	HdrDesc string
	// StartIndex is the input position of the flow's first packet.
	StartIndex uint64
}

// Counts are a flow's per-direction totals, indexed by Dir. The flow table
// keeps them in its own entry for the flow, which every packet touches
// anyway: an extractor that kept them would cost each packet another cache
// miss on its own state.
type Counts struct {
	Packets [2]uint64
	Bytes   [2]uint64 // IP bytes (decode.Packet.Length)
	Payload [2]uint64 // payload bytes (decode.Packet.Payload)
}

// Extractor computes one feature group.
type Extractor interface {
	// Name returns the feature group name ("flow_meta", "timing", ...).
	Name() string
	// Columns returns the columns the extractor emits, in order. Fixed at
	// construction.
	Columns() []output.Column
	// Observe folds a batch of packets into the flows' state. Refs of one
	// flow come in capture order; a Ref with New set starts its slot afresh.
	Observe(refs []Ref)
	// Emit appends the flow's values to b, one per column starting at
	// column base, and releases the slot's state (series, buffers).
	Emit(slot uint32, f *Flow, b *output.Batch, base int)
}

// Prefetcher is implemented by extractors whose Emit reads per-flow state
// that is mostly a cache miss by then. The flow table calls Prefetch for
// a flow a few rows before its Emit, twice: stage 0 first, for the
// state's own records, and stage 1 prefetch.Ahead rows later, when those
// are in cache, for the buffers they point to; the misses then overlap the
// rows in between. Prefetch must not fault or change anything, whatever
// the slot.
type Prefetcher interface {
	Prefetch(slot uint32, stage int)
}

// Releaser is implemented by extractors that keep memory a later extractor
// of their kind can take over (their per-flow state's chunks). The flow
// table calls Release from its own Release, usually once it has ended
// every flow; either way the extractor is then empty, as if new, and may
// observe again (the connection group's second pass).
type Releaser interface {
	Release()
}

// Passive is implemented by extractors whose Observe does nothing, which
// compute every column at Emit from the Flow alone (flow_meta). A flow
// table whose extractors are all passive does not hand them packets.
type Passive interface {
	Extractor
	Passive()
}

// Options are the extractor options of jj's Config, validated by the
// caller before any extractor is built.
type Options struct {
	IncludeIPAddresses bool
	IncludePorts       bool
	AnonymizeIPs       bool
	AnonymizationSalt  string
	IncludeFlowID      bool

	// Timing and size options (extractors.md).
	BurstThresholdMs    float64
	IncludeRawSequences bool
	IncludeSPLT         bool
	MaxSequenceLength   int

	// AnonymizeMode is "hash" or "prefix" (with AnonymizeIPs).
	AnonymizeMode string

	// Connection options (extractors.md, connection).
	ConnectionScope        string // "capture" or "causal"
	ConnectionUsePorts     bool
	ConnectionGraphMetrics bool
	ConnectionTemporal     bool
}

// grow returns s with length at least n, keeping its contents; new
// elements are zero. It grows capacity geometrically so that slot arrays
// reach their size in few steps.
func grow[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		return s[:n]
	}
	c := 2 * cap(s)
	if c < n {
		c = n
	}
	if c < 64 {
		c = 64
	}
	ns := make([]T, n, c)
	copy(ns, s)
	return ns
}

// MultiPass is implemented by extractors that need the whole input before
// their first row, such as the connection extractor in capture scope. The
// pipeline then reads the input Passes() times with the same extractor
// instance, calling StartPass(n) before pass n (1-based); only the last
// pass's rows are written. Standard input cannot be read twice, so such an
// extractor fails the run there.
type MultiPass interface {
	Passes() int
	StartPass(n int)
}

// Sequential is implemented by extractors whose state spans flows (the
// connection extractor): the pipeline then runs one flow table, which sees
// every packet in input order, instead of one per worker.
type Sequential interface {
	Sequential() bool
}
