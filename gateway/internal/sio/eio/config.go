package eio

import (
	"fmt"
	"runtime"
	"time"
)

// Config configures a Server. Zero values mean the defaults.
type Config struct {
	PingInterval time.Duration // default 25s
	PingTimeout  time.Duration // default 20s
	// MaxPayload is maxHttpBufferSize: the largest websocket message or
	// polling body accepted, announced as maxPayload. Default 1e6.
	MaxPayload int64
	// CORSOrigins lists the origins allowed by CORS on HTTP long-polling;
	// empty or containing "*" allows every origin. WebSocket upgrades are
	// accepted from any origin, like Node.
	CORSOrigins []string
	// SIDPrefix starts every session id of this server, so that a replica
	// can tell which replica owns a sid. Letters, digits, '-' and '_' only.
	SIDPrefix string
	// MaxQueue bounds the packets waiting to be written to one session,
	// MaxQueueBytes their bytes (including what the kernel has not taken
	// yet on a websocket). Beyond either, the session is cut as slow.
	// Defaults 1000 and 4 MiB.
	MaxQueue      int
	MaxQueueBytes int
	// UpgradeTimeout bounds an upgrade from polling to websocket. Default 10s.
	UpgradeTimeout time.Duration
	// Pollers and Writers: goroutines that read every websocket and write
	// them. Defaults: half the CPUs (at least 1), and the CPUs.
	Pollers int
	Writers int
}

func (c *Config) defaults() {
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = 1e6
	}
	if c.MaxQueue <= 0 {
		c.MaxQueue = 1000
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = 4 << 20
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.Pollers <= 0 {
		c.Pollers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.Writers <= 0 {
		c.Writers = runtime.GOMAXPROCS(0)
	}
}

// ValidateSIDPrefix reports whether p can start a session id (it travels
// unescaped in URLs).
func ValidateSIDPrefix(p string) error {
	if len(p) > 32 {
		return fmt.Errorf("sid prefix %q: longer than 32 characters", p)
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("sid prefix %q: only letters, digits, '-', '_' and '.' are allowed", p)
		}
	}
	return nil
}

// AllOrigins reports whether CORSOrigins allows every origin (empty or "*").
func (c *Config) AllOrigins() bool {
	if len(c.CORSOrigins) == 0 {
		return true
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			return true
		}
	}
	return false
}
