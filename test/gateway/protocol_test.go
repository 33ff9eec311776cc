package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/infra"
	"github.com/friendspizzahut/platform/test/jsclient"
)

// startFixture runs `gateway --conformance` (the harness's build) on a
// free port and returns its URL: it exposes the protocol features the
// product handlers do not use (binary, namespaces, acks with any
// arguments, server disconnect).
func startFixture(t *testing.T) string {
	t.Helper()
	bins, err := harness.BuildBinaries()
	if err != nil {
		t.Fatal(err)
	}
	bin := bins.Gateway
	addr, err := infra.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	cmd := exec.Command(bin, "--conformance")
	// Pings far apart: this test is about packets, and a loaded -race run
	// can miss the suites' 200 ms pong deadline.
	cmd.Env = append(os.Environ(), "PORT="+port, "LOG_LEVEL=warn",
		"CONFORMANCE_PING_INTERVAL=5s", "CONFORMANCE_PING_TIMEOUT=10s")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	infra.KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("fixture log:\n%s", logs.String())
		}
	})
	url := "http://127.0.0.1:" + port
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get(url + "/socket.io/?EIO=4&transport=polling")
		if err == nil {
			_ = resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("fixture not up: %v (its log follows)", err) // read after it stopped: see Cleanup
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProtocolFeatures: binary attachments and acks through the JS client,
// payloads near maxHttpBufferSize, namespaces, and a server disconnect
// that the client sees as "io server disconnect" (so it does not
// reconnect), on every transport.
func TestProtocolFeatures(t *testing.T) {
	url := startFixture(t)
	js := jsclient.Start(t)
	for _, tr := range jsclient.Transports() {
		t.Run(string(tr), func(t *testing.T) {
			s := js.Connect(t, url, jsclient.Options{Transports: tr, Auth: map[string]any{"token": "abc"}})
			s.WaitConnect(t)
			if got := obj(t, s.WaitEvent(t, "auth", wait, nil)[0]); got["token"] != "abc" {
				t.Fatalf("got auth %v", got)
			}

			s.Emit("message", 1, "two", map[string]any{"3": []bool{true}}, jsclient.Bin{1, 2, 3})
			args := s.WaitEvent(t, "message-back", wait, nil)
			if len(args) != 4 || string(args[0]) != "1" || string(args[1]) != `"two"` {
				t.Fatalf("got %s", args)
			}
			if b, ok := jsclient.DecodeBin(args[3]); !ok || !bytes.Equal(b, []byte{1, 2, 3}) {
				t.Fatalf("got binary %s", args[3])
			}

			big := strings.Repeat("x", 900_000)
			ack := s.EmitWithAck(t, wait, "message-with-ack", jsclient.Bin{4, 5}, map[string]string{"big": big})
			if b, ok := jsclient.DecodeBin(ack[0]); !ok || !bytes.Equal(b, []byte{4, 5}) {
				t.Fatalf("got ack %s", ack[0])
			}
			var m map[string]string
			if err := json.Unmarshal(ack[1], &m); err != nil || m["big"] != big {
				t.Fatalf("big ack arg lost: %v", err)
			}

			custom := js.Connect(t, url+"/custom", jsclient.Options{Transports: tr})
			custom.WaitConnect(t)
			custom.WaitEvent(t, "auth", wait, nil)
			bad := js.Connect(t, url+"/random", jsclient.Options{Transports: tr, NoReconnect: true})
			if msg := bad.WaitConnectError(t); msg != "Invalid namespace" {
				t.Fatalf("got %q, want Invalid namespace", msg)
			}

			s.Emit("disconnect-me")
			if reason := s.WaitDisconnect(t); reason != "io server disconnect" {
				t.Fatalf("got disconnect reason %q, want io server disconnect", reason)
			}
		})
	}
}
