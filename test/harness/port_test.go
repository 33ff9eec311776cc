package harness

import (
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/infra"
)

// A port taken between picking and binding it moves the service to
// another one instead of failing the test.
func TestStartOnFreePortMovesOffATakenPort(t *testing.T) {
	bins, err := BuildBinaries()
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	r := infra.StartRedis(t)
	g := &process{
		name: "g1", bin: bins.Gateway, addr: taken.Addr().String(),
		logPath: filepath.Join(t.TempDir(), "g1.log"),
		env:     map[string]string{"REDIS_URL": r.URL(), "ORDERAPI_URL": "http://127.0.0.1:1", "GATEWAY_ID": "g1"},
	}
	startOnFreePort(t, g)
	defer g.stop(syscall.SIGTERM, 10*time.Second)
	if g.addr == taken.Addr().String() {
		t.Fatalf("still on the taken port %s", g.addr)
	}
}
