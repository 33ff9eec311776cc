package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// SentinelScheme is the REDIS_URL scheme of a Sentinel-managed Redis:
//
//	redis-sentinel://[[user]:password@]host:port[,host:port...]/master-name[/db][?sentinel_password=...&sentinel_username=...]
//
// The hosts are the Sentinels (list all of them: any one answering is
// enough); the user and password are those of the Redis servers themselves;
// sentinel_username and sentinel_password, when the Sentinels require AUTH.
// Clients ask the Sentinels for the current primary and follow a failover.
const SentinelScheme = "redis-sentinel"

// RedisTarget is a parsed REDIS_URL: either one server (URL, for go-redis's
// ParseURL) or a Sentinel-managed primary (MasterName and SentinelAddrs).
type RedisTarget struct {
	URL string // redis://, rediss:// or unix:// (single server); empty for Sentinel

	SentinelAddrs    []string // host:port of each Sentinel
	MasterName       string   // the name the Sentinels monitor
	DB               int
	Username         string // AUTH of the Redis servers
	Password         string
	SentinelUsername string // AUTH of the Sentinels
	SentinelPassword string
}

// Sentinel reports whether the target is Sentinel-managed.
func (t RedisTarget) Sentinel() bool { return t.MasterName != "" }

// ParseRedisURL parses a REDIS_URL: redis://, rediss:// or unix:// for one
// server, or redis-sentinel:// (see SentinelScheme). Errors never contain a
// password. Redis Cluster is not supported: the bus and presence use
// multi-key commands across key slots.
func ParseRedisURL(s string) (RedisTarget, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return RedisTarget{}, errors.New("not a URL (want redis://host:port/db or redis-sentinel://host:port,host:port/master-name)")
	}
	switch strings.ToLower(scheme) {
	case "redis", "rediss", "unix":
		u, err := url.Parse(s)
		if err != nil || u.Host == "" && u.Scheme != "unix" {
			return RedisTarget{}, fmt.Errorf("%q is not a valid URL", redact(s))
		}
		return RedisTarget{URL: s}, nil
	case SentinelScheme:
		return parseSentinel(rest)
	case "redis-cluster", "rediss-cluster":
		return RedisTarget{}, errors.New("Redis Cluster is not supported (the bus and presence use multi-key commands); use one server or Sentinel (redis-sentinel://)")
	default:
		return RedisTarget{}, fmt.Errorf("scheme %q not allowed (want redis, rediss, unix or %s)", scheme, SentinelScheme)
	}
}

// parseSentinel parses what follows "redis-sentinel://". It splits by hand:
// net/url does not accept a comma-separated host list.
func parseSentinel(rest string) (RedisTarget, error) {
	var t RedisTarget
	rest, query, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		user, err := url.Parse("redis://" + authority[:i+1] + "x")
		if err != nil {
			return t, errors.New("sentinel URL: invalid user or password (percent-encode special characters)")
		}
		t.Username = user.User.Username()
		t.Password, _ = user.User.Password()
		authority = authority[i+1:]
	}
	if authority == "" {
		return t, errors.New("sentinel URL: no Sentinel address (want host:port[,host:port...])")
	}
	for _, a := range strings.Split(authority, ",") {
		host, port, err := net.SplitHostPort(strings.TrimSpace(a))
		if err != nil || host == "" {
			return t, fmt.Errorf("sentinel URL: %q is not host:port", a)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return t, fmt.Errorf("sentinel URL: %q has an invalid port", a)
		}
		t.SentinelAddrs = append(t.SentinelAddrs, net.JoinHostPort(host, port))
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if parts[0] == "" {
		return t, errors.New("sentinel URL: no master name (want redis-sentinel://host:port[,host:port...]/master-name[/db])")
	}
	master, err := url.PathUnescape(parts[0])
	if err != nil {
		return t, fmt.Errorf("sentinel URL: master name %q: %v", parts[0], err)
	}
	t.MasterName = master
	switch len(parts) {
	case 1:
	case 2:
		db, err := strconv.Atoi(parts[1])
		if err != nil || db < 0 {
			return t, fmt.Errorf("sentinel URL: database %q is not a number ≥ 0", parts[1])
		}
		t.DB = db
	default:
		return t, fmt.Errorf("sentinel URL: path %q has too many parts (want /master-name[/db])", "/"+path)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return t, errors.New("sentinel URL: invalid query string")
	}
	for k, v := range q {
		switch k {
		case "sentinel_username":
			t.SentinelUsername = v[len(v)-1]
		case "sentinel_password":
			t.SentinelPassword = v[len(v)-1]
		default:
			return t, fmt.Errorf("sentinel URL: unknown option %q (allowed: sentinel_username, sentinel_password)", k)
		}
	}
	return t, nil
}

// Redis returns name's value checked as a REDIS_URL (see ParseRedisURL),
// or "" when unset.
func (r *Reader) Redis(name string) string {
	v, ok := r.Lookup(name)
	if !ok {
		return ""
	}
	if _, err := ParseRedisURL(v); err != nil {
		r.Fail(name, "%v", err)
		return ""
	}
	return v
}
