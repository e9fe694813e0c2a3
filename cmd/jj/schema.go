package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/extract"
	"github.com/jjflow/jj/output"
)

// schemaDoc is what `jj schema -f json` prints.
type schemaDoc struct {
	Version string              `json:"jj_version"`
	Groups  []schemaGroup       `json:"groups"`
	Columns []output.ColumnInfo `json:"columns"`
}

type schemaGroup struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// allColumns lists every column of every registered group, every optional
// column included, in output order: the registry that also generates
// docs/FEATURES.md and `jj features`.
func allColumns() []output.Column {
	var cols []output.Column
	for _, g := range extract.Registry {
		for _, c := range extract.AllColumns(g) {
			if c.Group == "" {
				c.Group = g.Name
			}
			cols = append(cols, c)
		}
	}
	return append(cols, extract.SourceColumn)
}

const schemaLong = `Print the schema of every column jj can write: feature group, name, type
(int64, float64, string, bool, list<int64>, list<float64>), unit, direction
(fwd, bwd, both), privacy level (safe, sensitive, identifier) and meaning.

The text table is for reading; -f json is for programs: an object with
jj_version, groups and columns (the same column objects that Parquet files
carry in their "jj.columns" metadata).`

func newSchemaCmd(stdout io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "schema",
		Short:   "Print the schema of every column (-f json for programs)",
		Long:    schemaLong,
		Example: "  jj schema\n  jj schema -f json | jq -r '.columns[] | select(.privacy == \"identifier\") | .name'",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cols := allColumns()
			switch format {
			case "json":
				doc := schemaDoc{Version: jj.Version, Columns: output.Describe(cols)}
				for _, g := range extract.Registry {
					doc.Groups = append(doc.Groups, schemaGroup{Name: g.Name, Description: g.Description})
				}
				doc.Groups = append(doc.Groups, schemaGroup{Name: extract.SourceColumn.Group, Description: extract.SourceGroupDescription})
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			case "text", "":
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "GROUP\tCOLUMN\tTYPE\tUNIT\tDIRECTION\tPRIVACY\tDESCRIPTION")
				for _, c := range cols {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Group, c.Name, c.Type, unit(c), dashed(c.Direction), c.Privacy, c.Description)
				}
				return tw.Flush()
			}
			return &usageError{fmt.Errorf("option --format: unknown format %q (known: text, json)", format)}
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text or json")
	return cmd
}

func dashed(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
