package jj

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/jjflow/jj/extract"
)

// Config holds every option of an extraction. Start from DefaultConfig: the
// zero value does not validate (timeouts, burst threshold and sequence
// length of 0, no anonymization mode or connection scope), and would leave
// out IP addresses and ports. Field
// names follow the Python library's options (include_ip_addresses, ...);
// the yaml tags are the names used in config files (JSON or YAML).
type Config struct {
	// Features lists the feature groups ("flow_meta", "timing", "size",
	// "tcp", "connection", or "all", which is every group but
	// connection); empty means flow_meta.
	Features []string `yaml:"features"`

	// IncludeIPAddresses emits src_ip and dst_ip.
	IncludeIPAddresses bool `yaml:"include_ip_addresses"`
	// IncludePorts emits src_port, dst_port, dst_port_class and
	// dst_port_class_num.
	IncludePorts bool `yaml:"include_ports"`
	// AnonymizeIPs replaces each address by 16 hex chars of
	// SHA-256(AnonymizationSalt + address text).
	AnonymizeIPs bool `yaml:"anonymize_ips"`
	// AnonymizationSalt salts the address hashes and flow_id.
	AnonymizationSalt string `yaml:"anonymization_salt"`
	// IncludeFlowID emits flow_id.
	IncludeFlowID bool `yaml:"include_flow_id"`

	// FlowTimeout is the idle timeout in seconds (> 0).
	FlowTimeout float64 `yaml:"flow_timeout"`
	// ActiveTimeout ends flows this many seconds after their first packet;
	// 0 turns it off.
	ActiveTimeout float64 `yaml:"active_timeout"`
	// TCPCloseTimeout is the idle timeout, in seconds, of a TCP flow
	// closed by RST or by FIN in both directions.
	TCPCloseTimeout float64 `yaml:"tcp_close_timeout"`
	// MaxConcurrentFlows bounds the flow table; when full, the least
	// recently seen flow is written early. 0 means unlimited.
	MaxConcurrentFlows int `yaml:"max_concurrent_flows"`

	// BurstThresholdMs separates bursts in the timing group (> 0).
	BurstThresholdMs float64 `yaml:"burst_threshold_ms"`
	// IncludeRawSequences adds the sequence columns of timing and size.
	IncludeRawSequences bool `yaml:"include_raw_sequences"`
	// IncludeSPLT adds the splt_* columns of timing.
	IncludeSPLT bool `yaml:"include_splt"`
	// MaxSequenceLength is the length L of sequence columns (> 0).
	MaxSequenceLength int `yaml:"max_sequence_length"`

	// Decapsulate keys flows on the innermost IP header of tunnels (GRE,
	// VXLAN, GTP-U, IP-in-IP, ...); false keys them on the outermost one, as
	// the Python library does.
	Decapsulate bool `yaml:"decapsulate"`
	// AnonymizeMode is "hash" (the Python library's salted SHA-256 prefix)
	// or "prefix" (keyed, prefix-preserving, Crypto-PAn style): how
	// AnonymizeIPs anonymizes, and nothing without it (the addresses are
	// then written as they are; the command line refuses the flag alone).
	AnonymizeMode string `yaml:"anonymize_mode"`

	// ConnectionScope is "capture" (counts over the whole input, which looks
	// ahead) or "causal" (only what happened by each flow's end).
	ConnectionScope string `yaml:"connection_scope"`
	// ConnectionUsePorts makes connection nodes IP:port instead of IP.
	ConnectionUsePorts bool `yaml:"connection_use_ports"`
	// ConnectionGraphMetrics adds betweenness, communities and clustering.
	ConnectionGraphMetrics bool `yaml:"connection_graph_metrics"`
	// ConnectionTemporal adds the temporal connection columns.
	ConnectionTemporal bool `yaml:"connection_temporal"`

	// Filter is a tcpdump filter expression; only matching packets are used.
	Filter string `yaml:"filter"`
	// Columns keeps only the named columns (validated against the schema;
	// an entry may name several, comma-separated); empty keeps every
	// column of the selected groups.
	Columns []string `yaml:"columns"`
	// PerFile reads each input file as a capture of its own, rather than
	// all of them as one: a file's flows end with it (none continues
	// into the next file), its timestamps are compared with its own only,
	// and a last column, source_file (SourceColumn), names the input
	// each row came from.
	PerFile bool `yaml:"per_file"`
	// Workers is how many cores the run keeps busy reading the capture and
	// running flow tables; 0 means one per CPU. With 1, the goroutine that
	// reads the capture also runs the one flow table (but for a live
	// reader given to RunReader, whose table runs beside it). With more,
	// that goroutine feeds flow-table workers beside it: Workers−1 of them
	// when every feature group is light (flow_meta alone), whose table
	// work a packet is about the reading's, and Workers of them for
	// heavier groups, whose table work outweighs it; runs that need one
	// table (MaxConcurrentFlows, the connection group) have one whatever
	// the number. An input smaller than 8 MiB on disk (with PerFile, each
	// file) runs as with 1: on so little, a worker beside the reader
	// costs more than it gives. The output is byte-identical whatever the
	// number.
	Workers int `yaml:"workers"`
}

// DefaultConfig returns the defaults of flow-meta.md §5: flow_meta with IP
// addresses and ports, 60 s idle timeout, no active timeout, 5 s TCP close
// timeout, unlimited flows; and jj's own: tunnels opened (Decapsulate,
// where the Python library keys flows on the outermost header), hash
// anonymization when asked for, connection counts over the whole capture,
// one worker a CPU.
func DefaultConfig() Config {
	return Config{
		Features:           []string{"flow_meta"},
		IncludeIPAddresses: true,
		IncludePorts:       true,
		FlowTimeout:        60,
		TCPCloseTimeout:    5,
		BurstThresholdMs:   50,
		MaxSequenceLength:  50,
		Decapsulate:        true,
		AnonymizeMode:      "hash",
		ConnectionScope:    "capture",
	}
}

// ErrConfig marks an invalid option value.
var ErrConfig = errors.New("invalid option")

// OptionError names an invalid option and the values it accepts.
type OptionError struct {
	Option string // the option's config-file name (a flag's, for decoders and feature)
	Value  string // the value given, as text
	Want   string // what the option takes
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("option %s: invalid value %s (want %s)", e.Option, e.Value, e.Want)
}

// Unwrap makes errors.Is(err, ErrConfig) true.
func (e *OptionError) Unwrap() error { return ErrConfig }

// plainConfigError is a config error whose message needs no suffix.
type plainConfigError struct{ error }

func (e plainConfigError) Unwrap() error { return ErrConfig }

// Validate checks every option, before any input is read.
func (c *Config) Validate() error {
	seconds := func(name string, v float64, min float64, strict bool) error {
		bad := math.IsNaN(v) || math.IsInf(v, 0) || v < min || (strict && v == min) || v > 1e9
		if bad {
			want := "a number of seconds ≥ 0, at most 1e9 (31 years)"
			if strict {
				want = "a number of seconds > 0, at most 1e9 (31 years)"
			}
			return &OptionError{Option: name, Value: fmt.Sprint(v), Want: want}
		}
		return nil
	}
	if err := seconds("flow_timeout", c.FlowTimeout, 0, true); err != nil {
		return err
	}
	if err := seconds("active_timeout", c.ActiveTimeout, 0, false); err != nil {
		return err
	}
	if err := seconds("tcp_close_timeout", c.TCPCloseTimeout, 0, false); err != nil {
		return err
	}
	if c.MaxConcurrentFlows < 0 {
		return &OptionError{Option: "max_concurrent_flows", Value: fmt.Sprint(c.MaxConcurrentFlows), Want: "0 (unlimited) or a positive count"}
	}
	if math.IsNaN(c.BurstThresholdMs) || math.IsInf(c.BurstThresholdMs, 0) || c.BurstThresholdMs <= 0 {
		return &OptionError{Option: "burst_threshold_ms", Value: fmt.Sprint(c.BurstThresholdMs), Want: "milliseconds > 0"}
	}
	if c.MaxSequenceLength <= 0 || c.MaxSequenceLength > 1<<16 {
		return &OptionError{Option: "max_sequence_length", Value: fmt.Sprint(c.MaxSequenceLength), Want: "a length from 1 to 65536"}
	}
	if c.AnonymizeMode != "hash" && c.AnonymizeMode != "prefix" {
		return &OptionError{Option: "anonymize_mode", Value: fmt.Sprintf("%q", c.AnonymizeMode), Want: "hash or prefix"}
	}
	if c.ConnectionScope != "capture" && c.ConnectionScope != "causal" {
		return &OptionError{Option: "connection_scope", Value: fmt.Sprintf("%q", c.ConnectionScope), Want: "capture or causal"}
	}
	groups, err := extract.Resolve(c.Features)
	if ug := (*extract.UnknownGroupError)(nil); errors.As(err, &ug) {
		return &OptionError{Option: "features", Value: fmt.Sprintf("%q", ug.Name), Want: "a feature group: " + strings.Join(extract.Names(), ", ") + " or all"}
	}
	if err != nil {
		return plainConfigError{fmt.Errorf("option features: %v", err)}
	}
	connection := slices.ContainsFunc(groups, func(g extract.Group) bool { return g.Name == "connection" })
	if connection && c.ConnectionGraphMetrics && c.ConnectionScope == "causal" {
		return &OptionError{Option: "connection_graph_metrics", Value: "true", Want: "false with connection_scope causal (the default for standard input, pipes and live capture): graph metrics need the whole capture"}
	}
	if c.Workers < 0 || c.Workers > 1024 {
		return &OptionError{Option: "workers", Value: fmt.Sprint(c.Workers), Want: "0 (one per CPU) or a count up to 1024"}
	}
	return nil
}

func (c *Config) options() extract.Options {
	return extract.Options{
		IncludeIPAddresses:  c.IncludeIPAddresses,
		IncludePorts:        c.IncludePorts,
		AnonymizeIPs:        c.AnonymizeIPs,
		AnonymizationSalt:   c.AnonymizationSalt,
		IncludeFlowID:       c.IncludeFlowID,
		BurstThresholdMs:    c.BurstThresholdMs,
		IncludeRawSequences: c.IncludeRawSequences,
		IncludeSPLT:         c.IncludeSPLT,
		MaxSequenceLength:   c.MaxSequenceLength,

		AnonymizeMode:          c.AnonymizeMode,
		ConnectionScope:        c.ConnectionScope,
		ConnectionUsePorts:     c.ConnectionUsePorts,
		ConnectionGraphMetrics: c.ConnectionGraphMetrics,
		ConnectionTemporal:     c.ConnectionTemporal,
	}
}

// nanos converts validated seconds to nanoseconds, to the nearest but at
// least 1 for a positive duration: an active timeout of 1e-10 s is on, as
// asked, where 0 would turn it off.
func nanos(s float64) int64 {
	n := int64(math.Round(s * 1e9))
	if n == 0 && s > 0 {
		return 1
	}
	return n
}

// LoadConfig reads a JSON or YAML config file over base: keys are the
// snake_case option names (flow_timeout, include_flow_id, ...); options the
// file does not name keep their base value. Unknown keys are errors.
func LoadConfig(path string, base Config) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("config %s: %w", path, err)
	}
	return ParseConfig(data, path, base)
}

// ParseConfig is LoadConfig on bytes; name is used in messages. features
// and columns may be a list or, as on the command line, one
// comma-separated string. An unknown key's message names the key within
// two edits of it, if one is. The file is one YAML document or JSON
// object, and a whole-number key takes no fraction (2.0 is 2).
func ParseConfig(data []byte, name string, base Config) (Config, error) {
	cfg := base
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&cfg)
	if errors.Is(err, io.EOF) {
		return cfg, nil
	}
	var te *yaml.TypeError
	if err == nil || errors.As(err, &te) {
		// The decoder parsed the first document whole, whatever its
		// type errors; a second one, which it would leave unread, is
		// refused before them: the user may have meant either.
		if line, msg := secondDocument(dec, data); msg != "" {
			if line > 0 {
				msg = fmt.Sprintf("line %d: %s", line, msg)
			}
			return base, fmt.Errorf("config %s: %s: %w", name, msg, ErrConfig)
		}
	}
	if err != nil && te == nil {
		return base, fmt.Errorf("config %s: %s: %w", name, configMessage(err), ErrConfig)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return base, fmt.Errorf("config %s: %s: %w", name, configMessage(err), ErrConfig)
	}
	var kept []string
	if te != nil {
		kept = slices.Clone(te.Errors)
	}
	drop := func(e string) {
		if i := slices.Index(kept, e); i >= 0 {
			kept = slices.Delete(kept, i, i+1)
		}
	}
	// Values the decoder takes wrongly (max_concurrent_flows: 0.5, which
	// it cuts to 0) or words as the wrong thing: the message here
	// replaces its own, if it has one.
	found := checkValues(&doc)
	for _, p := range found {
		drop(p.replaces)
	}
	// features: "flow_meta,timing" is one string, taken as a list of
	// one. The decoder went on past each error and reported them all:
	// without that one, any other is the user's; with none left, the
	// document is decoded again with the list.
	for _, l := range listsOfOne(&doc) {
		// The one error that the string made, its value cut as
		// yaml.v3 cuts values longer than 10 bytes.
		value := l.value
		if len(value) > 10 {
			value = value[:7] + "..."
		}
		drop(fmt.Sprintf("line %d: cannot unmarshal !!str `%s` into []string", l.line, value))
	}
	if len(found) == 0 && len(kept) == 0 {
		if te != nil {
			cfg = base
			if err := doc.Decode(&cfg); err != nil {
				return base, fmt.Errorf("config %s: %s: %w", name, configMessage(err), ErrConfig)
			}
		}
		return cfg, nil
	}
	for _, e := range kept {
		found = append(found, valueProblem{line: errorLine(e), text: typeErrorMessage(e)})
	}
	slices.SortStableFunc(found, func(a, b valueProblem) int { return a.line - b.line })
	msgs := make([]string, len(found))
	for i, p := range found {
		msgs[i] = p.text
	}
	return base, fmt.Errorf("config %s: %s: %w", name, strings.Join(msgs, "; "), ErrConfig)
}

// valueProblem is a problem with a config file: its line (0 if unknown),
// its message for the user, which starts with the line, and the message
// of yaml.v3's that it replaces, if any.
type valueProblem struct {
	line     int
	text     string
	replaces string
}

// checkValues finds the values of whole-number keys that are not whole
// numbers: yaml.v3 cuts a fraction for an int field (max_concurrent_flows:
// 0.5 was 0, unlimited; 1.9 was 1), where the command line refuses it.
// It also finds the quoted values of boolean and number keys that would
// do unquoted, which yaml.v3 refuses as "`true` is not true or false".
// Quoted, they are strings, as "true" is in JSON, and stay refused: the
// README has a boolean written true and a number 120, and one documented
// leniency, a string for the lists features and columns.
func checkValues(doc *yaml.Node) []valueProblem {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	types := map[string]reflect.Type{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		types[k] = t.Field(i).Type
	}
	var found []valueProblem
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		k, v := m[i], m[i+1]
		ft, ok := types[k.Value]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias // as the decoder does, whose messages name its line
		}
		if !ok || v.Kind != yaml.ScalarNode {
			continue
		}
		switch kind := ft.Kind(); {
		case kind == reflect.Int && v.ShortTag() == "!!float" && !whole(v.Value):
			found = append(found, valueProblem{
				line:     v.Line,
				text:     fmt.Sprintf("line %d: %s: value `%s` is not a whole number", v.Line, k.Value, v.Value),
				replaces: decodeError(v, ft),
			})
		case (kind == reflect.Int || kind == reflect.Float64 || kind == reflect.Bool) && v.ShortTag() == "!!str":
			if v.Decode(reflect.New(ft).Interface()) == nil {
				continue // "yes" for a bool, which yaml.v3 takes as YAML 1.1 did
			}
			plain := yaml.Node{Kind: yaml.ScalarNode, Value: v.Value}
			if plain.Decode(reflect.New(ft).Interface()) != nil || kind == reflect.Int && plain.ShortTag() == "!!float" && !whole(v.Value) {
				continue // wrong with or without them: yaml.v3's message stands
			}
			written, hint := v.Value, "leave out the quotes"
			switch {
			case v.Style&yaml.DoubleQuotedStyle != 0:
				written = strconv.Quote(v.Value)
			case v.Style&yaml.SingleQuotedStyle != 0:
				written = "'" + strings.ReplaceAll(v.Value, "'", "''") + "'"
			}
			if v.Style&yaml.TaggedStyle != 0 {
				written, hint = v.Tag+" "+written, "leave out the tag"
			}
			found = append(found, valueProblem{
				line:     v.Line,
				text:     fmt.Sprintf("line %d: %s: value `%s` is a string, not %s (%s)", v.Line, k.Value, written, typeWords(ft), hint),
				replaces: decodeError(v, ft),
			})
		}
	}
	return found
}

// whole reports whether a YAML float is a whole number, exactly: as text,
// since 1.0000000000000001 is 1 as a float64.
func whole(float string) bool {
	r, ok := new(big.Rat).SetString(strings.ReplaceAll(float, "_", ""))
	return ok && r.IsInt()
}

// decodeError is yaml.v3's message for scalar n, which it could not
// decode into a value of type t.
func decodeError(n *yaml.Node, t reflect.Type) string {
	value := n.Value
	if len(value) > 10 {
		value = value[:7] + "..."
	}
	return fmt.Sprintf("line %d: cannot unmarshal %s `%s` into %s", n.Line, n.ShortTag(), value, t)
}

// errorLine is the line that a yaml.v3 type error names, or 0.
func errorLine(e string) int {
	var line int
	fmt.Sscanf(e, "line %d:", &line)
	return line
}

// secondDocument reads what follows the first document of a config file
// from dec. It returns an empty msg at the end of the file; otherwise the
// problem and the line where the second document starts (0 if unknown).
func secondDocument(dec *yaml.Decoder, data []byte) (line int, msg string) {
	const second = "a second document starts here, but a config file is one YAML document or JSON object"
	var next yaml.Node
	err := dec.Decode(&next)
	for err == nil && emptyDocument(&next) { // a "---" with nothing after it, or comments only
		next = yaml.Node{}
		err = dec.Decode(&next)
	}
	switch {
	case errors.Is(err, io.EOF):
		return 0, ""
	case err == nil:
		// Line is that of the document's "---", or of its first
		// content when it has none (after a "...").
		return next.Line, second
	}
	// Anything but a "---" right after a document that ended without
	// one (a JSON object, a flow mapping), as `{"a": 1} {"b": 2}` has:
	// yaml.v3 names the line of that token counting from 0, and names
	// none for the first (unlike its other messages, which count from 1).
	const noStart = "did not find expected <document start>"
	if rest, ok := strings.CutPrefix(err.Error(), "yaml: "); ok && strings.HasSuffix(rest, noStart) {
		if rest == noStart {
			return 1, second
		}
		var n int
		if _, err := fmt.Sscanf(rest, "line %d: ", &n); err == nil {
			return n + 1, second
		}
	}
	// A second document that does not parse: it starts at the first
	// "---" after the first document's start, a document marker
	// wherever it is at the start of a line.
	var first yaml.Node
	if yaml.Unmarshal(data, &first) == nil {
		for i, l := range strings.Split(string(data), "\n")[first.Line:] {
			if rest, ok := strings.CutPrefix(l, "---"); ok && (rest == "" || strings.ContainsAny(rest[:1], " \t\r")) {
				return first.Line + i + 1, second
			}
		}
	}
	return 0, "after the first document: " + configMessage(err)
}

// emptyDocument reports whether a document holds nothing: no content, or
// an implicit null (not one written as "~" or "null").
func emptyDocument(n *yaml.Node) bool {
	if len(n.Content) == 0 {
		return true
	}
	c := n.Content[0]
	return len(n.Content) == 1 && c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" && c.Value == ""
}

// scalar is a scalar value of a YAML document: its line and text.
type scalar struct {
	line  int
	value string
}

// listsOfOne turns each scalar features or columns value of a YAML
// document into a list of that one value (a comma-separated string, as on
// the command line, which the run splits), and returns those values.
func listsOfOne(doc *yaml.Node) []scalar {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var found []scalar
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		if k, v := m[i], m[i+1]; (k.Value == "features" || k.Value == "columns") && v.Kind == yaml.ScalarNode {
			item := *v
			*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{&item}, Line: v.Line, Column: v.Column}
			found = append(found, scalar{v.Line, item.Value})
		}
	}
	return found
}

// nearestKey returns the config key within two edits of key, if one is.
func nearestKey(key string) string {
	best, bestD := "", 3
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if k == "" || k == "-" {
			continue
		}
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// configMessage words a YAML decoding error for a user: yaml.v3's own
// names Go types ("field x not found in type jj.Config", "cannot
// unmarshal !!str `abc` into float64").
func configMessage(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n", "; "), "yaml: ")
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = typeErrorMessage(e)
	}
	return strings.Join(msgs, "; ")
}

// goTypeWords words, for a user, the Go types into which yaml.v3 decodes a
// config file.
var goTypeWords = []struct{ goType, words string }{
	{"into float64", "a number"},
	{"into int", "a whole number"},
	{"into bool", "true or false"},
	{"into []string", "a list"},
	{"into string", "a string"},
	{"into jj.Config", "a mapping of options (key: value)"},
}

// typeWords words type t as goTypeWords does.
func typeWords(t reflect.Type) string {
	for _, w := range goTypeWords {
		if w.goType == "into "+t.String() {
			return w.words
		}
	}
	return t.String()
}

// typeErrorMessage words one of the errors of a yaml.TypeError.
func typeErrorMessage(e string) string {
	line, rest, ok := strings.Cut(e, ": ")
	if !ok {
		line, rest = "", e
	}
	if f, ok := strings.CutPrefix(rest, "field "); ok {
		if key, _, ok := strings.Cut(f, " not found in type"); ok {
			rest = "unknown option " + key
			if near := nearestKey(key); near != "" {
				rest += " (did you mean " + near + "?)"
			}
		}
	} else if v, ok := strings.CutPrefix(rest, "cannot unmarshal "); ok {
		for _, w := range goTypeWords {
			if strings.HasSuffix(v, w.goType) {
				// "!!str `abc` into float64": the value, then the type.
				val := strings.TrimSuffix(v, " "+w.goType)
				if _, lit, ok := strings.Cut(val, " "); ok {
					val = "value " + lit
				} else if val == "!!seq" {
					val = "a list"
				} else if val == "!!map" {
					val = "a mapping"
				}
				rest = val + " is not " + w.words
				break
			}
		}
	}
	if line != "" {
		rest = line + ": " + rest
	}
	return rest
}
