package tasks

import (
	"sync/atomic"
	"testing"
	"time"
)

// A task started by a task while Wait runs is waited for too.
func TestWaitIncludesTasksStartedDuringWait(t *testing.T) {
	var g Group
	var finished atomic.Int32
	g.Go(func() {
		time.Sleep(20 * time.Millisecond)
		g.Go(func() {
			time.Sleep(20 * time.Millisecond)
			finished.Add(1)
		})
		finished.Add(1)
	})
	g.Wait()
	if n := finished.Load(); n != 2 {
		t.Fatalf("Wait returned with %d of 2 tasks finished", n)
	}
}

// Go from zero while another goroutine waits is not a race (run with -race).
func TestGoConcurrentWithWait(t *testing.T) {
	var g Group
	for range 100 {
		done := make(chan struct{})
		go func() { g.Wait(); close(done) }()
		g.Go(func() {})
		<-done
		g.Wait()
	}
}
