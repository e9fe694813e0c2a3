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
// as a config key: a user who gives --include-sequences without timing
// or size should hear that no column came of it. An anonymization mode
// without anonymize_ips is an error instead: the IPs would be written as
// they are, which the user did not mean. The config was validated.
func checkEffective(cfg jj.Config) (warnings []string, err error) {
	if !cfg.AnonymizeIPs && cfg.AnonymizeMode != jj.DefaultConfig().AnonymizeMode {
		return nil, &usageError{errors.New("option --anonymize-mode (anonymize_mode) applies only with --anonymize-ips (anonymize_ips): the IP addresses would be written as they are")}
	}
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
	if cfg.AnonymizationSalt != "" && !cfg.AnonymizeIPs && !cfg.IncludeFlowID {
		warn("--salt (anonymization_salt)", "--anonymize-ips or --include-flow-id")
	}
	return warnings, nil
}
