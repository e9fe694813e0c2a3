package main

import (
	"errors"
	"slices"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/extract"
)

// checkEffective looks for options, from the flags or the config file,
// that would change nothing with the feature groups and other options
// chosen, and returns a warning for each, naming the option as a flag and
// as a config key (the run's summary warns of anonymization without a
// salt): a user who gives --include-sequences without timing
// or size should hear that no column came of it. --anonymize-mode given
// on the command line (modeFlag) without anonymize_ips, any mode, is an error
// instead: the user asked for anonymized addresses and would get them
// as they are. The config was validated.
func checkEffective(cfg jj.Config, modeFlag bool) (warnings []string, err error) {
	groups, err := extract.Resolve(cfg.Features)
	if err != nil {
		return nil, err
	}
	has := func(names ...string) bool {
		return slices.ContainsFunc(groups, func(g extract.Group) bool { return slices.Contains(names, g.Name) })
	}
	def := jj.DefaultConfig()
	warn := func(what, needs string) {
		warnings = append(warnings, what+" has no effect without "+needs)
	}
	// flow_meta's columns: addresses, ports and flow ids.
	ips := has("flow_meta") && cfg.IncludeIPAddresses
	anonymizes := ips && cfg.AnonymizeIPs
	flowIDs := has("flow_meta") && cfg.IncludeFlowID
	if modeFlag && !cfg.AnonymizeIPs { // whatever the mode, the default hash too
		return nil, &usageError{errors.New("option --anonymize-mode (anonymize_mode) applies only with --anonymize-ips (anonymize_ips): the IP addresses would be written as they are")}
	}
	if cfg.AnonymizeMode != def.AnonymizeMode && !anonymizes {
		warn("--anonymize-mode (anonymize_mode)", "IP addresses to anonymize (--anonymize-ips, with flow_meta's src_ip and dst_ip)")
	}
	if !has("flow_meta") {
		for _, o := range []struct {
			set  bool
			name string
		}{
			{!cfg.IncludeIPAddresses, "--no-ips (include_ip_addresses: false)"},
			{!cfg.IncludePorts, "--no-ports (include_ports: false)"},
			{cfg.AnonymizeIPs, "--anonymize-ips (anonymize_ips)"},
			{cfg.IncludeFlowID, "--include-flow-id (include_flow_id)"},
		} {
			if o.set {
				warn(o.name, "the flow_meta features, whose columns it changes")
			}
		}
	} else if cfg.AnonymizeIPs && !cfg.IncludeIPAddresses {
		warn("--anonymize-ips (anonymize_ips)", "the IP address columns (--no-ips leaves them out)")
	}
	if cfg.IncludeRawSequences && !has("timing", "size") {
		warn("--include-sequences (include_raw_sequences)", "the timing or size features")
	}
	if cfg.IncludeSPLT && !has("timing") {
		warn("--include-splt (include_splt)", "the timing features")
	}
	if cfg.BurstThresholdMs != def.BurstThresholdMs && !has("timing") {
		warn("--burst-threshold-ms (burst_threshold_ms)", "the timing features")
	}
	seqs := has("timing", "size") && cfg.IncludeRawSequences || has("timing") && cfg.IncludeSPLT
	if cfg.MaxSequenceLength != def.MaxSequenceLength && !seqs {
		warn("--max-sequence-length (max_sequence_length)", "sequence columns (--include-sequences or --include-splt, with their features)")
	}
	if !has("connection") {
		for _, o := range []struct {
			set  bool
			name string
		}{
			{cfg.ConnectionUsePorts, "--connection-use-ports (connection_use_ports)"},
			{cfg.ConnectionGraphMetrics, "--connection-graph-metrics (connection_graph_metrics)"},
			{cfg.ConnectionTemporal, "--connection-temporal (connection_temporal)"},
		} {
			if o.set {
				warn(o.name, "the connection features")
			}
		}
	}
	if cfg.AnonymizationSalt != "" && !anonymizes && !flowIDs {
		warn("--salt (anonymization_salt)", "anonymized IP addresses or flow ids (--anonymize-ips, --include-flow-id, with flow_meta)")
	}
	return warnings, nil
}

// hasGroup reports whether the feature list selects the named group,
// as the run reads it (comma-separated names, any case, all).
func hasGroup(features []string, name string) bool {
	groups, _ := extract.Resolve(features) // validated
	return slices.ContainsFunc(groups, func(g extract.Group) bool { return g.Name == name })
}
