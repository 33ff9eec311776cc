package jsclient_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/infra"
	"github.com/friendspizzahut/platform/test/jsclient"
)

const wait = 10 * time.Second

func TestConnectErrorOnClosedPort(t *testing.T) {
	t.Parallel()
	addr, err := infra.FreeAddr() // free, so nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	d := jsclient.Start(t)
	if v := d.Version(); v[:4] != "4.8." {
		t.Fatalf("socket.io-client version %q, want 4.8.x", v)
	}
	for _, tr := range jsclient.Transports() {
		s := d.Connect(t, "http://"+addr, jsclient.Options{Transports: tr, NoReconnect: true})
		if msg := s.WaitConnectError(t); msg == "" {
			t.Errorf("%s: empty connect_error message", tr)
		}
	}
}

// startEchoServer runs test/js/echo-server.mjs, a real Node socket.io 4.8
// server, and returns its URL.
func startEchoServer(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("node", "echo-server.mjs")
	cmd.Dir = jsclient.Dir()
	infra.KillWithParent(cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe() // closing it stops the server
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start echo server: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("echo server did not report its port: %v; stderr: %s", err, stderr.String())
	}
	var hello struct{ Port int }
	if err := json.Unmarshal(line, &hello); err != nil || hello.Port == 0 {
		t.Fatalf("echo server said %q (%v)", line, err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", hello.Port)
}

func TestAgainstNodeServer(t *testing.T) {
	t.Parallel()
	url := startEchoServer(t)
	d := jsclient.Start(t)

	for _, tr := range jsclient.Transports() {
		t.Run(string(tr), func(t *testing.T) {
			s := d.Connect(t, url, jsclient.Options{
				Transports: tr,
				Auth:       map[string]any{"token": "abc"},
				Query:      map[string]string{"app": "test"},
			})
			c := s.WaitConnect(t)
			if c.SID == "" {
				t.Fatal("connect without a socket id")
			}
			// Default starts with polling and may have upgraded already.
			if tr != jsclient.Default && c.Transport != string(tr) {
				t.Fatalf("connected via %s, want %s", c.Transport, tr)
			}
			if tr == jsclient.Default {
				if got := s.WaitUpgrade(t); got != "websocket" {
					t.Fatalf("upgraded to %s, want websocket", got)
				}
			}

			welcome := s.WaitEvent(t, "welcome", wait, nil)
			var w struct {
				SID   string
				Auth  map[string]string
				Query map[string]string
			}
			if err := json.Unmarshal(welcome[0], &w); err != nil {
				t.Fatal(err)
			}
			if w.SID != c.SID || w.Auth["token"] != "abc" || w.Query["app"] != "test" {
				t.Fatalf("server saw %+v, want sid %s, token abc, app=test", w, c.SID)
			}

			// Acks carry JSON and binary args both ways.
			ack := s.EmitWithAck(t, wait, "anything", map[string]int{"n": 7}, []byte{9, 8, 7})
			if len(ack) != 2 || string(ack[0]) != `{"n":7}` {
				t.Fatalf("ack args %s, want [{\"n\":7}, <binary>]", ack)
			}
			if b, ok := jsclient.DecodeBin(ack[1]); !ok || !bytes.Equal(b, []byte{9, 8, 7}) {
				t.Fatalf("ack binary %s, want 090807", ack[1])
			}

			s.Emit("binary")
			got := s.WaitEvent(t, "binary", wait, nil)
			if b, ok := jsclient.DecodeBin(got[0]); !ok || !bytes.Equal(b, []byte{1, 2, 3}) {
				t.Fatalf("binary event %s, want 010203", got[0])
			}

			s.Emit("echo", "one")
			s.Emit("echo", "two")
			second := s.WaitEvent(t, "echo", wait, func(args []json.RawMessage) bool { return string(args[0]) == `"two"` })
			first := s.WaitEvent(t, "echo", wait, nil) // "two" is consumed, so this is "one"
			if string(second[0]) != `"two"` || string(first[0]) != `"one"` {
				t.Fatalf("echoes %s, %s, want \"two\", \"one\"", second[0], first[0])
			}
			if n := len(s.Events("echo")); n != 2 {
				t.Fatalf("got %d echo events, want 2", n)
			}

			// A dropped transport reconnects and the server recovers the session.
			s.DropTransport()
			if reason := s.WaitDisconnect(t); reason != "forced close" {
				t.Fatalf("disconnect reason %q, want \"forced close\"", reason)
			}
			if c2 := s.WaitConnect(t); !c2.Recovered || c2.SID != c.SID {
				t.Fatalf("reconnect %+v, want recovered session %s", c2, c.SID)
			}

			s.Disconnect()
			if reason := s.WaitDisconnect(t); reason != "io client disconnect" {
				t.Fatalf("disconnect reason %q, want \"io client disconnect\"", reason)
			}
			s.AssertNoEvent(t, "never", 50*time.Millisecond)
		})
	}

	t.Run("handshake refused", func(t *testing.T) {
		s := d.Connect(t, url, jsclient.Options{Auth: map[string]any{"reject": "bad token"}, NoReconnect: true})
		msg, data := s.WaitConnectErrorData(t)
		if msg != "bad token" || string(data) != `{"code":4001}` {
			t.Fatalf("connect_error %q %s, want \"bad token\" {\"code\":4001}", msg, data)
		}
	})
}
