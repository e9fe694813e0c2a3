package extract

import (
	"strings"
	"testing"
)

// TestReferenceOptIn checks that the reference marks exactly the columns
// the default options leave out as written only when an option asks for
// them, and names flow_id's and the sequences' options.
func TestReferenceOptIn(t *testing.T) {
	marked := 0
	for _, g := range Registry {
		def := map[string]bool{}
		for _, c := range g.New(defaultOptions()).Columns() {
			def[c.Name] = true
		}
		table := ColumnTable(g)
		for _, c := range AllColumns(g) {
			line := table[strings.Index(table, "| `"+c.Name+"` |"):]
			line = line[:strings.Index(line, "\n")]
			if got := strings.Contains(line, "(written only with `--"); got == def[c.Name] {
				t.Errorf("%s.%s: marked opt-in %v, in the default columns %v", g.Name, c.Name, got, def[c.Name])
			}
			if !def[c.Name] {
				marked++
			}
		}
	}
	ref := Reference()
	for _, want := range []string{
		"same for both directions (written only with `--include-flow-id`, `include_flow_id: true`) |",
		"zero-padded (written only with `--include-splt`, `include_splt: true`) |",
		"responder address (left out by `--no-ips`, `include_ip_addresses: false`) |",
	} {
		if !strings.Contains(ref, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
	if marked < 17 {
		t.Errorf("%d opt-in columns, want at least flow_id, the sequences, splt and the graph and temporal ones (17)", marked)
	}
}
