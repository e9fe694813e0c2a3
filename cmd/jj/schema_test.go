package main

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/jjflow/jj/extract"
)

func TestSchemaJSON(t *testing.T) {
	code, out, errs := runJJ(t, nil, "schema", "-f", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc schemaDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range doc.Groups {
		groups = append(groups, g.Name)
	}
	// The registry's groups, then per_file, the pseudo-group of the
	// column --per-file adds.
	if want := append(extract.Names(), "per_file"); !reflect.DeepEqual(groups, want) {
		t.Errorf("groups = %v, want the registry's and per_file %v", groups, want)
	}
	want := 1 // source_file
	for _, g := range extract.Registry {
		want += len(extract.AllColumns(g))
	}
	if len(doc.Columns) != want || want == 0 {
		t.Errorf("%d columns, want every column of the registry and source_file (%d)", len(doc.Columns), want)
	}
	// docs/FEATURES.md is generated from the same registry: every column
	// of the schema has its row there, in its group's section.
	ref, err := os.ReadFile("../../docs/FEATURES.md")
	if err != nil {
		t.Fatal(err)
	}
	seen, missing := map[string]bool{}, map[string]bool{}
	for _, c := range doc.Columns {
		if c.Group == "" || c.Name == "" || c.Type == "" || c.Privacy == "" || c.Description == "" {
			t.Errorf("column %+v has an empty field", c)
		}
		if seen[c.Name] {
			t.Errorf("column %s listed twice", c.Name)
		}
		seen[c.Name] = true
		section := string(ref)
		i := strings.Index(section, "\n## "+c.Group+"\n")
		if i < 0 {
			if !missing[c.Group] {
				t.Errorf("docs/FEATURES.md has no section %s: regenerate it (go run ./cmd/jj features --markdown)", c.Group)
			}
			missing[c.Group] = true
			continue
		}
		section = section[i:]
		if !strings.Contains(section, "| `"+c.Name+"` | "+c.Type+" |") {
			t.Errorf("docs/FEATURES.md lacks column %s (%s) in section %s", c.Name, c.Type, c.Group)
		}
	}
}

func TestSchemaText(t *testing.T) {
	code, out, _ := runJJ(t, nil, "schema")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.HasPrefix(lines[0], "GROUP ") || !strings.Contains(lines[0], "PRIVACY") {
		t.Fatalf("exit %d, header %q", code, lines[0])
	}
	if len(lines)-1 != len(allColumns()) {
		t.Errorf("%d rows, want %d", len(lines)-1, len(allColumns()))
	}
	if f := strings.Fields(lines[1]); len(f) < 6 || f[0] != "flow_meta" || f[1] != "flow_id" || f[2] != "string" || f[5] != "identifier" {
		t.Errorf("first row = %q, want flow_meta flow_id string - - identifier ...", lines[1])
	}
	if code, _, errs := runJJ(t, nil, "schema", "-f", "xml"); code != exitUsage || !strings.Contains(errs, "xml") {
		t.Errorf("-f xml: exit %d, %q", code, errs)
	}
}
