// Package deps_test guards what the production binaries link: the embedded
// servers of the dev stack and the tests (FerretDB, miniredis) must never
// end up in orderapi or the gateway.
package deps_test

import (
	"os/exec"
	"strings"
	"testing"
)

func TestServiceBinariesLinkNoEmbeddedServers(t *testing.T) {
	forbidden := []string{"github.com/FerretDB/", "github.com/alicebob/miniredis", "modernc.org/sqlite"}
	for _, cmd := range []string{
		"github.com/friendspizzahut/platform/orderapi/cmd/orderapi",
		"github.com/friendspizzahut/platform/gateway/cmd/gateway",
	} {
		out, err := exec.Command("go", "list", "-deps", cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", cmd, err, out)
		}
		for _, pkg := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(pkg, f) {
					t.Errorf("%s links %s; the embedded test servers must stay out of production binaries", cmd, pkg)
				}
			}
		}
	}
}
