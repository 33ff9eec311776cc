package compose

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// TestMonitoringProfile: `--profile monitoring` adds Prometheus and Grafana,
// reachable on the loopback interface only, with deploy/ mounted read-only;
// Grafana's entrypoint refuses to start without an admin password of our
// choosing (the well-known default stays unusable).
// (test/monitoring checks the mounted files themselves.)
func TestMonitoringProfile(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (*types.Project, error) {
		var kv []string
		for k, v := range env {
			kv = append(kv, k+"="+v)
		}
		opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot(), "docker-compose.yml")},
			cli.WithWorkingDirectory(repoRoot()), cli.WithEnv(kv), cli.WithProfiles([]string{"monitoring"}))
		if err != nil {
			t.Fatal(err)
		}
		return cli.ProjectFromOptions(context.Background(), opts)
	}
	noPassword, err := load(secrets)
	if err != nil {
		t.Fatalf("load with the monitoring profile: %v", err)
	}
	if got := env(service(t, noPassword, "grafana"), "GF_SECURITY_ADMIN_PASSWORD"); got != "" {
		t.Errorf("grafana admin password %q without GRAFANA_ADMIN_PASSWORD, want empty (refused at start)", got)
	}
	if ep := strings.Join(service(t, noPassword, "grafana").Entrypoint, " "); !strings.Contains(ep, `[ -n "$GF_SECURITY_ADMIN_PASSWORD" ] || {`) || !strings.Contains(ep, "exit 1") || !strings.HasSuffix(ep, "exec /run.sh") {
		t.Errorf("grafana entrypoint %q does not refuse an empty admin password before starting Grafana", ep)
	}
	withGrafana := map[string]string{"GRAFANA_ADMIN_PASSWORD": "compose-test-grafana"}
	for k, v := range secrets {
		withGrafana[k] = v
	}
	p, err := load(withGrafana)
	if err != nil {
		t.Fatalf("load with the monitoring profile: %v", err)
	}
	mounts := map[string]map[string]string{
		"prometheus": {"/etc/prometheus": "deploy/prometheus"},
		"grafana": {"/etc/grafana/provisioning": "deploy/grafana/provisioning",
			"/var/lib/grafana/dashboards": "deploy/grafana/dashboards"},
	}
	for name, want := range mounts {
		s := service(t, p, name)
		for target, source := range want {
			found := false
			for _, v := range s.Volumes {
				if v.Target == target && filepath.Clean(v.Source) == filepath.Join(repoRoot(), source) && v.ReadOnly {
					found = true
				}
			}
			if !found {
				t.Errorf("%s volumes %+v, want %s mounted read-only on %s", name, s.Volumes, source, target)
			}
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %+v beyond the loopback interface", name, port)
			}
		}
	}
	if got := env(service(t, p, "grafana"), "GF_SECURITY_ADMIN_PASSWORD"); got != "compose-test-grafana" {
		t.Errorf("grafana admin password %q, want GRAFANA_ADMIN_PASSWORD", got)
	}
	if cmd := strings.Join(service(t, p, "prometheus").Command, " "); !strings.Contains(cmd, "--config.file=/etc/prometheus/prometheus.yml") {
		t.Errorf("prometheus command %q does not load the mounted prometheus.yml", cmd)
	}
}
