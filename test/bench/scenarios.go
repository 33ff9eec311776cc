package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/infra"
)

// Scenario names, as the JSON and the table show them.
const (
	ScConnect   = "connect-ramp"
	ScIdle      = "idle"
	ScIdleMax   = "idle-max"
	ScBroadcast = "broadcast-1/s"
	ScSteady    = "broadcast-steady"
	ScSat       = "broadcast-saturation"
	ScTargeted  = "targeted"
	ScLocation  = "location-relay"
	ScPinned    = "pinned-broadcast"
	ScDrain     = "drain"
)

// sideRun is one gateway under test and the generator's sockets on it.
type sideRun struct {
	cfg     Config
	side    string
	g       *gateway
	pub     *bus.Bus
	f       *fleet
	nextSeq int64
	logf    func(string, ...any)

	directoryURL string
	ctx          context.Context // cancels connect ramps and waits
}

func runSide(ctx context.Context, cfg Config, side, directoryURL string, logf func(string, ...any)) (out []Scenario, err error) {
	logf("%s: starting its redis-server and gateway", side)
	var extra map[string]string
	if side == SideOurs {
		extra = drainEnv()
	}
	g, err := startGateway(side, cfg.GatewayBin, cfg.NodeDir, cfg.WorkDir, directoryURL, extra)
	if err != nil {
		return nil, err
	}
	defer g.stop()
	pub, err := bus.New(bus.Config{URL: g.redis.URL()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	defer pub.Close()
	s := &sideRun{cfg: cfg, side: side, g: g, pub: pub, f: newFleet(g.addr), logf: logf, directoryURL: directoryURL, ctx: ctx}
	defer s.f.closeAll()
	for range cfg.Admins {
		s.f.add(roleAdmin)
	}
	for range cfg.Agents {
		s.f.add(roleAgent)
	}
	for len(s.f.clients) < cfg.Sockets {
		s.f.add(roleCustomer)
	}

	time.Sleep(time.Second) // let the fresh process settle before the baseline
	rss0, err := rssBytes(g.pid())
	if err != nil {
		return nil, err
	}
	add := func(sc Scenario) {
		sc.Side = side
		if sc.Sockets == 0 {
			sc.Sockets = s.f.liveCount()
		}
		sc.Dropped = s.f.dropped.Swap(0)
		out = append(out, sc)
		logf("%s: %s", side, sc.summary())
	}

	add(s.connectRamp(ScConnect, s.f.clients))
	time.Sleep(cfg.IdleSettle)
	add(s.idle(ScIdle, rss0))
	if g.exited() {
		return out, fmt.Errorf("gateway exited (log: %s)", g.logPath)
	}

	steps := []func() Scenario{
		func() Scenario { return s.broadcast(ScBroadcast, 1, float64(cfg.SlowBroadcasts)) },
		s.targeted,
		s.location,
		func() Scenario {
			return s.broadcast(ScSteady, cfg.SteadyRate, cfg.SteadyRate*cfg.SteadyFor.Seconds())
		},
		s.saturation,
	}
	if !cfg.NoPinned {
		steps = append(steps, s.pinned)
	}
	for _, step := range steps {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		add(step())
		if g.exited() {
			return out, fmt.Errorf("gateway exited (log: %s)", g.logPath)
		}
	}

	if cfg.IdleMax > cfg.Sockets {
		var extra []*client
		for len(s.f.clients) < cfg.IdleMax {
			extra = append(extra, s.f.add(roleCustomer))
		}
		ramp := s.connectRamp(ScConnect+"-extra", extra)
		time.Sleep(cfg.IdleSettle)
		sc := s.idle(ScIdleMax, rss0)
		sc.Failed = ramp.Failed
		add(sc)
		s.f.retire(extra) // back to cfg.Sockets for what follows
	}
	// Last: it ends the gateway. Node 4.8 recovers only on the server that
	// held the session (in-memory adapter), so the drain is ours alone.
	if side == SideOurs && cfg.Drain {
		add(s.drain())
	}
	return out, nil
}

// connectRamp connects and registers cs: CPU per handshake.
func (s *sideRun) connectRamp(name string, cs []*client) Scenario {
	pid := s.g.pid()
	cpu0, _ := cpuTime(pid)
	gen0, _ := cpuTime(os.Getpid())
	t0 := time.Now()
	failed, firstErr := s.f.connectAll(s.ctx, cs, s.cfg.Concurrency)
	wall := time.Since(t0)
	cpu1, _ := cpuTime(pid)
	gen1, _ := cpuTime(os.Getpid())
	ok := len(cs) - failed
	sc := Scenario{Name: name, Sockets: len(cs), Failed: int64(failed), Wall: wall.Seconds(), CPU: (cpu1 - cpu0).Seconds(), GenCPU: (gen1 - gen0).Seconds()}
	if ok > 0 {
		sc.CPUPerHandshakeMs = (cpu1 - cpu0).Seconds() * 1000 / float64(ok)
		sc.HandshakesPerSec = float64(ok) / wall.Seconds()
	}
	if firstErr != nil {
		sc.Note = "first failure: " + firstErr.Error()
	}
	return sc
}

// idle reads the gateway's memory with every socket connected and quiet.
func (s *sideRun) idle(name string, rss0 int64) Scenario {
	rss, _ := rssBytes(s.g.pid())
	live := s.f.liveCount()
	sc := Scenario{Name: name, Sockets: live, RSSBaseMB: float64(rss0) / (1 << 20), RSSMB: float64(rss) / (1 << 20)}
	if live > 0 {
		sc.MemPerConnKB = float64(rss-rss0) / 1024 / float64(live)
	}
	return sc
}

// run measures one scenario: publish runs the offered load against a
// fresh round, then the bench waits until every expected delivery arrived
// or nothing arrived for cfg.Quiet.
func (s *sideRun) run(name string, capacity int, publish func(r *round) string) Scenario {
	r := newRound(s.nextSeq, capacity, len(s.f.clients))
	s.nextSeq += int64(capacity)
	s.f.round.Store(r)
	defer s.f.round.Store(nil)
	pid := s.g.pid()
	cpu0, _ := cpuTime(pid)
	gen0, _ := cpuTime(os.Getpid())
	t0 := time.Now()
	note := publish(r)
	published := time.Since(t0)

	deadline := time.Now().Add(s.cfg.ScenarioTimeout)
	lastGot, lastChange := int64(-1), time.Now()
	timedOut := false
	for s.ctx.Err() == nil {
		got := r.totalGot.Load()
		if got >= r.totalExp.Load() {
			break
		}
		if got != lastGot {
			lastGot, lastChange = got, time.Now()
		} else if time.Since(lastChange) > s.cfg.Quiet {
			break // nothing for that long: what is missing is lost
		}
		if time.Now().After(deadline) {
			timedOut = true // still arriving: missing is pending, not lost
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cpu1, _ := cpuTime(pid)
	gen1, _ := cpuTime(os.Getpid())
	end := time.Now()
	if last := r.lastRecv.Load(); last > 0 {
		end = time.Unix(0, last)
	}
	lost, dup, lostLive := r.tally(s.f)
	delivered := r.totalGot.Load()
	sc := Scenario{
		Name: name, Published: r.n.Load(), Expected: r.totalExp.Load(), Delivered: delivered,
		Lost: lost, Duplicated: dup, Misrouted: r.misrouted.Load(), Late: r.late.Load(), Unordered: r.unordered.Load(), Refused: r.refused.Load(),
		Wall: end.Sub(t0).Seconds(), PublishWall: published.Seconds(),
		CPU: (cpu1 - cpu0).Seconds(), GenCPU: (gen1 - gen0).Seconds(),
		P50Ms: r.hist.quantile(0.50), P99Ms: r.hist.quantile(0.99), MaxMs: r.hist.quantile(1),
		Note: note,
	}
	if timedOut { // sockets still connected may yet get theirs
		sc.Pending, sc.Lost = lostLive, lost-lostLive
		sc.Note = strings.TrimSpace(sc.Note + fmt.Sprintf(" still delivering at the %s limit: %d pending", s.cfg.ScenarioTimeout, sc.Pending))
	}
	if delivered > 0 {
		sc.CPUPerDeliveryUs = sc.CPU * 1e6 / float64(delivered)
		if w := end.Sub(t0).Seconds(); w > 0 {
			sc.DeliveriesPerSec = float64(delivered) / w
		}
	}
	return sc
}

// paced calls fn(i) for i in [0, n) at rate per second, catching up
// without sleeping when behind.
func paced(n int, rate float64, fn func(i int)) {
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		fn(i)
	}
}

func (s *sideRun) publish(p event.Payload, at time.Time) error {
	env, err := event.New(p, at)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.pub.Publish(ctx, env)
}

// broadcast publishes n business.status_changed events at rate per
// second: each goes to every socket.
func (s *sideRun) broadcast(name string, rate, n float64) Scenario {
	count := max(int(n), 1)
	sc := s.run(name, count, func(r *round) string {
		live := int64(s.f.liveCount())
		var errs int
		paced(count, rate, func(int) {
			if err := s.publishBroadcast(r, live); err != nil {
				errs++
			}
		})
		return publishNote(errs)
	})
	sc.OfferedPerSec = rate * float64(s.f.liveCount())
	return sc
}

// publishBroadcast publishes one business.status_changed, expected by
// the live sockets.
func (s *sideRun) publishBroadcast(r *round, live int64) error {
	now := time.Now()
	seq := r.add(kindAll, 0, now)
	r.allExp.Add(1)
	r.totalExp.Add(live)
	return s.publish(&event.BusinessStatus{IsOpen: true, BusinessName: "Bench Pizza", Message: "We are open ~" + strconv.FormatInt(seq, 10) + "~"}, now)
}

func publishNote(errs int) string {
	if errs == 0 {
		return ""
	}
	return fmt.Sprintf("%d publishes failed", errs)
}

// targeted publishes order status changes and notifications, half each,
// at cfg.TargetedRate per second, to random orders and customers.
func (s *sideRun) targeted() Scenario {
	n := int(s.cfg.TargetedRate * s.cfg.TargetedFor.Seconds())
	rng := rand.New(rand.NewPCG(1, 2))
	sc := s.run(ScTargeted, n, func(r *round) string {
		var errs atomic.Int64
		// A few publishers in parallel: one MULTI round trip at a time
		// cannot keep 2 000/s on a busy machine.
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		paced(n, s.cfg.TargetedRate, func(i int) {
			now := time.Now()
			var p event.Payload
			if i%2 == 0 {
				k := rng.IntN(len(s.f.agents))
				seq := r.add(kindOrder, k, now)
				r.expectOne(s.f.custs[k], 1)
				r.expectOne(s.f.agents[k], 1)
				for _, a := range s.f.admins {
					r.expectOne(a, 2) // order:status:update and order:status:changed
				}
				p = &event.OrderStatusChangedData{
					OrderID: makeID(prefixOrder, k), OrderNumber: "B" + strconv.Itoa(k),
					CustomerID: s.f.custs[k].user, DeliveryAgentID: s.f.agents[k].user,
					Status: "out_for_delivery", PreviousStatus: "ready", PaymentStatus: "pending",
					Message: "Your order is on its way ~" + strconv.FormatInt(seq, 10) + "~",
				}
			} else {
				j := rng.IntN(len(s.f.custs))
				seq := r.add(kindNotif, j, now)
				r.expectOne(s.f.custs[j], 1)
				p = &event.NotificationData{
					NotificationID: event.NewID(now), UserID: s.f.custs[j].user, Type: "order",
					Title: "Order update", Message: "Your pizza is in the oven ~" + strconv.FormatInt(seq, 10) + "~",
					Priority: "medium", CreatedAt: now,
				}
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.publish(p, now); err != nil {
					errs.Add(1)
				}
				<-sem
			}()
		})
		wg.Wait()
		return publishNote(int(errs.Load()))
	})
	sc.OfferedPerSec = s.cfg.TargetedRate
	return sc
}

// locAudience is who gets agent k's location: customer k and the admins.
func (f *fleet) locAudience(k int) []*client {
	out := append([]*client{}, f.admins...)
	if k < len(f.custs) {
		out = append(out, f.custs[k])
	}
	return out
}

// location has every agent report its order's position once a second
// (delivery:location with an ack); the gateway checks the assignment
// (the bench's directory says order k is agent k's), stores it and
// relays it through its bus to customer k and the admins.
func (s *sideRun) location() Scenario {
	agents := s.f.agents
	ticks := max(int(s.cfg.LocationFor.Seconds()), 1)
	n := ticks * len(agents)
	rate := float64(len(agents)) // every agent once per second
	sc := s.run(ScLocation, n, func(r *round) string {
		var errs int
		last := make([]time.Time, len(agents))
		paced(n, rate, func(i int) {
			k := i % len(agents)
			// After the loop caught up on a stall, never report sooner
			// than a second after this agent's last report: the gateways
			// refuse faster ones, and that would be the generator's fault.
			if d := time.Until(last[k].Add(time.Second)); d > 0 {
				time.Sleep(d)
			}
			now := time.Now()
			last[k] = now
			seq := r.add(kindLoc, k, now)
			for _, c := range s.f.locAudience(k) {
				r.expectOne(c, 1)
			}
			lat := 12.9 + float64(i%100)/1e4
			msg := `42` + strconv.FormatInt(seq, 10) + `["delivery:location",{"orderId":"` + makeID(prefixOrder, k) +
				`","latitude":` + strconv.FormatFloat(lat, 'f', 5, 64) + `,"longitude":77.59,"speed":8,"heading":90,"accuracy":` +
				strconv.FormatInt(seq, 10) + `}]`
			if err := agents[k].emit([]byte(msg)); err != nil {
				errs++
				r.refuse(s.f, seq)
			}
		})
		return publishNote(errs)
	})
	sc.OfferedPerSec = rate
	return sc
}

// saturation offers broadcasts faster than the gateway delivers them, so
// it works from a backlog, and says so when it did not.
func (s *sideRun) saturation() Scenario {
	sc := s.broadcast(ScSat, s.cfg.SatRate, s.cfg.SatRate*s.cfg.SatDuration.Seconds())
	if sc.Delivered > 0 && sc.DeliveriesPerSec >= 0.9*sc.OfferedPerSec {
		sc.Note = strings.TrimSpace(sc.Note + fmt.Sprintf(" not saturated: delivered %.0f/s of %.0f/s offered; raise -sat-rate", sc.DeliveriesPerSec, sc.OfferedPerSec))
	}
	return sc
}

// pinned pins the gateway to CPU 0 and the generator and the gateway's
// Redis to CPU 1, then broadcasts at cfg.PinnedRate.
func (s *sideRun) pinned() Scenario {
	if runtime.NumCPU() < 2 {
		return Scenario{Name: ScPinned, Note: "not run: needs 2 CPUs"}
	}
	all := "0-" + strconv.Itoa(runtime.NumCPU()-1)
	rpid := s.g.redis.PID()
	var pinned []int
	defer func() { // also after a failed pin: what follows runs unpinned
		for _, pid := range pinned {
			_ = pin(pid, all)
		}
	}()
	for _, p := range []struct {
		pid  int
		cpus string
	}{{s.g.pid(), "0"}, {os.Getpid(), "1"}, {rpid, "1"}} {
		if p.pid == 0 {
			continue
		}
		if err := pin(p.pid, p.cpus); err != nil {
			return Scenario{Name: ScPinned, Note: "not run: " + err.Error()}
		}
		pinned = append(pinned, p.pid)
	}
	n := s.cfg.PinnedRate * s.cfg.PinnedFor.Seconds()
	sc := s.broadcast(ScPinned, s.cfg.PinnedRate, n)
	if rpid == 0 {
		sc.Note += " (gateway's redis-server not found: left unpinned)"
	}
	return sc
}

// drain is issue 12's scenario: every socket on replica A, a second
// replica B on the same Redis, a steady stream of broadcasts, then SIGTERM
// to A. A drains (closes its sockets over its drain window); each socket
// reconnects to B presenting {pid, offset} like socket.io-client 4.8.
// Measured: time from SIGTERM until every socket is back, how many were
// recovered, events lost or duplicated, and B's peak CPU.
func (s *sideRun) drain() Scenario {
	if s.f.pids.Load() == 0 {
		return Scenario{Name: ScDrain, Note: "not run: the gateway offers no connection state recovery (its CONNECT reply carries no pid)"}
	}
	b, err := startGatewayOn(s.g.redis, s.side, "bench-"+s.side+"-2", s.cfg.GatewayBin, s.cfg.NodeDir, s.cfg.WorkDir, s.directoryURL, drainEnv())
	if err != nil {
		return Scenario{Name: ScDrain, Note: "not run: second replica: " + err.Error()}
	}
	defer b.stop()
	s.f.failover.Store(&b.addr)
	defer s.f.failover.Store(nil)
	// Sockets lost in earlier scenarios are not the drain's to count.
	var dead []*client
	for _, c := range s.f.clients {
		if c.ok && !c.live.Load() {
			dead = append(dead, c)
		}
	}
	s.f.retire(dead)
	s.f.recovered.Store(0)
	s.f.notRecovered.Store(0)
	s.f.reconnectFailed.Store(0)
	s.f.serverDisconnects.Store(0)
	live := s.f.liveCount()

	var termAt time.Time
	peak := make(chan float64, 1)
	stopSampling := make(chan struct{})
	go func() { peak <- sampleCPU(b.pid(), 250*time.Millisecond, stopSampling) }()

	n := int(s.cfg.DrainRate * s.cfg.DrainFor.Seconds())
	sc := s.run(ScDrain, n, func(r *round) string {
		var errs int
		paced(n, s.cfg.DrainRate, func(i int) {
			if i == int(s.cfg.DrainRate) { // one second into the stream
				termAt = time.Now()
				_ = s.g.cmd.Process.Signal(syscall.SIGTERM)
			}
			if err := s.publishBroadcast(r, int64(live)); err != nil {
				errs++
			}
		})
		// Wait until every socket is back (or gave up).
		deadline := time.Now().Add(s.cfg.ScenarioTimeout)
		for time.Now().Before(deadline) && s.f.recovered.Load()+s.f.notRecovered.Load()+s.f.reconnectFailed.Load() < int64(live) {
			time.Sleep(50 * time.Millisecond)
		}
		return publishNote(errs)
	})
	close(stopSampling)
	// A exits during the run, so its CPU reading is void; B's peak is the
	// figure that matters here.
	sc.CPU, sc.CPUPerDeliveryUs = 0, 0
	sc.Sockets = live // the fleet is closed below, before add counts it
	sc.PeakCPUCores = <-peak
	sc.Recovered = s.f.recovered.Load()
	sc.NotRecovered = s.f.notRecovered.Load()
	sc.Failed = s.f.reconnectFailed.Load()
	sc.ServerDisconnects = s.f.serverDisconnects.Load()
	if last := s.f.lastReconnect.Load(); last > 0 && !termAt.IsZero() {
		sc.RecoverSeconds = time.Unix(0, last).Sub(termAt).Seconds()
	}
	if sc.ServerDisconnects > 0 {
		sc.Note = fmt.Sprintf("%d sockets got a Socket.IO DISCONNECT: socket.io-client does not reconnect after that", sc.ServerDisconnects)
	}
	// Nothing follows on this side: close the fleet before B stops, and
	// give A the rest of its drain to exit.
	s.f.closeAll()
	select {
	case <-s.g.done:
	case <-time.After(30 * time.Second):
		infra.StopProcess(s.g.cmd, s.g.done, syscall.SIGKILL, 0)
	}
	return sc
}

// drainEnv makes our replicas drain quickly enough for the bench (issue
// 12: GATEWAY_DRAIN_DELAY, GATEWAY_DRAIN_WINDOW).
func drainEnv() map[string]string {
	return map[string]string{"GATEWAY_DRAIN_DELAY": "1s", "GATEWAY_DRAIN_WINDOW": "5s"}
}

// sampleCPU returns the highest CPU use of pid (in cores) over intervals
// of every, until stop closes.
func sampleCPU(pid int, every time.Duration, stop <-chan struct{}) float64 {
	prev, _ := cpuTime(pid)
	prevAt := time.Now()
	peak := 0.0
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return peak
		case <-t.C:
			cur, err := cpuTime(pid)
			if err != nil {
				return peak
			}
			now := time.Now()
			peak = max(peak, (cur-prev).Seconds()/now.Sub(prevAt).Seconds())
			prev, prevAt = cur, now
		}
	}
}
