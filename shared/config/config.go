// Package config reads typed settings from the environment. A Reader
// collects every problem instead of stopping at the first, so a service can
// report all bad values at start in one message.
//
// Services read the environment once, in run, through an injected getenv;
// nothing else calls os.Getenv.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Development defaults of the two secrets every process of the stack must
// share (orderapi, the gateways and the dev stack), so a bare `make run`
// works. They are public: a service that falls back to one says so loudly.
const (
	DevJWTSecret     = "dev-only-jwt-secret-change-me"
	DevInternalToken = "dev-only-internal-token-change-me"
)

// Reader reads variables through getenv and records problems.
type Reader struct {
	getenv func(string) string
	errs   []error
}

// NewReader returns a Reader over getenv (os.Getenv in production).
func NewReader(getenv func(string) string) *Reader { return &Reader{getenv: getenv} }

// Err returns all problems found so far, joined, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Fail records a problem with a variable.
func (r *Reader) Fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// Lookup returns the trimmed value of name and whether it was set non-empty.
func (r *Reader) Lookup(name string) (string, bool) {
	v := strings.TrimSpace(r.getenv(name))
	return v, v != ""
}

// String returns name's value, or def when unset.
func (r *Reader) String(name, def string) string {
	if v, ok := r.Lookup(name); ok {
		return v
	}
	return def
}

// Int returns name's value as an int within [min, max], or def when unset.
func (r *Reader) Int(name string, def, min, max int) int {
	v, ok := r.Lookup(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.Fail(name, "%q is not an integer", v)
		return def
	}
	if n < min || n > max {
		r.Fail(name, "%d is out of range [%d, %d]", n, min, max)
		return def
	}
	return n
}

// Port returns name's value as a TCP port (0 allowed: pick a free one).
func (r *Reader) Port(name string, def int) int { return r.Int(name, def, 0, 65535) }

// Bool returns name's value as a boolean (true/false/1/0/yes/no).
func (r *Reader) Bool(name string, def bool) bool {
	v, ok := r.Lookup(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	r.Fail(name, "%q is not a boolean (use true or false)", v)
	return def
}

// Duration returns name's value as a duration ("25s", "1m"); a bare number
// is read as milliseconds, as in the Node original's options.
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	v, ok := r.Lookup(name)
	if !ok {
		return def
	}
	if ms, err := strconv.Atoi(v); err == nil {
		if ms < 0 {
			r.Fail(name, "%q must not be negative", v)
			return def
		}
		return time.Duration(ms) * time.Millisecond
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.Fail(name, "%q is not a duration (e.g. 25s, 500ms)", v)
		return def
	}
	return d
}

// URL returns name's value, checked to be an absolute URL with one of the
// given schemes, or def when unset.
func (r *Reader) URL(name, def string, schemes ...string) string {
	v, ok := r.Lookup(name)
	if !ok {
		return def
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" && u.Scheme != "unix" {
		r.Fail(name, "%q is not a valid URL", redact(v))
		return def
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return v
		}
	}
	r.Fail(name, "scheme %q not allowed (want one of %s)", u.Scheme, strings.Join(schemes, ", "))
	return def
}

// OneOf returns name's value if it is one of allowed, or def when unset.
func (r *Reader) OneOf(name, def string, allowed ...string) string {
	v, ok := r.Lookup(name)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.Fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return def
}

// List returns name's comma-separated values, trimmed, or def when unset.
func (r *Reader) List(name string, def []string) []string {
	v, ok := r.Lookup(name)
	if !ok {
		return def
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redact hides the passwords of a connection URL so it can be logged: the
// one in the user info and any *password= query parameter (Sentinel's). It
// works on the text, so URLs net/url refuses (several hosts, bad escapes)
// are redacted too.
func redact(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if name, _, hasPassword := strings.Cut(authority[:at], ":"); hasPassword {
			authority = name + ":xxxxx" + authority[at:]
		}
	}
	return scheme + "://" + authority + passwordParam.ReplaceAllString(tail, "${1}xxxxx")
}

var passwordParam = regexp.MustCompile(`([?&][A-Za-z_]*password=)[^&#]*`)

// Redact hides the password of a connection URL for logging.
func Redact(s string) string { return redact(s) }
