package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jjflow/jj"
	"github.com/jjflow/jj/capture"
)

const infoLong = `Describe capture files without building flows: format, byte order and
compression, each interface's link type (and whether jj decodes it), snap
length and timestamp resolution (and, in a pcapng file, the packets its
capture tool recorded as dropped), packets, bytes on the wire and captured,
the time span and order, and whether the file is cut off.

Every record is walked, so the counts are exact (they match capinfos), but
nothing is decoded. A directory stands for its capture files, - for standard
input. A file cut off mid-record is reported, not an error; a file that
cannot be read, or that is corrupt part way, makes the exit code 1.`

func newInfoCmd(stdin io.Reader, stdout io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "info FILE...",
		Short:   "Describe capture files: format, link types, packets, bytes, time span",
		Long:    infoLong,
		Example: "  jj info capture.pcapng\n  jj info -f json day1/ | jq '.[].packets'",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{errors.New("info needs at least one FILE (a file, a directory or -)")}
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return &usageError{fmt.Errorf("option --format: unknown format %q (known: text, json)", format)}
			}
			return runInfo(args, format, stdin, stdout)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text or json")
	return cmd
}

func runInfo(args []string, format string, stdin io.Reader, stdout io.Writer) error {
	var errs []error
	var infos []*capture.FileInfo
	// out: in JSON, every input in order, those that could not be read at
	// all as an entry of their name and error alone, so that a program
	// reading the list misses none.
	var out []infoJSON
	failed := func(name string, err error) {
		errs = append(errs, err)
		out = append(out, infoJSON{File: name, Interfaces: []interfaceJSON{}, Error: err.Error(), Warnings: []string{}})
	}
	for _, arg := range args {
		files := []string{arg}
		if arg != "-" {
			var err error
			if files, err = capture.Expand([]string{arg}); err != nil {
				failed(arg, err)
				continue
			}
		}
		for _, file := range files {
			var fi *capture.FileInfo
			var err error
			if file == "-" {
				fi, err = capture.InfoReader(stdin, "stdin")
			} else {
				fi, err = capture.Info(file)
			}
			if err != nil {
				failed(file, err)
				continue
			}
			if fi.Err != nil && !fi.Truncated {
				errs = append(errs, fi.Err)
			}
			infos = append(infos, fi)
			out = append(out, toJSON(fi))
		}
	}
	var err error
	if format == "json" {
		if out == nil {
			out = []infoJSON{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(out)
	} else {
		var b strings.Builder
		for i, fi := range infos {
			if i > 0 {
				b.WriteByte('\n')
			}
			writeInfo(&b, fi)
		}
		_, err = io.WriteString(stdout, b.String())
	}
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return &jj.InputError{Errs: errs}
	}
	return nil
}

// writeInfo renders one file as aligned "key: value" lines.
func writeInfo(b *strings.Builder, fi *capture.FileInfo) {
	line := func(key, format string, args ...any) {
		fmt.Fprintf(b, "%-12s %s\n", key+":", fmt.Sprintf(format, args...))
	}
	line("file", "%s", fi.Name)
	order := "little-endian"
	if fi.BigEndian {
		order = "big-endian"
	}
	f := fi.Format + " " + fi.Version + ", " + order
	if fi.Sections > 1 {
		f += fmt.Sprintf(", %d sections", fi.Sections)
	}
	if fi.Compression != "" {
		f += ", " + fi.Compression + " compressed"
	}
	line("format", "%s", f)
	if fi.FileSize >= 0 {
		line("file size", "%d bytes", fi.FileSize)
	}
	line("interfaces", "%d", len(fi.Interfaces))
	for _, ifc := range fi.Interfaces {
		snap := "snaplen " + strconv.FormatUint(uint64(ifc.SnapLen), 10)
		if ifc.SnapLen == 0 {
			snap = "no snaplen"
		}
		id := "#" + strconv.Itoa(ifc.Index)
		if fi.Sections > 1 {
			id = fmt.Sprintf("#%d.%d", ifc.Section, ifc.Index)
		}
		link := fmt.Sprintf("%s (%d)", ifc.LinkName(), ifc.LinkType)
		if !ifc.Supported() {
			link += ", not decoded by jj"
		}
		drops := ""
		if ifc.InterfaceDrops+ifc.SystemDrops > 0 {
			drops = fmt.Sprintf("; the capture tool recorded %d dropped by the interface, %d by the system", ifc.InterfaceDrops, ifc.SystemDrops)
		}
		fmt.Fprintf(b, "  %-6s %s, %s, timestamps in %s, %d %s%s\n", id, link, snap, ifc.Resolution, ifc.Packets, plural(ifc.Packets, "packet"), drops)
	}
	line("packets", "%d", fi.Packets)
	line("bytes", "%d on the wire, %d captured", fi.WireBytes, fi.CapturedBytes)
	if fi.Packets > 0 {
		d := time.Duration(fi.Duration())
		line("first", "%s", utc(fi.Earliest))
		line("last", "%s", utc(fi.Latest))
		// One division of the nanoseconds, correctly rounded, as the
		// rows' durations are (d.Seconds() adds two rounded parts:
		// 2.1474836489999998 for 2 147 483 649 ns).
		line("duration", "%s (%s s)", d.Round(time.Millisecond), strconv.FormatFloat(float64(fi.Duration())/1e9, 'f', -1, 64))
		if fi.InOrder {
			line("time order", "in order")
		} else {
			line("time order", "out of order (some packets are earlier than the one before)")
		}
	}
	switch {
	case fi.Truncated:
		line("cut off", "yes: %v", fi.Err)
	case fi.Err != nil:
		line("cut off", "no")
		line("error", "%v", fi.Err)
	default:
		line("cut off", "no")
	}
	for _, w := range fi.Warnings {
		line("warning", "%s", w)
	}
}

// utc renders a nanosecond Unix time in UTC, to the nanosecond only when
// it has one.
func utc(ns int64) string {
	t := time.Unix(0, ns).UTC()
	if ns%1000 == 0 {
		return t.Format("2006-01-02 15:04:05.000000 UTC")
	}
	return t.Format("2006-01-02 15:04:05.000000000 UTC")
}

// infoJSON is one file of `jj info -f json`.
type infoJSON struct {
	File          string          `json:"file"`
	Format        string          `json:"format"`
	Version       string          `json:"version"`
	ByteOrder     string          `json:"byte_order"`
	Compression   string          `json:"compression"`
	Sections      int             `json:"sections"`
	FileSize      int64           `json:"file_size"`
	Interfaces    []interfaceJSON `json:"interfaces"`
	Packets       uint64          `json:"packets"`
	WireBytes     uint64          `json:"wire_bytes"`
	CapturedBytes uint64          `json:"captured_bytes"`
	FirstNS       *int64          `json:"first_ns"`
	LastNS        *int64          `json:"last_ns"`
	First         string          `json:"first"`
	Last          string          `json:"last"`
	DurationS     float64         `json:"duration_s"`
	InOrder       bool            `json:"in_order"`
	CutOff        bool            `json:"cut_off"`
	Error         string          `json:"error"`
	Warnings      []string        `json:"warnings"`
}

type interfaceJSON struct {
	Section    int    `json:"section"`
	Index      int    `json:"index"`
	LinkType   int    `json:"link_type"`
	LinkName   string `json:"link_name"`
	Decoded    bool   `json:"decoded"`
	SnapLen    uint32 `json:"snaplen"`
	Resolution string `json:"resolution"`
	Packets    uint64 `json:"packets"`
	// The drops the capture tool recorded (pcapng interface statistics).
	InterfaceDrops uint64 `json:"interface_drops"`
	SystemDrops    uint64 `json:"system_drops"`
}

func toJSON(fi *capture.FileInfo) infoJSON {
	j := infoJSON{
		File: fi.Name, Format: fi.Format, Version: fi.Version, ByteOrder: "little-endian",
		Compression: fi.Compression, Sections: fi.Sections, FileSize: fi.FileSize,
		Interfaces: []interfaceJSON{}, Packets: fi.Packets, WireBytes: fi.WireBytes,
		CapturedBytes: fi.CapturedBytes, InOrder: fi.InOrder, CutOff: fi.Truncated,
		Warnings: append([]string{}, fi.Warnings...),
	}
	if fi.BigEndian {
		j.ByteOrder = "big-endian"
	}
	for _, ifc := range fi.Interfaces {
		j.Interfaces = append(j.Interfaces, interfaceJSON{
			Section: ifc.Section, Index: ifc.Index, LinkType: int(ifc.LinkType), LinkName: ifc.LinkName(),
			Decoded: ifc.Supported(), SnapLen: ifc.SnapLen, Resolution: ifc.Resolution, Packets: ifc.Packets,
			InterfaceDrops: ifc.InterfaceDrops, SystemDrops: ifc.SystemDrops,
		})
	}
	if fi.Packets > 0 {
		first, last := fi.Earliest, fi.Latest
		j.FirstNS, j.LastNS = &first, &last
		j.First, j.Last = utc(first), utc(last)
		j.DurationS = float64(fi.Duration()) / 1e9
	}
	if fi.Err != nil {
		j.Error = fi.Err.Error()
	}
	return j
}

// plural returns word, with an s unless n is 1.
func plural(n uint64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
