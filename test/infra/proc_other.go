//go:build !linux

package infra

import "os/exec"

// KillWithParent does nothing outside Linux: children of a crashed test run
// may outlive it there.
func KillWithParent(*exec.Cmd) {}
