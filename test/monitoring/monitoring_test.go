// Package monitoring checks deploy/prometheus and deploy/grafana in their
// own tools: Prometheus's promtool loads the scrape config and the alert
// rules and runs the rules' unit tests (alerts_test.yml); the Grafana
// dashboard is decoded and each of its queries is checked by promtool as
// PromQL and against the metrics the services export.
package monitoring

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// metrics are the series orderapi and the gateway export (docs/metrics.md),
// with the kind that decides which suffixes exist.
var metrics = map[string]string{
	"fph_gateway_sockets":                   "gauge",
	"fph_gateway_registered_sockets":        "gauge",
	"fph_gateway_connects_total":            "counter",
	"fph_gateway_disconnects_total":         "counter",
	"fph_gateway_handshakes_refused_total":  "counter",
	"fph_gateway_client_events_total":       "counter",
	"fph_gateway_bus_messages_total":        "counter",
	"fph_gateway_deliveries_total":          "counter",
	"fph_gateway_queue_drops_total":         "counter",
	"fph_gateway_slow_sockets_cut_total":    "counter",
	"fph_gateway_delivery_lag_seconds":      "histogram",
	"fph_gateway_directory_lookups_total":   "counter",
	"fph_gateway_recovery_attempts_total":   "counter",
	"fph_gateway_recoveries_total":          "counter",
	"fph_gateway_ready":                     "gauge",
	"fph_http_requests_total":               "counter",
	"fph_http_request_duration_seconds":     "histogram",
	"fph_outbox_pending":                    "gauge",
	"fph_outbox_oldest_pending_age_seconds": "gauge",
	"fph_relay_publish_duration_seconds":    "histogram",
	"fph_relay_publish_failures_total":      "counter",
	"fph_store_operation_duration_seconds":  "histogram",
	"fph_rate_limited_total":                "counter",
	"fph_login_failures_total":              "counter",
	// Prometheus's own per-target series and the Go collectors' runtime and
	// process metrics.
	"up":                            "gauge",
	"go_goroutines":                 "gauge",
	"process_resident_memory_bytes": "gauge",
}

// alerts are the signals issue 13 asks to alert on, by alert name.
var alerts = map[string]string{
	"OutboxEventsStuck":       "fph_outbox_oldest_pending_age_seconds",
	"DeliveryLagHigh":         "fph_gateway_delivery_lag_seconds",
	"SlowSocketsCut":          "fph_gateway_slow_sockets_cut_total",
	"HandshakesRefusedRising": "fph_gateway_handshakes_refused_total",
	"GatewayReplicaNotReady":  "fph_gateway_ready",
}

func deploy(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "..", "deploy"}, parts...)...)
}

// promtool runs promtool with args in dir and fails the test unless it
// succeeds.
func promtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Fatal("promtool not found on PATH: run `make deps` (installs the Debian prometheus package)")
	}
	cmd := exec.Command("promtool", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// metricNames returns the metric names a PromQL expression selects, with
// _bucket/_sum/_count folded into their histogram. Label names, functions
// and keywords are not metric names: a name counts only when it is followed
// by a selector, an operator, a bracket or the end, not by "(" (a function)
// and not inside "by (...)".
var (
	grouping   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	labelMatch = regexp.MustCompile(`\{[^}]*\}`)
	quoted     = regexp.MustCompile(`"[^"]*"`)
	ident      = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	notMetric  = map[string]bool{"or": true, "and": true, "unless": true, "offset": true, "bool": true, "le": true}
)

func metricNames(expr string) []string {
	e := quoted.ReplaceAllString(expr, `""`)
	e = labelMatch.ReplaceAllString(e, " ")
	e = grouping.ReplaceAllString(e, " ")
	e = regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(e, " ")
	var out []string
	for _, m := range ident.FindAllString(e, -1) {
		if strings.HasSuffix(m, "(") || notMetric[m] {
			continue
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(m, suffix); ok && metrics[base] == "histogram" {
				m = base
			}
		}
		out = append(out, m)
	}
	return out
}

// checkMetrics fails for every name in expr that no service exports, and
// for a histogram selected without _bucket in histogram_quantile.
func checkMetrics(t *testing.T, where, expr string) []string {
	t.Helper()
	names := metricNames(expr)
	if len(names) == 0 {
		t.Errorf("%s: %q selects no metric", where, expr)
	}
	for _, n := range names {
		if _, ok := metrics[n]; !ok {
			t.Errorf("%s: %q uses %s, which no service exports", where, expr, n)
		}
		if metrics[n] == "histogram" && !strings.Contains(expr, n+"_bucket") {
			t.Errorf("%s: %q uses histogram %s without its _bucket series", where, expr, n)
		}
	}
	return names
}

func TestMetricNames(t *testing.T) {
	got := metricNames(`histogram_quantile(0.99, sum by (instance, le) (rate(fph_gateway_delivery_lag_seconds_bucket{job="gateway"}[5m]))) > 2 or up{job="x"} == 0`)
	if want := []string{"fph_gateway_delivery_lag_seconds", "up"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPrometheusConfig(t *testing.T) {
	out := promtool(t, deploy("prometheus"), "check", "config", "prometheus.yml")
	if !strings.Contains(out, "SUCCESS: 1 rule files found") {
		t.Errorf("prometheus.yml does not load the alert rules:\n%s", out)
	}
	raw, err := os.ReadFile(deploy("prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The compose services' own ports (docker-compose.yml PORT): orderapi
	// statically, each gateway replica through the service's DNS name.
	for _, want := range []string{`job_name: orderapi`, `targets: ["orderapi:5001"]`, `job_name: gateway`, `names: ["gateway"]`, `port: 5002`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("prometheus.yml lacks %s", want)
		}
	}
}

func TestAlertRules(t *testing.T) {
	dir := deploy("prometheus")
	promtool(t, dir, "check", "rules", "alerts.yml")
	out := promtool(t, dir, "test", "rules", "alerts_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}

	raw, err := os.ReadFile(filepath.Join(dir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{} // alert → expr
	var name string
	for _, line := range strings.Split(string(raw), "\n") {
		l := strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(l, "- alert: "); ok {
			name = v
		} else if v, ok := strings.CutPrefix(l, "expr: "); ok && name != "" {
			exprs[name] = v
		}
	}
	for alert, metric := range alerts {
		expr, ok := exprs[alert]
		if !ok {
			t.Errorf("alerts.yml has no alert %s", alert)
			continue
		}
		if !slices.Contains(metricNames(expr), metric) {
			t.Errorf("alert %s (%s) does not watch %s", alert, expr, metric)
		}
	}
	for alert, expr := range exprs {
		checkMetrics(t, "alert "+alert, expr)
		if !strings.Contains(string(mustRead(t, filepath.Join(dir, "alerts_test.yml"))), "alertname: "+alert) {
			t.Errorf("alert %s has no unit test in alerts_test.yml", alert)
		}
	}
}

type dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

func TestGrafanaDashboard(t *testing.T) {
	raw := mustRead(t, deploy("grafana", "dashboards", "fph.json"))
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("fph.json: %v", err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard uid %q, title %q, %d panels: want all three", d.UID, d.Title, len(d.Panels))
	}
	// The provisioned data source's uid is what the panels name.
	ds := string(mustRead(t, deploy("grafana", "provisioning", "datasources", "prometheus.yml")))
	uid := regexp.MustCompile(`(?m)^\s*uid:\s*(\S+)`).FindStringSubmatch(ds)
	if uid == nil {
		t.Fatal("provisioning/datasources/prometheus.yml has no uid")
	}

	seen := map[string]bool{}
	ids := map[int]bool{}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: grid position %+v is off the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != uid[1] {
			t.Errorf("panel %q: data source %+v, want the provisioned prometheus (uid %s)", p.Title, p.Datasource, uid[1])
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range checkMetrics(t, fmt.Sprintf("panel %q %s", p.Title, tg.RefID), tg.Expr) {
				seen[n] = true
			}
			// promtool checks the PromQL: each query becomes a recording rule.
			fmt.Fprintf(&rules, "      - record: dashboard:panel_%d_%s\n        expr: %q\n", p.ID, tg.RefID, tg.Expr)
		}
	}
	for alert, metric := range alerts {
		if !seen[metric] {
			t.Errorf("no panel shows %s, the signal of alert %s", metric, alert)
		}
	}
	for name := range metrics {
		if strings.HasPrefix(name, "fph_") && !seen[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard_rules.yml"), []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	promtool(t, dir, "check", "rules", "dashboard_rules.yml")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
