// Package exposition writes the Prometheus text exposition of /metrics: the
// series of a metrics.Set and of the Go runtime, each family preceded by its
// `# HELP` and `# TYPE` lines from a catalogue (docs/monitoring.md § Metrics).
//
// The VictoriaMetrics library can print metadata only through a process-wide
// switch and without help texts, and it types its callback gauges as gauges
// even where they count; the catalogue says what each family is.
package exposition

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/VictoriaMetrics/metrics"
)

// Family is one metric family's metadata.
type Family struct {
	Name string
	Type string // counter, gauge, histogram or summary
	Help string
}

// Write writes set's series, then the catalogued Go runtime and process
// series, to w with metadata. A family of set missing from the catalogue is
// written as untyped without help, which `promtool check metrics` reports.
func Write(w io.Writer, set *metrics.Set) {
	var own bytes.Buffer
	set.WritePrometheus(&own)
	annotate(w, own.Bytes(), hogsendFamilies, false)

	var runtime bytes.Buffer
	metrics.WriteProcessMetrics(&runtime)
	metrics.WriteFDMetrics(&runtime)
	annotate(w, runtime.Bytes(), runtimeFamilies, true)
}

// annotate copies the sample lines of text to w, writing HELP and TYPE
// before the first sample of each family. onlyKnown drops the families the
// catalogue does not list (the library adds runtime series between versions).
func annotate(w io.Writer, text []byte, catalogue map[string]Family, onlyKnown bool) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	written := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f, ok := familyOf(sampleName(line), catalogue)
		if !ok && onlyKnown {
			continue
		}
		if !written[f.Name] {
			written[f.Name] = true
			writeMetadata(bw, f)
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
}

func writeMetadata(w *bufio.Writer, f Family) {
	if f.Help != "" {
		w.WriteString("# HELP " + f.Name + " " + f.Help + "\n")
	}
	w.WriteString("# TYPE " + f.Name + " " + f.Type + "\n")
}

// sampleName is the metric name of a sample line.
func sampleName(line string) string {
	if i := strings.IndexAny(line, "{ "); i >= 0 {
		return line[:i]
	}
	return line
}

// familyOf finds the family of a sample: its own name, or for the _bucket,
// _sum and _count series of a histogram or summary the name without suffix.
func familyOf(name string, catalogue map[string]Family) (Family, bool) {
	if f, ok := catalogue[name]; ok {
		return f, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if f, ok := catalogue[base]; ok && (f.Type == "histogram" || f.Type == "summary") {
			return f, true
		}
	}
	return Family{Name: name, Type: "untyped"}, false
}

// index keys families by name.
func index(families []Family) map[string]Family {
	m := make(map[string]Family, len(families))
	for _, f := range families {
		m[f.Name] = f
	}
	return m
}
