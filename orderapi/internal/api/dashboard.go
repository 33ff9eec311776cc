package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/dashboard"
	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
)

// DefaultDashboardCacheTTL is how long the dashboard figures are reused.
const DefaultDashboardCacheTTL = 30 * time.Second

// DashboardConfig configures /dashboard/*. Zero values mean the defaults.
type DashboardConfig struct {
	// Location is the shop's time zone, which decides what "today" is
	// (DASHBOARD_TIMEZONE, default Asia/Kolkata; nil here means UTC).
	Location *time.Location
	// CacheTTL is how long computed figures are served again with
	// fromCache: true (DASHBOARD_CACHE_TTL, default 30s).
	CacheTTL time.Duration
}

// dashboardSource computes the figures and keeps the last result briefly.
// One computation runs at a time: concurrent requests on a cold cache wait
// for it instead of each scanning the orders.
type dashboardSource struct {
	orders   *store.Orders
	payments *store.Payments
	users    *store.Users
	cfg      DashboardConfig
	now      func() time.Time

	mu       sync.Mutex
	cached   *dashboard.Overview
	cachedAt time.Time
}

func newDashboardSource(s *store.Stores, cfg DashboardConfig, now func() time.Time) *dashboardSource {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultDashboardCacheTTL
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &dashboardSource{orders: s.Orders, payments: s.Payments, users: s.Users, cfg: cfg, now: now}
}

// startOfToday is the last midnight in the shop's time zone: every
// "today" figure (dashboard, payment and agent stats) starts there.
func (d *dashboardSource) startOfToday() time.Time {
	return dashboard.StartOfDay(d.now(), d.cfg.Location)
}

// overview returns the figures and whether they came from the cache.
// fresh skips the cache (the app's pull-to-refresh sends ?refresh=<ms>).
func (d *dashboardSource) overview(ctx context.Context, fresh bool) (dashboard.Overview, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if !fresh && d.cached != nil && now.Sub(d.cachedAt) < d.cfg.CacheTTL {
		return *d.cached, true, nil
	}
	in := dashboard.Input{Now: now, Location: d.cfg.Location}
	err := d.orders.EachOrderSummary(ctx, func(o *order.Order) { in.Orders = append(in.Orders, o) })
	if err != nil {
		return dashboard.Overview{}, false, err
	}
	err = d.payments.EachPayment(ctx, store.PaymentFilter{Status: order.PaymentCompleted}, func(p *store.Payment) {
		in.Payments = append(in.Payments, dashboard.Payment{Order: p.Order.Hex(), Amount: p.Amount, CreatedAt: p.CreatedAt})
	})
	if err != nil {
		return dashboard.Overview{}, false, err
	}
	if in.Customers, err = d.users.CountActiveCustomers(ctx); err != nil {
		return dashboard.Overview{}, false, err
	}
	if in.AgentsOnline, err = d.users.CountOnlineAgents(ctx); err != nil {
		return dashboard.Overview{}, false, err
	}
	ov := dashboard.Compute(in)
	d.cached, d.cachedAt = &ov, now
	return ov, false, nil
}

// systemStatus is the original's {database, cache, socket, lastChecked},
// checked live on every call (never cached): database pings MongoDB, cache
// pings Redis, socket is active when at least one gateway replica has
// reported its presence.
func systemStatus(ctx context.Context, checks map[string]func(context.Context) error, gateways func(context.Context) error, now time.Time) map[string]any {
	st := map[string]any{"lastChecked": jsTime(now)}
	for name, f := range map[string]func(context.Context) error{"database": checks["mongo"], "cache": checks["redis"], "socket": gateways} {
		state := "inactive"
		if f != nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if f(cctx) == nil {
				state = "active"
			}
			cancel()
		}
		st[name] = state
	}
	return st
}

// handleDashboardOverview: GET /dashboard/overview (A). data: {stats,
// weeklyChart, hourlySales, topProducts, recentActivities, systemStatus,
// lastUpdated, fromCache}.
func handleDashboardOverview(src *dashboardSource, checks map[string]func(context.Context) error, gateways func(context.Context) error) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ov, hit, err := src.overview(r.Context(), r.URL.Query().Has("refresh"))
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Dashboard overview retrieved successfully", map[string]any{
			"stats": ov.Stats, "weeklyChart": ov.WeeklyChart, "hourlySales": ov.HourlySales,
			"topProducts": ov.TopProducts, "recentActivities": ov.RecentActivities,
			"systemStatus": systemStatus(r.Context(), checks, gateways, src.now()),
			"lastUpdated":  ov.LastUpdated, "fromCache": hit,
		})
		return nil
	}
}

// handleDashboardStats: GET /dashboard/stats (A). data: the stats object
// plus fromCache.
func handleDashboardStats(src *dashboardSource) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ov, hit, err := src.overview(r.Context(), r.URL.Query().Has("refresh"))
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Dashboard stats retrieved successfully", struct {
			dashboard.Stats
			FromCache bool `json:"fromCache"`
		}{ov.Stats, hit})
		return nil
	}
}
