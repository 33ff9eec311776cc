package api

import (
	"context"
	"net/http"
	"time"
)

// handleHealth is the app's health check (CONTRACT §3.3): 200
// {status:'success', message, timestamp, uptime}.
func handleHealth(startedAt time.Time, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"status":    "success",
			"message":   "Server is running",
			"timestamp": jsTime(now()),
			"uptime":    now().Sub(startedAt).Seconds(),
		})
	})
}

// handleHealthz answers 200 while the process serves HTTP (liveness).
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
}

// handleReadyz answers 200 when every dependency answers, else 503 with
// what failed, and 503 once shutdown has begun, so load balancers stop
// sending work first.
func handleReadyz(checks map[string]func(context.Context) error, draining func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		results := make(map[string]string, len(checks))
		ok := true
		for name, check := range checks {
			if err := check(ctx); err != nil {
				results[name] = "error: " + err.Error()
				ok = false
			} else {
				results[name] = "ok"
			}
		}
		status, word := http.StatusOK, "ready"
		if draining() {
			status, word = http.StatusServiceUnavailable, "shutting down"
		} else if !ok {
			status, word = http.StatusServiceUnavailable, "not ready"
		}
		writeJSON(w, status, map[string]any{"status": word, "checks": results})
	})
}
