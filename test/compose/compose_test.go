// Package compose checks docker-compose.yml and deploy/nginx.conf without a
// Docker engine: the compose file is loaded with the Compose
// specification's own Go loader, and the nginx configuration is parsed far
// enough to resolve which upstream serves a path.
package compose

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func loadProject(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(repoRoot(), "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot()),
		cli.WithEnv(kv),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cli.ProjectFromOptions(context.Background(), opts)
}

var secrets = map[string]string{"JWT_SECRET": "compose-test-jwt-secret", "INTERNAL_TOKEN": "compose-test-internal-token",
	"SEED_ADMIN_PASSWORD": "compose-test-admin-password"}

func mustProject(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadProject(t, secrets)
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %q: %v", name, err)
	}
	return s
}

func env(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

func TestServices(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	got := p.ServiceNames()
	slices.Sort(got)
	want := []string{"gateway", "lb", "mongo", "orderapi", "redis"}
	if !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}

	if img := service(t, p, "mongo").Image; !strings.HasPrefix(img, "mongo:") {
		t.Errorf("mongo image %q, want the official mongo image", img)
	}
	if vols := service(t, p, "mongo").Volumes; len(vols) == 0 || vols[0].Target != "/data/db" || vols[0].Type != types.VolumeTypeVolume {
		t.Errorf("mongo volumes %+v, want a named volume on /data/db", vols)
	}
	if img := service(t, p, "redis").Image; !strings.HasPrefix(img, "redis:") {
		t.Errorf("redis image %q, want the official redis image", img)
	}

	for name, dockerfile := range map[string]string{"orderapi": "orderapi/Dockerfile", "gateway": "gateway/Dockerfile"} {
		s := service(t, p, name)
		if s.Build == nil || s.Build.Dockerfile != dockerfile || filepath.Clean(s.Build.Context) != repoRoot() {
			t.Errorf("%s build %+v, want %s with the repository root as context", name, s.Build, dockerfile)
			continue
		}
		df, err := os.ReadFile(filepath.Join(repoRoot(), dockerfile))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(df), "\nFROM "); n < 2 {
			t.Errorf("%s has %d build stages, want a multi-stage build", dockerfile, n)
		}
		if !strings.Contains(string(df), "COPY go.work") {
			t.Errorf("%s does not build with the workspace (go.work)", dockerfile)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s has no health check", name)
		}
	}

	gw := service(t, p, "gateway")
	if gw.Deploy == nil || gw.Deploy.Replicas == nil || *gw.Deploy.Replicas != 2 {
		t.Errorf("gateway deploy %+v, want replicas: 2", gw.Deploy)
	}
	if gw.ContainerName != "" {
		t.Errorf("gateway has container_name %q, which forbids replicas", gw.ContainerName)
	}

	lb := service(t, p, "lb")
	published := false
	for _, port := range lb.Ports {
		if port.Published == "5000" && port.Target == 5000 {
			published = true
		}
	}
	if !published {
		t.Errorf("lb ports %+v, want 5000 published to 5000", lb.Ports)
	}
	mounted := false
	for _, v := range lb.Volumes {
		if v.Target == "/etc/nginx/nginx.conf" && filepath.Clean(v.Source) == filepath.Join(repoRoot(), "deploy", "nginx.conf") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("lb volumes %+v, want deploy/nginx.conf mounted as /etc/nginx/nginx.conf", lb.Volumes)
	}
	for _, other := range []string{"orderapi", "gateway", "mongo", "redis"} {
		if ports := service(t, p, other).Ports; len(ports) > 0 {
			t.Errorf("%s publishes %+v; only the load balancer should be reachable from outside", other, ports)
		}
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	api, gw := service(t, p, "orderapi"), service(t, p, "gateway")

	for _, tc := range []struct {
		svc  types.ServiceConfig
		key  string
		want string // "" means: must be set, any value
	}{
		{api, "PORT", "5001"},
		{api, "MONGODB_URI", "mongodb://mongo:27017"},
		{api, "REDIS_URL", "redis://redis:6379/0"},
		{api, "JWT_SECRET", secrets["JWT_SECRET"]},
		{api, "INTERNAL_TOKEN", secrets["INTERNAL_TOKEN"]},
		{api, "ADMIN_DIR", "/admin"},
		{api, "SEED", "true"},
		{api, "SEED_ADMIN_EMAIL", "admin@friendspizzahut.test"},
		{api, "SEED_ADMIN_PASSWORD", secrets["SEED_ADMIN_PASSWORD"]},
		{api, "EVENTS_CHANNEL", "fph:events"},
		{api, "UPLOAD_DIR", "/data/uploads"},
		{gw, "PORT", "5002"},
		{gw, "REDIS_URL", "redis://redis:6379/0"},
		{gw, "JWT_SECRET", secrets["JWT_SECRET"]},
		{gw, "INTERNAL_TOKEN", secrets["INTERNAL_TOKEN"]},
		{gw, "ORDERAPI_URL", "http://orderapi:5001"},
		{gw, "EVENTS_CHANNEL", "fph:events"},
	} {
		if got := env(tc.svc, tc.key); got != tc.want {
			t.Errorf("%s %s=%q, want %q", tc.svc.Name, tc.key, got, tc.want)
		}
	}
	if env(gw, "GATEWAY_ID") != "" {
		t.Errorf("gateway GATEWAY_ID is fixed to %q: replicas would share it", env(gw, "GATEWAY_ID"))
	}

	// Production-like: no development secrets, no well-known admin password.
	for _, missing := range []string{"JWT_SECRET", "INTERNAL_TOKEN", "SEED_ADMIN_PASSWORD"} {
		e := map[string]string{}
		for k, v := range secrets {
			if k != missing {
				e[k] = v
			}
		}
		if _, err := loadProject(t, e); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("loading without %s: got %v, want an error naming it", missing, err)
		}
	}
}

func TestNginxRoutes(t *testing.T) {
	t.Parallel()
	p := mustProject(t)
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := parseNginx(string(raw))
	if err != nil {
		t.Fatalf("parse nginx.conf: %v", err)
	}
	httpBlock := conf.child("http")
	if httpBlock == nil {
		t.Fatal("no http block")
	}

	// Upstreams point at the compose services on their PORTs.
	upstreams := map[string]*block{}
	for _, u := range httpBlock.children("upstream") {
		upstreams[u.args[0]] = u
	}
	wantServers := map[string]string{
		"gateway":  "gateway:" + env(service(t, p, "gateway"), "PORT"),
		"orderapi": "orderapi:" + env(service(t, p, "orderapi"), "PORT"),
	}
	for name, server := range wantServers {
		u := upstreams[name]
		if u == nil {
			t.Fatalf("no upstream %q", name)
		}
		if s := u.child("server"); s == nil || s.args[0] != server {
			t.Errorf("upstream %s server %v, want %s", name, s, server)
		}
	}
	// Plain round-robin: the replicas forward each other's sessions.
	gwUp := upstreams["gateway"]
	for _, d := range []string{"ip_hash", "hash", "sticky"} {
		if gwUp.child(d) != nil {
			t.Errorf("upstream gateway has %q: want plain round-robin", d)
		}
	}

	srv := httpBlock.child("server")
	if l := srv.child("listen"); l == nil || l.args[0] != "5000" {
		t.Fatalf("server listens on %v, want 5000", l)
	}

	// Uploads take images of 5 MB (base64: a third more) through the lb.
	if up := srv.location("/api/v1/upload/"); up == nil || up.child("client_max_body_size") == nil || up.child("client_max_body_size").args[0] != "8m" {
		t.Error("location /api/v1/upload/ lacks client_max_body_size 8m (orderapi's upload body limit)")
	}

	// The websocket upgrade is passed through on /socket.io/.
	sio := srv.location("/socket.io/")
	if sio == nil {
		t.Fatal("no location /socket.io/")
	}
	if v := sio.child("proxy_http_version"); v == nil || v.args[0] != "1.1" {
		t.Error("/socket.io/ lacks proxy_http_version 1.1")
	}
	headers := map[string]string{}
	for _, h := range sio.children("proxy_set_header") {
		headers[strings.ToLower(h.args[0])] = h.args[1]
	}
	if headers["upgrade"] != "$http_upgrade" {
		t.Errorf("/socket.io/ Upgrade header %q, want $http_upgrade", headers["upgrade"])
	}
	if c := headers["connection"]; c != `"upgrade"` && c != "upgrade" && !mapsUpgrade(httpBlock, c) {
		t.Errorf("/socket.io/ Connection header %q does not become \"upgrade\" for upgrade requests", c)
	}
	// A draining replica's 503 to a new session moves on to the next one.
	if n := sio.child("proxy_next_upstream"); n == nil || !slices.Contains(n.args, "http_503") {
		t.Error("/socket.io/ lacks proxy_next_upstream ... http_503 (a draining replica's refusals would reach clients)")
	}

	for _, tc := range []struct{ path, want string }{
		{"/socket.io/?EIO=4&transport=polling", "gateway"},
		{"/socket.io/?EIO=4&transport=websocket", "gateway"},
		{"/presence", "gateway"},
		{"/api/v1/orders", "orderapi"},
		{"/api/v1/auth/login", "orderapi"},
		{"/health", "orderapi"},
		{"/admin", "orderapi"},
		{"/admin/app.js", "orderapi"},
		{"/unknown", "orderapi"},
		{"/api/v1/upload/product-image", "orderapi"},
		{"/uploads/products-0123456789abcdef01234567.png", "orderapi"},
		{"/internal/v1/users/1", "denied"},
		{"/internal/v1/orders/1/parties", "denied"},
		{"/metrics", "denied"},
	} {
		if got := srv.route(tc.path); got != tc.want {
			t.Errorf("%s goes to %s, want %s", tc.path, got, tc.want)
		}
	}
}

// mapsUpgrade reports whether variable v is set by a map on $http_upgrade
// whose default is "upgrade".
func mapsUpgrade(http *block, v string) bool {
	for _, m := range http.children("map") {
		if len(m.args) == 2 && m.args[0] == "$http_upgrade" && m.args[1] == v {
			for _, e := range m.body {
				if e.name == "default" && len(e.args) == 1 && strings.Trim(e.args[0], `"'`) == "upgrade" {
					return true
				}
			}
		}
	}
	return false
}
