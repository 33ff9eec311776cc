package infra

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the name the test Sentinels monitor.
const SentinelMaster = "fph"

// SentinelOptions tunes how fast the Sentinels fail over. Zero values mean
// the defaults, short enough for a test.
type SentinelOptions struct {
	DownAfter       time.Duration // primary unreachable this long → down; default 1s
	FailoverTimeout time.Duration // default 3s
}

// Sentinel is a Sentinel-managed Redis: a primary, one replica and three
// redis-sentinel processes (quorum 2), all on free loopback ports.
type Sentinel struct {
	Primary *Redis // the primary at start
	Replica *Redis // its replica at start

	sentinels []*sentinelProc
}

type sentinelProc struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartSentinel starts the primary, the replica and the three Sentinels,
// waits until the Sentinels know the replica and each other (so a failover
// can be agreed), and stops everything when the test ends. It fails the test
// if redis-sentinel is not installed (run `make deps`).
func StartSentinel(tb testing.TB, opts SentinelOptions) *Sentinel {
	tb.Helper()
	if opts.DownAfter == 0 {
		opts.DownAfter = time.Second
	}
	if opts.FailoverTimeout == 0 {
		opts.FailoverTimeout = 3 * time.Second
	}
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		tb.Fatal("redis-sentinel not found on PATH: run `make deps` (installs the Debian redis-sentinel package)")
	}
	dir := tb.TempDir()
	s := &Sentinel{}
	var err error
	if s.Primary, err = RunRedis(dir, ""); err != nil {
		tb.Fatalf("start primary: %v", err)
	}
	tb.Cleanup(s.Primary.Stop)
	host, port, _ := net.SplitHostPort(s.Primary.Addr())
	if s.Replica, err = RunRedis(dir, "", "--replicaof", host, port); err != nil {
		tb.Fatalf("start replica: %v", err)
	}
	tb.Cleanup(s.Replica.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := waitReplicaLinked(ctx, s.Replica.Addr()); err != nil {
		tb.Fatalf("replica %s: %v", s.Replica.Addr(), err)
	}
	for range 3 {
		p, err := startSentinel(dir, s.Primary.Addr(), opts)
		if err != nil {
			tb.Fatalf("start redis-sentinel: %v", err)
		}
		tb.Cleanup(func() { StopProcess(p.cmd, p.done, syscall.SIGTERM, 5*time.Second) })
		s.sentinels = append(s.sentinels, p)
	}
	for _, p := range s.sentinels {
		if err := waitSentinelTopology(ctx, p.addr); err != nil {
			tb.Fatalf("sentinel %s: %v\n%s", p.addr, err, p.log(dir))
		}
	}
	return s
}

// URL is the REDIS_URL of the managed primary (database 0).
func (s *Sentinel) URL() string {
	addrs := make([]string, len(s.sentinels))
	for i, p := range s.sentinels {
		addrs[i] = p.addr
	}
	return "redis-sentinel://" + strings.Join(addrs, ",") + "/" + SentinelMaster + "/0"
}

// PrimaryAddr returns the address the Sentinels currently call primary.
func (s *Sentinel) PrimaryAddr(ctx context.Context) (string, error) {
	var last error
	for _, p := range s.sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: p.addr})
		a, err := c.GetMasterAddrByName(ctx, SentinelMaster).Result()
		_ = c.Close()
		if err == nil && len(a) == 2 {
			return net.JoinHostPort(a[0], a[1]), nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel names a primary: %v", last)
}

// WaitPromoted waits until the Sentinels name a primary other than old and
// that server answers as a primary.
func (s *Sentinel) WaitPromoted(ctx context.Context, old string) (string, error) {
	for {
		a, err := s.PrimaryAddr(ctx)
		if err == nil && a != old && role(ctx, a) == "master" {
			return a, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no failover away from %s: %w (last: %q, %v)", old, ctx.Err(), a, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func startSentinel(dir, primary string, opts SentinelOptions) (*sentinelProc, error) {
	host, port, _ := net.SplitHostPort(primary)
	var err error
	for range 5 { // the free port may be taken before the Sentinel binds it
		var addr string
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
		p := &sentinelProc{addr: addr, done: make(chan struct{})}
		conf := filepath.Join(dir, "sentinel-"+Port(addr)+".conf")
		// Sentinel rewrites its config file (known peers, epochs): it must be
		// a writable file of its own.
		text := fmt.Sprintf(`bind 127.0.0.1
port %s
daemonize no
protected-mode no
dir %s
logfile %s
sentinel monitor %s %s %s 2
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, Port(addr), dir, filepath.Join(dir, "sentinel-"+Port(addr)+".log"),
			SentinelMaster, host, port,
			SentinelMaster, opts.DownAfter.Milliseconds(),
			SentinelMaster, opts.FailoverTimeout.Milliseconds(),
			SentinelMaster)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return nil, err
		}
		p.cmd = exec.Command("redis-sentinel", conf)
		KillWithParent(p.cmd)
		if err = p.cmd.Start(); err != nil {
			return nil, err
		}
		go func() { _ = p.cmd.Wait(); close(p.done) }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = waitPing(ctx, addr, p.done)
		cancel()
		if err == nil {
			return p, nil
		}
		StopProcess(p.cmd, p.done, syscall.SIGTERM, time.Second)
		err = fmt.Errorf("%w\n%s", err, p.log(dir))
	}
	return nil, err
}

func (p *sentinelProc) log(dir string) string {
	return TailFile(filepath.Join(dir, "sentinel-"+Port(p.addr)+".log"), 2000)
}

// waitReplicaLinked waits until the replica at addr has synced with its
// primary.
func waitReplicaLinked(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for {
		info, err := c.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not linked to its primary: %w (%v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitSentinelTopology waits until the Sentinel at addr knows the replica
// and the two other Sentinels: before that, a failover cannot be agreed.
func waitSentinelTopology(ctx context.Context, addr string) error {
	c := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer c.Close()
	var err error
	for {
		var peers, replicas []map[string]string
		if peers, err = c.Sentinels(ctx, SentinelMaster).Result(); err == nil {
			if replicas, err = c.Replicas(ctx, SentinelMaster).Result(); err == nil {
				if len(peers) == 2 && len(replicas) == 1 {
					return nil
				}
				err = fmt.Errorf("knows %d other sentinels and %d replicas, want 2 and 1", len(peers), len(replicas))
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// role returns the ROLE of the server at addr ("master", "slave"), or "".
func role(ctx context.Context, addr string) string {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	v, err := c.Do(ctx, "ROLE").Slice()
	if err != nil || len(v) == 0 {
		return ""
	}
	s, _ := v[0].(string)
	return s
}
