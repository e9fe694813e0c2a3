package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/jjflow/jj/extract"
	"github.com/jjflow/jj/output"
)

func groupNames() []string { return extract.Names() }

func newFeaturesCmd(stdout io.Writer) *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "features",
		Short: "List every feature group and column with type, unit and meaning",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if markdown {
				_, err := io.WriteString(stdout, extract.Reference())
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			group := func(name, description string, cols []output.Column) {
				fmt.Fprintf(tw, "%s: %s\n", name, description)
				for _, c := range cols {
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Name, c.Type, unit(c), c.Description)
				}
			}
			for _, g := range extract.Registry {
				group(g.Name, g.Description, extract.AllColumns(g))
				fmt.Fprintln(tw)
			}
			group(extract.SourceColumn.Group, extract.SourceGroupDescription, []output.Column{extract.SourceColumn})
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the features reference as Markdown (docs/FEATURES.md)")
	return cmd
}

func unit(c output.Column) string {
	if c.Unit == "" {
		return "-"
	}
	return c.Unit
}
