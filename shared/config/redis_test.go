package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRedisURL(t *testing.T) {
	cases := []struct {
		in   string
		want RedisTarget
	}{
		{"redis://127.0.0.1:6379/0", RedisTarget{URL: "redis://127.0.0.1:6379/0"}},
		{"rediss://:pw@cache.example:6380/2", RedisTarget{URL: "rediss://:pw@cache.example:6380/2"}},
		{"unix:///run/redis.sock", RedisTarget{URL: "unix:///run/redis.sock"}},
		{"redis-sentinel://10.0.0.1:26379/fph", RedisTarget{SentinelAddrs: []string{"10.0.0.1:26379"}, MasterName: "fph"}},
		{"redis-sentinel://:s3cr%40t@a:26379, b:26380,[::1]:26381/my%20master/3?sentinel_password=sp&sentinel_username=su",
			RedisTarget{SentinelAddrs: []string{"a:26379", "b:26380", "[::1]:26381"}, MasterName: "my master", DB: 3,
				Password: "s3cr@t", SentinelUsername: "su", SentinelPassword: "sp"}},
		{"redis-sentinel://app:pw@a:1/m/", RedisTarget{SentinelAddrs: []string{"a:1"}, MasterName: "m", Username: "app", Password: "pw"}},
	}
	for _, c := range cases {
		got, err := ParseRedisURL(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.in, got, c.want)
		}
		if got.Sentinel() != (c.want.MasterName != "") {
			t.Errorf("%s: Sentinel() = %v", c.in, got.Sentinel())
		}
	}
}

func TestParseRedisURLErrors(t *testing.T) {
	cases := map[string]string{
		"127.0.0.1:6379":                         "not a URL",
		"http://127.0.0.1:6379":                  `scheme "http" not allowed`,
		"redis://:secret@":                       "not a valid URL",
		"redis-cluster://a:1,b:2":                "Cluster is not supported",
		"redis-sentinel://:secret@/fph":          "no Sentinel address",
		"redis-sentinel://:secret@a:26379":       "no master name",
		"redis-sentinel://:secret@a:26379/":      "no master name",
		"redis-sentinel://:secret@a/fph":         `"a" is not host:port`,
		"redis-sentinel://:secret@a:0/fph":       "invalid port",
		"redis-sentinel://:secret@a:1,,b:2/fph":  `"" is not host:port`,
		"redis-sentinel://:secret@a:1/fph/x":     `database "x"`,
		"redis-sentinel://:secret@a:1/fph/1/2":   "too many parts",
		"redis-sentinel://:secret@a:1/fph?db=1":  `unknown option "db"`,
		"redis-sentinel://:sec%zzret@a:1/fph":    "invalid user or password",
		"redis-sentinel://:secret@a:1/fph?x=%zz": "invalid query",
	}
	for in, want := range cases {
		_, err := ParseRedisURL(in)
		if err == nil {
			t.Errorf("%s: no error, want %q", in, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not say %q", in, err, want)
		}
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "sec%zzret") {
			t.Errorf("%s: error leaks the password: %v", in, err)
		}
	}
}

func TestReaderRedis(t *testing.T) {
	r := NewReader(env(map[string]string{"GOOD": "redis-sentinel://a:1,b:2/fph", "BAD": "redis-sentinel://a:1"}))
	if got := r.Redis("GOOD"); got != "redis-sentinel://a:1,b:2/fph" {
		t.Errorf("got %q", got)
	}
	if got := r.Redis("UNSET"); got != "" {
		t.Errorf("unset: got %q", got)
	}
	if got := r.Redis("BAD"); got != "" {
		t.Errorf("bad: got %q", got)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "BAD: sentinel URL: no master name") {
		t.Errorf("got %v, want BAD's problem", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:secret@127.0.0.1:6379/0":      "redis://:xxxxx@127.0.0.1:6379/0",
		"mongodb://app:secret@h1:1,h2:2/db?x=1": "mongodb://app:xxxxx@h1:1,h2:2/db?x=1",
		"redis://:sec ret@host:1/0":             "redis://:xxxxx@host:1/0",
		"redis-sentinel://:secret@a:1,b:2/fph/0?sentinel_password=secret&sentinel_username=u": "redis-sentinel://:xxxxx@a:1,b:2/fph/0?sentinel_password=xxxxx&sentinel_username=u",
		"redis://user@host:1/0":    "redis://user@host:1/0",
		"redis://127.0.0.1:6379/0": "redis://127.0.0.1:6379/0",
		"no url at all":            "no url at all",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
