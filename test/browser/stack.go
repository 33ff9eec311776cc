// Package browser holds the tests that drive the admin dashboard in headless Chromium
// (dashboard.mjs, playwright-core) and the demo simulator against the whole stack.
package browser

import (
	"os"
	"testing"

	"github.com/friendspizzahut/platform/test/harness"
)

// stack is a running system: one origin serving /api/v1, /socket.io/ and /admin.
type stack struct {
	baseURL       string
	adminEmail    string
	adminPassword string
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
	return stack{baseURL: st.URL(), adminEmail: email, adminPassword: password}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
