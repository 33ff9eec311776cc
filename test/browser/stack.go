// Package browser holds the tests that drive the admin dashboard in headless Chromium
// (dashboard.mjs, playwright-core) and the demo simulator against the whole stack.
package browser

import (
	"os"
	"sync"
	"testing"

	"github.com/friendspizzahut/platform/test/harness"
)

// stack is a running system: one origin serving /api/v1, /socket.io/ and /admin.
type stack struct {
	baseURL       string
	adminEmail    string
	adminPassword string
	h             *harness.Stack // nil for a stack the tests did not start
}

// startStack starts the whole platform with test/harness (two gateway replicas behind the
// proxy), serving the dashboard from adminDir when it is not empty. FPH_BASE_URL points the
// tests at an already running stack instead (for example `make run`).
func startStack(t *testing.T, adminDir string) stack {
	t.Helper()
	if u := os.Getenv("FPH_BASE_URL"); u != "" {
		return stack{baseURL: u, adminEmail: envOr("ADMIN_EMAIL", harness.AdminEmail), adminPassword: envOr("ADMIN_PASSWORD", harness.AdminPassword)}
	}
	opts := harness.Options{Gateways: 2}
	if adminDir != "" {
		opts.OrderAPIEnv = map[string]string{"ADMIN_DIR": adminDir}
	}
	st := harness.Start(t, opts)
	email, password := st.AdminCredentials()
	return stack{baseURL: st.URL(), adminEmail: email, adminPassword: password, h: st}
}

// control answers dashboard.mjs's requests to act on the stack: "stop-gateways" (SIGTERM to every
// replica, as in a rolling restart gone wrong) and "start-gateways". Without a harness it says
// "skip". It runs on the test goroutine.
func (s stack) control(t *testing.T) func(cmd string) string {
	return func(cmd string) string {
		if s.h == nil {
			return "skip"
		}
		switch cmd {
		case "stop-gateways":
			var wg sync.WaitGroup
			for i := range s.h.Gateways() {
				wg.Go(func() { s.h.StopGateway(i) })
			}
			wg.Wait()
		case "start-gateways":
			for i := range s.h.Gateways() {
				s.h.StartGateway(t, i, nil)
			}
		default:
			return "error: unknown command " + cmd
		}
		t.Logf("control: %s done", cmd)
		return "ok"
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
