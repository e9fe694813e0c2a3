package main

import (
	"errors"
	"fmt"

	"github.com/jjflow/jj"
)

// keyFlags names, for each key of the config file, the `jj extract` flag
// that sets it (TestKeyFlags keeps it whole).
var keyFlags = map[string]string{
	"features":                 "--features",
	"include_ip_addresses":     "--no-ips",
	"include_ports":            "--no-ports",
	"anonymize_ips":            "--anonymize-ips",
	"anonymization_salt":       "--salt",
	"include_flow_id":          "--include-flow-id",
	"flow_timeout":             "--timeout",
	"active_timeout":           "--active-timeout",
	"tcp_close_timeout":        "--tcp-close-timeout",
	"max_concurrent_flows":     "--max-flows",
	"burst_threshold_ms":       "--burst-threshold-ms",
	"include_raw_sequences":    "--include-sequences",
	"include_splt":             "--include-splt",
	"max_sequence_length":      "--max-sequence-length",
	"decapsulate":              "--no-decap",
	"anonymize_mode":           "--anonymize-mode",
	"connection_scope":         "--connection-scope",
	"connection_use_ports":     "--connection-use-ports",
	"connection_graph_metrics": "--connection-graph-metrics",
	"connection_temporal":      "--connection-temporal",
	"filter":                   "--filter",
	"columns":                  "--feature",
	"workers":                  "--workers",
	"per_file":                 "--per-file",
}

// withFlag returns err's message with an option error's config key
// followed by its flag, "option flow_timeout (--timeout): ...", since the
// value may come from either; other errors, and option errors wrapped in
// more context, as they are.
func withFlag(err error) string {
	var oe *jj.OptionError
	if !errors.As(err, &oe) || err.Error() != oe.Error() {
		return err.Error()
	}
	flag, ok := keyFlags[oe.Option]
	if !ok {
		return err.Error()
	}
	return fmt.Sprintf("option %s (%s): invalid value %s (want %s)", oe.Option, flag, oe.Value, oe.Want)
}
