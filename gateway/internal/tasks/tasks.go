// Package tasks counts the goroutines a server must wait for on close.
package tasks

import "sync"

// Group is like a sync.WaitGroup that may gain a task while Wait runs:
// connections keep closing while their server closes, and a WaitGroup
// forbids an Add from zero concurrent with Wait. The zero value is ready.
type Group struct {
	mu   sync.Mutex
	idle *sync.Cond
	n    int
}

// Go runs f on a goroutine of its own that Wait waits for.
func (g *Group) Go(f func()) {
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
	go func() {
		defer g.done()
		f()
	}()
}

func (g *Group) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n--; g.n == 0 && g.idle != nil {
		g.idle.Broadcast()
	}
}

// Wait returns once no task runs, including tasks started while it waits.
func (g *Group) Wait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.idle == nil {
		g.idle = sync.NewCond(&g.mu)
	}
	for g.n > 0 {
		g.idle.Wait()
	}
}
