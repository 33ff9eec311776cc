package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Results is one run of the bench, as written to the JSON file.
type Results struct {
	Started    time.Time  `json:"started"`
	Finished   time.Time  `json:"finished"`
	CPUs       int        `json:"cpus"`
	LoadAvg    string     `json:"loadavgAtStart"`
	LoadAvgEnd string     `json:"loadavgAtEnd"`
	Sockets    int        `json:"sockets"`
	IdleMax    int        `json:"idleMax"`
	Admins     int        `json:"admins"`
	Agents     int        `json:"agents"`
	SteadyRate float64    `json:"steadyRate"`
	WorkDir    string     `json:"workDir"`
	Notes      []string   `json:"notes"`
	Lookups    []Lookups  `json:"directoryLookups"`
	Scenarios  []Scenario `json:"scenarios"`
}

// Lookups counts the internal-API requests a side's gateway made.
type Lookups struct {
	Side    string `json:"side"`
	Users   int64  `json:"users"`
	Parties int64  `json:"parties"`
}

// Scenario is one scenario on one side. Times in seconds unless named.
type Scenario struct {
	Name    string `json:"scenario"`
	Side    string `json:"side"`
	Sockets int    `json:"sockets"`

	Failed     int64 `json:"connectionsFailed"`
	Dropped    int64 `json:"connectionsDropped"` // closed by the gateway during the scenario
	Published  int64 `json:"published,omitempty"`
	Expected   int64 `json:"expected,omitempty"`
	Delivered  int64 `json:"delivered,omitempty"`
	Lost       int64 `json:"lost"`
	Duplicated int64 `json:"duplicated"`
	Misrouted  int64 `json:"misrouted"`
	Late       int64 `json:"late"`              // deliveries of no item of the scenario
	Unordered  int64 `json:"outOfOrder"`        // broadcasts a socket got after a later one
	Pending    int64 `json:"pending,omitempty"` // not yet delivered when the time limit ended a scenario that was still delivering
	Refused    int64 `json:"refused,omitempty"` // location reports the gateway refused (not expected then)

	Wall        float64 `json:"wallSeconds,omitempty"`
	PublishWall float64 `json:"publishSeconds,omitempty"`
	CPU         float64 `json:"gatewayCpuSeconds,omitempty"`
	GenCPU      float64 `json:"generatorCpuSeconds,omitempty"`

	OfferedPerSec     float64 `json:"offeredPerSec,omitempty"`
	DeliveriesPerSec  float64 `json:"deliveriesPerSec,omitempty"`
	CPUPerDeliveryUs  float64 `json:"cpuPerDeliveryUs,omitempty"`
	P50Ms             float64 `json:"latencyP50Ms,omitempty"`
	P99Ms             float64 `json:"latencyP99Ms,omitempty"`
	MaxMs             float64 `json:"latencyMaxMs,omitempty"`
	CPUPerHandshakeMs float64 `json:"cpuPerHandshakeMs,omitempty"`
	HandshakesPerSec  float64 `json:"handshakesPerSec,omitempty"`
	MemPerConnKB      float64 `json:"memPerConnKB,omitempty"`
	RSSBaseMB         float64 `json:"rssBaseMB,omitempty"`
	RSSMB             float64 `json:"rssMB,omitempty"`

	// The drain scenario.
	Recovered         int64   `json:"recovered,omitempty"`
	NotRecovered      int64   `json:"notRecovered,omitempty"`
	ServerDisconnects int64   `json:"serverDisconnects,omitempty"`
	RecoverSeconds    float64 `json:"secondsUntilAllReconnected,omitempty"`
	PeakCPUCores      float64 `json:"receiverPeakCpuCores,omitempty"`

	Note string `json:"note,omitempty"`
}

// Clean reports whether nothing failed, was lost, duplicated, misrouted
// or delivered out of order.
func (s Scenario) Clean() bool {
	return s.Failed == 0 && s.Dropped == 0 && s.Lost == 0 && s.Duplicated == 0 && s.Misrouted == 0 && s.Late == 0 && s.Unordered == 0 && s.Pending == 0
}

// NotRun reports a scenario that was skipped.
func (s Scenario) NotRun() bool { return strings.HasPrefix(s.Note, "not run") }

func (s Scenario) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d sockets", s.Name, s.Sockets)
	if s.CPUPerHandshakeMs > 0 {
		fmt.Fprintf(&b, ", %.3f ms CPU/handshake, %.0f handshakes/s", s.CPUPerHandshakeMs, s.HandshakesPerSec)
	}
	if s.MemPerConnKB != 0 {
		fmt.Fprintf(&b, ", %.1f KB/conn (RSS %.0f → %.0f MB)", s.MemPerConnKB, s.RSSBaseMB, s.RSSMB)
	}
	if s.Published > 0 {
		fmt.Fprintf(&b, ", %d published, %d/%d delivered, %.0f/s", s.Published, s.Delivered, s.Expected, s.DeliveriesPerSec)
		if s.CPUPerDeliveryUs > 0 {
			fmt.Fprintf(&b, ", %.1f µs CPU/delivery", s.CPUPerDeliveryUs)
		}
		fmt.Fprintf(&b, ", p50 %.1f ms p99 %.1f ms", s.P50Ms, s.P99Ms)
	}
	fmt.Fprintf(&b, "; failed %d, dropped %d, lost %d, dup %d, misrouted %d, late %d, out of order %d", s.Failed, s.Dropped, s.Lost, s.Duplicated, s.Misrouted, s.Late, s.Unordered)
	if s.Pending > 0 {
		fmt.Fprintf(&b, ", pending %d", s.Pending)
	}
	if s.Refused > 0 {
		fmt.Fprintf(&b, ", refused %d", s.Refused)
	}
	if s.Note != "" {
		b.WriteString(" (" + s.Note + ")")
	}
	return b.String()
}

// Find returns the scenario name of side.
func (r *Results) Find(name, side string) (Scenario, bool) {
	for _, s := range r.Scenarios {
		if s.Name == name && s.Side == side {
			return s, true
		}
	}
	return Scenario{}, false
}

// WriteJSON writes r to path.
func (r *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// row is one line of the table: a metric of a scenario.
type row struct {
	label string
	sc    string
	get   func(Scenario) float64
	unit  string
	prec  int
}

func rows(r *Results) []row {
	idleMax := fmt.Sprintf("memory per idle websocket at %d", r.IdleMax)
	steady := fmt.Sprintf("broadcast %g/s", r.SteadyRate)
	return []row{
		{"CPU per handshake (connect + register)", ScConnect, func(s Scenario) float64 { return s.CPUPerHandshakeMs }, "ms", 3},
		{"handshakes/s during the ramp", ScConnect, func(s Scenario) float64 { return s.HandshakesPerSec }, "/s", 0},
		{fmt.Sprintf("memory per idle websocket at %d", r.Sockets), ScIdle, func(s Scenario) float64 { return s.MemPerConnKB }, "KB", 1},
		{idleMax, ScIdleMax, func(s Scenario) float64 { return s.MemPerConnKB }, "KB", 1},
		{"broadcast 1/s: CPU per delivery", ScBroadcast, func(s Scenario) float64 { return s.CPUPerDeliveryUs }, "µs", 1},
		{"broadcast 1/s: latency p50", ScBroadcast, func(s Scenario) float64 { return s.P50Ms }, "ms", 1},
		{"broadcast 1/s: latency p99", ScBroadcast, func(s Scenario) float64 { return s.P99Ms }, "ms", 1},
		{steady + ": CPU per delivery", ScSteady, func(s Scenario) float64 { return s.CPUPerDeliveryUs }, "µs", 1},
		{steady + ": deliveries/s", ScSteady, func(s Scenario) float64 { return s.DeliveriesPerSec }, "/s", 0},
		{steady + ": latency p50", ScSteady, func(s Scenario) float64 { return s.P50Ms }, "ms", 1},
		{steady + ": latency p99", ScSteady, func(s Scenario) float64 { return s.P99Ms }, "ms", 1},
		{"broadcast saturation: CPU per delivery", ScSat, func(s Scenario) float64 { return s.CPUPerDeliveryUs }, "µs", 1},
		{"broadcast saturation: deliveries/s", ScSat, func(s Scenario) float64 { return s.DeliveriesPerSec }, "/s", 0},
		{"broadcast saturation: latency p50", ScSat, func(s Scenario) float64 { return s.P50Ms }, "ms", 1},
		{"broadcast saturation: latency p99", ScSat, func(s Scenario) float64 { return s.P99Ms }, "ms", 1},
		{"targeted orders+notifications: CPU per delivery", ScTargeted, func(s Scenario) float64 { return s.CPUPerDeliveryUs }, "µs", 1},
		{"targeted: deliveries/s", ScTargeted, func(s Scenario) float64 { return s.DeliveriesPerSec }, "/s", 0},
		{"targeted: latency p50", ScTargeted, func(s Scenario) float64 { return s.P50Ms }, "ms", 1},
		{"targeted: latency p99", ScTargeted, func(s Scenario) float64 { return s.P99Ms }, "ms", 1},
		{"location relay: CPU per delivery", ScLocation, func(s Scenario) float64 { return s.CPUPerDeliveryUs }, "µs", 1},
		{"location relay: latency p50 (emit → receipt)", ScLocation, func(s Scenario) float64 { return s.P50Ms }, "ms", 1},
		{"location relay: latency p99", ScLocation, func(s Scenario) float64 { return s.P99Ms }, "ms", 1},
		{"pinned to one core: deliveries/s", ScPinned, func(s Scenario) float64 { return s.DeliveriesPerSec }, "/s", 0},
		{"pinned: CPU per delivery", ScPinned, func(s Scenario) float64 { return s.CPUPerDeliveryUs }, "µs", 1},
		{"pinned: latency p50", ScPinned, func(s Scenario) float64 { return s.P50Ms }, "ms", 1},
		{"pinned: latency p99", ScPinned, func(s Scenario) float64 { return s.P99Ms }, "ms", 1},
		{"drain of one of two replicas: until all reconnected", ScDrain, func(s Scenario) float64 { return s.RecoverSeconds }, "s", 1},
		{"drain: sockets recovered", ScDrain, func(s Scenario) float64 { return float64(s.Recovered) }, "", 0},
		{"drain: peak CPU of the receiving replica", ScDrain, func(s Scenario) float64 { return s.PeakCPUCores * 100 }, "% of a core", 0},
	}
}

// WriteTable prints the Markdown table: Node beside ours with ours ÷ Node,
// then the correctness counts of every scenario.
func (r *Results) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "| | Node socket.io 4.8 | ours | ours ÷ Node |\n|---|---|---|---|\n")
	for _, rw := range rows(r) {
		n, nok := r.Find(rw.sc, SideNode)
		o, ook := r.Find(rw.sc, SideOurs)
		if !nok && !ook {
			continue
		}
		nv, ov := rw.get(n), rw.get(o)
		cell := func(ok bool, s Scenario, v float64) string {
			switch {
			case !ok:
				return "–"
			case s.NotRun():
				return "not run"
			}
			return strings.TrimSpace(fmt.Sprintf("%.*f %s", rw.prec, v, rw.unit))
		}
		ratio := ""
		if nok && ook && nv > 0 && ov > 0 {
			ratio = fmt.Sprintf("%.2f×", ov/nv)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", rw.label, cell(nok, n, nv), cell(ook, o, ov), ratio)
	}
	fmt.Fprintf(w, "\nCorrectness (connections failed / dropped, deliveries lost / duplicated / misrouted / out of order; every scenario):\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "| scenario\t| side\t| sockets\t| failed / dropped\t| delivered of expected\t| lost / dup / misrouted / out of order\t| refused\t| note\t|\n|---\t|---\t|---\t|---\t|---\t|---\t|---\t|---\t|\n")
	for _, s := range r.Scenarios {
		deliv := ""
		if s.Expected > 0 || s.Published > 0 {
			deliv = fmt.Sprintf("%d of %d", s.Delivered, s.Expected)
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %d\t| %d / %d\t| %s\t| %d / %d / %d / %d\t| %d\t| %s\t|\n",
			s.Name, s.Side, s.Sockets, s.Failed, s.Dropped, deliv, s.Lost, s.Duplicated, s.Misrouted+s.Late, s.Unordered, s.Refused, s.Note)
	}
	_ = tw.Flush()
	for _, l := range r.Lookups {
		fmt.Fprintf(w, "\n%s: the bench's directory answered %d user and %d order-parties lookups", l.Side, l.Users, l.Parties)
	}
	fmt.Fprintf(w, "\n\n%d CPUs, load average %s at start, %s at end; %s to %s UTC\n",
		r.CPUs, r.LoadAvg, r.LoadAvgEnd, r.Started.Format("2006-01-02 15:04:05"), r.Finished.Format("15:04:05"))
	for _, n := range r.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}
