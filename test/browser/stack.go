// Package browser holds the tests that drive the admin dashboard in headless Chromium
// (dashboard.mjs, playwright-core) and the demo simulator against the whole stack.
package browser

import (
	"os"
	"testing"
)

// stack is a running system: one origin serving /api/v1, /socket.io/ and /admin.
type stack struct {
	baseURL       string
	adminEmail    string
	adminPassword string
}

// startStack returns the stack under test, serving the dashboard from adminDir when it is not
// empty. FPH_BASE_URL points the tests at an already running stack (for example `make run`).
func startStack(t *testing.T, adminDir string) stack {
	t.Helper()
	if u := os.Getenv("FPH_BASE_URL"); u != "" {
		return stack{baseURL: u, adminEmail: envOr("ADMIN_EMAIL", "admin@friendspizzahut.test"), adminPassword: envOr("ADMIN_PASSWORD", "Admin12345")}
	}
	t.Skip("test/harness is not available yet; set FPH_BASE_URL to run against a running stack")
	return stack{}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
