package harness_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/jsclient"
)

// TestSmoke is the acceptance check on a test stack: /health is
// 200 through the single origin and the real socket.io-client connects
// through it with every transport, spread over both replicas.
func TestSmoke(t *testing.T) {
	st := harness.Start(t, harness.Options{Gateways: 2})
	t.Log(st)

	for _, path := range []string{"/health", "/api/v1/health"} {
		resp, err := http.Get(st.URL() + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/health" && resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /health: %d %s, want 200", resp.StatusCode, body)
		}
		if path == "/health" && !json.Valid(body) {
			t.Fatalf("GET /health body %q is not JSON", body)
		}
	}

	resp, err := http.Get(st.URL() + "/internal/v1/users/000000000000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /internal/ through the proxy: %d, want 404", resp.StatusCode)
	}

	d := jsclient.Start(t)
	for _, tr := range jsclient.Transports() {
		t.Run(string(tr), func(t *testing.T) {
			// Two sockets per transport: round-robin puts them on both
			// replicas, so polling only works if stickiness does.
			for range 2 {
				s := d.Connect(t, st.URL(), jsclient.Options{Transports: tr})
				c := s.WaitConnect(t)
				s.Emit("ping")
				s.WaitEvent(t, "pong", 10*time.Second, nil)
				if tr == jsclient.Default && c.Transport == "polling" {
					if got := s.WaitUpgrade(t); got != "websocket" {
						t.Fatalf("upgraded to %s, want websocket", got)
					}
				}
				s.Disconnect()
			}
		})
	}
}

// TestRestartControls checks the process controls other tests rely on.
func TestRestartControls(t *testing.T) {
	st := harness.Start(t, harness.Options{Gateways: 1})

	st.StopGateway(0)
	if st.GatewayRunning(0) {
		t.Fatal("gateway still running after StopGateway")
	}
	st.StartGateway(t, 0, nil)
	st.WaitHTTP(t, st.GatewayURL(0)+"/readyz", http.StatusOK, 30*time.Second)

	st.KillGateway(0)
	st.StartGateway(t, 0, nil)

	st.Redis().Restart(t)
	st.WaitHTTP(t, st.OrderAPIURL()+"/readyz", http.StatusOK, 30*time.Second)
	st.WaitHTTP(t, st.GatewayURL(0)+"/readyz", http.StatusOK, 30*time.Second)
}

func TestOrderAPIKillAndRestart(t *testing.T) {
	// A restart runs orderapi's start-up (indexes, seed) on existing data.

	st := harness.Start(t, harness.Options{Gateways: 1})
	st.KillOrderAPI()
	if st.OrderAPIRunning() {
		t.Fatal("orderapi still running after KillOrderAPI")
	}
	st.StartOrderAPI(t, nil)
	st.WaitHTTP(t, st.URL()+"/health", http.StatusOK, 30*time.Second)
	st.RestartOrderAPI(t, map[string]string{"LOG_LEVEL": "info"})
	st.WaitHTTP(t, st.URL()+"/health", http.StatusOK, 30*time.Second)
}
