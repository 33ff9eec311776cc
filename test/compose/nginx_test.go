package compose

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
)

// block is one nginx directive: a name, its arguments and, for block
// directives (http, server, location, ...), the directives inside.
type block struct {
	name string
	args []string
	body []*block
}

func (b *block) String() string { return b.name + " " + strings.Join(b.args, " ") }

func (b *block) children(name string) []*block {
	var out []*block
	for _, c := range b.body {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

func (b *block) child(name string) *block {
	if cs := b.children(name); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// location returns the location block whose argument list ends in path.
func (b *block) location(path string) *block {
	for _, l := range b.children("location") {
		if l.args[len(l.args)-1] == path {
			return l
		}
	}
	return nil
}

// route resolves a request path the way nginx picks a location for it
// (exact "=" match first, else the longest prefix; no regex locations are
// expected) and returns the upstream name of its proxy_pass, or "denied"
// for a location that answers itself with a 4xx.
func (b *block) route(uri string) string {
	path, _, _ := strings.Cut(uri, "?")
	var best *block
	bestLen := -1
	for _, l := range b.children("location") {
		switch {
		case len(l.args) == 2 && l.args[0] == "=":
			if l.args[1] == path {
				best, bestLen = l, 1<<30
			}
		case len(l.args) == 1:
			if strings.HasPrefix(path, l.args[0]) && len(l.args[0]) > bestLen {
				best, bestLen = l, len(l.args[0])
			}
		}
	}
	if best == nil {
		return "no location"
	}
	if pp := best.child("proxy_pass"); pp != nil {
		return strings.TrimPrefix(pp.args[0], "http://")
	}
	if r := best.child("return"); r != nil && strings.HasPrefix(r.args[0], "4") {
		return "denied"
	}
	if best.child("deny") != nil {
		return "denied"
	}
	return "unrouted"
}

// parseNginx parses the nginx configuration syntax: directives end in ";",
// blocks are in braces, "#" starts a comment, quotes group arguments.
func parseNginx(src string) (*block, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	root := &block{name: "root"}
	stack := []*block{root}
	var cur *block
	for _, tok := range toks {
		top := stack[len(stack)-1]
		switch tok {
		case ";":
			if cur == nil {
				return nil, fmt.Errorf("stray ; in %s", top)
			}
			top.body = append(top.body, cur)
			cur = nil
		case "{":
			if cur == nil {
				return nil, fmt.Errorf("block without a name in %s", top)
			}
			top.body = append(top.body, cur)
			stack = append(stack, cur)
			cur = nil
		case "}":
			if cur != nil || len(stack) == 1 {
				return nil, fmt.Errorf("unexpected } in %s", top)
			}
			stack = stack[:len(stack)-1]
		default:
			if cur == nil {
				cur = &block{name: tok}
			} else {
				cur.args = append(cur.args, tok)
			}
		}
	}
	if cur != nil || len(stack) != 1 {
		return nil, fmt.Errorf("unterminated directive or block")
	}
	return root, nil
}

func tokenize(src string) ([]string, error) {
	var toks []string
	rs := []rune(src)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '#':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
		case r == ';' || r == '{' || r == '}':
			toks = append(toks, string(r))
			i++
		case r == '\'' || r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != r {
				if rs[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("unterminated quote")
			}
			toks = append(toks, string(rs[i:j+1]))
			i = j + 1
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune(";{}#", rs[j]) {
				j++
			}
			toks = append(toks, string(rs[i:j]))
			i = j
		}
	}
	return toks, nil
}

func TestParseNginx(t *testing.T) {
	t.Parallel()
	conf, err := parseNginx(`http { map $a $b { default "x y"; '' ''; } # c
server { listen 80; location = /x { return 404 '{"m":1}'; } location / { proxy_pass http://u; } } }`)
	if err != nil {
		t.Fatal(err)
	}
	srv := conf.child("http").child("server")
	if got := srv.route("/x"); got != "denied" {
		t.Errorf("route /x = %s, want denied", got)
	}
	if got := srv.route("/y?z"); got != "u" {
		t.Errorf("route /y = %s, want u", got)
	}
	if m := conf.child("http").child("map"); len(m.body) != 2 || m.body[0].args[0] != `"x y"` {
		t.Errorf("map parsed as %+v", m.body)
	}
	for _, bad := range []string{"a {", "a }", "{ }", "a 'b;"} {
		if _, err := parseNginx(bad); err == nil {
			t.Errorf("parse %q succeeded, want error", bad)
		}
	}
}
