// Package promtext scrapes a /metrics endpoint in tests and reads values
// out of it with the Prometheus text parser (prometheus/common/expfmt), the
// way Prometheus itself would read it.
//
//	s := promtext.Scrape(t, base+"/metrics")
//	n := s.Value(t, "fph_gateway_connects_total", nil)
//	d := s.Value(t, "fph_http_requests_total", promtext.Labels{"route": "/health", "method": "GET", "status": "200"})
package promtext

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Labels selects series: every given label must match; others may be anything.
type Labels map[string]string

// Sample is a parsed scrape.
type Sample map[string]*dto.MetricFamily

// ScrapeHandler serves h on a test server for one Scrape.
func ScrapeHandler(tb testing.TB, h http.Handler) Sample {
	tb.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	return Scrape(tb, srv.URL)
}

// Scrape GETs url and parses it, failing the test on a transport error, a
// status other than 200, a content type other than the text format, or a
// parse error.
func Scrape(tb testing.TB, url string) Sample {
	tb.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		tb.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("scrape %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("scrape %s: %s %s", url, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		tb.Fatalf("scrape %s: content type %q, want the text format", url, ct)
	}
	s, err := Parse(string(body))
	if err != nil {
		tb.Fatalf("scrape %s: %v", url, err)
	}
	return s
}

// Parse parses the text exposition format.
func Parse(text string) (Sample, error) {
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return Sample(fams), nil
}

// Has reports whether the family name is present.
func (s Sample) Has(name string) bool { return s[name] != nil }

// Value sums the matching series of a counter, gauge or untyped family
// (for a histogram: the sample count). It fails the test when the family
// is missing or no series matches.
func (s Sample) Value(tb testing.TB, name string, want Labels) float64 {
	tb.Helper()
	v, ok := s.Lookup(name, want)
	if !ok {
		tb.Fatalf("metrics: no series %s%v; have %s", name, want, s.Describe(name))
	}
	return v
}

// Lookup is Value without failing: ok is false when nothing matches.
func (s Sample) Lookup(name string, want Labels) (float64, bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
	var sum float64
	found := false
	for _, m := range f.GetMetric() {
		if !matches(m, want) {
			continue
		}
		found = true
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			sum += m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			sum += m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			sum += float64(m.GetHistogram().GetSampleCount())
		default:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum, found
}

// LabelValues returns the distinct values of label over a family's series.
func (s Sample) LabelValues(name, label string) []string {
	seen := map[string]bool{}
	for _, m := range s[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				seen[l.GetValue()] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Describe lists a family's series, for failure messages.
func (s Sample) Describe(name string) string {
	f := s[name]
	if f == nil {
		return "no family " + name
	}
	var b strings.Builder
	for _, m := range f.GetMetric() {
		b.WriteString("{")
		for i, l := range m.GetLabel() {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%s=%q", l.GetName(), l.GetValue())
		}
		b.WriteString("} ")
	}
	return b.String()
}

func matches(m *dto.Metric, want Labels) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
