package extract

import (
	"fmt"
	"strings"
)

// Group is one row of the registry: a feature group and how to build it.
type Group struct {
	Name        string
	Description string
	// New builds the extractor. Options were validated by the caller.
	New func(o Options) Extractor
	// Explicit keeps the group out of "all": it must be named.
	Explicit bool
	// Light: the group's work per packet is no more than reading and
	// decoding the packet costs. A run of light groups alone balances a
	// reading goroutine and one flow-table worker on two cores (see
	// jj.Config.Workers).
	Light bool
}

// Registry lists every feature group in output order: a flow's columns are
// those of its groups, in this order, whatever order the user named them.
var Registry = []Group{
	{Name: "flow_meta", Description: "flow identity, times, packet and byte counts, rates, TCP state, header stack", New: func(o Options) Extractor { return NewFlowMeta(o) }, Light: true},
	{Name: "timing", Description: "inter-arrival time statistics (all, forward, backward), bursts and idle periods, first response time, optional IAT, timestamp and SPLT sequences", New: func(o Options) Extractor { return NewTiming(o) }},
	{Name: "size", Description: "packet and payload length distributions, dominant length, L7 byte counts, direction asymmetry, optional signed length sequence", New: func(o Options) Extractor { return NewSize(o) }},
	{Name: "tcp", Description: "TCP flag counts and ratios, handshake and close state, initial windows, retransmissions, out-of-order segments, duplicate ACKs, handshake RTT", New: func(o Options) Extractor { return NewTCP(o) }},
	{Name: "connection", Description: "relations between flows through their endpoints (nodes are IP addresses, or IP:port with connection_use_ports): fan-out, fan-in, pair and port flow counts, node packet and byte totals, degrees; optional graph metrics (betweenness, Louvain communities, clustering) and temporal patterns. Scope capture (the default for files) counts the whole input, so each row also counts flows that start after it: a look-ahead that a model trained on these columns will not have when it scores live traffic; scope causal counts only what happened by each flow's last packet. Runs on one worker; scope capture reads the input twice; not part of all: name it", New: func(o Options) Extractor { return NewConnection(o) }, Explicit: true},
}

// Names returns the registered group names, in registry order.
func Names() []string {
	names := make([]string, len(Registry))
	for i, g := range Registry {
		names[i] = g.Name
	}
	return names
}

// Resolve turns the user's feature list ("flow_meta", "timing,size", "all")
// into registry rows in registry order, rejecting unknown names.
func Resolve(features []string) ([]Group, error) {
	want := map[string]bool{}
	for _, f := range features {
		for _, given := range strings.Split(f, ",") {
			given = strings.TrimSpace(given)
			name := strings.ToLower(given)
			if name == "" {
				continue
			}
			if name == "all" {
				// Every one-pass group: connection changes how the run
				// goes (one worker, two passes) and is asked for by name.
				for _, g := range Registry {
					if !g.Explicit {
						want[g.Name] = true
					}
				}
				continue
			}
			found := false
			for _, g := range Registry {
				if g.Name == name {
					found = true
				}
			}
			if !found {
				return nil, &UnknownGroupError{Name: given} // as written
			}
			want[name] = true
		}
	}
	if len(want) == 0 {
		want["flow_meta"] = true
	}
	var groups []Group
	for _, g := range Registry {
		if want[g.Name] {
			groups = append(groups, g)
		}
	}
	return groups, nil
}

// Build resolves the feature list and builds one extractor per group.
func Build(features []string, o Options) ([]Extractor, error) {
	groups, err := Resolve(features)
	if err != nil {
		return nil, err
	}
	exs := make([]Extractor, len(groups))
	for i, g := range groups {
		exs[i] = g.New(o)
	}
	shareLog(exs)
	return exs, nil
}

// UnknownGroupError is Resolve's error for a name that is no feature group.
type UnknownGroupError struct{ Name string }

func (e *UnknownGroupError) Error() string {
	return fmt.Sprintf("unknown feature group %q (known: %s, all)", e.Name, strings.Join(Names(), ", "))
}
