package infra

import (
	"os/exec"
	"syscall"
)

// KillWithParent makes the kernel SIGKILL cmd's process when the process
// that started it dies, so a crashed or killed test run leaves no servers
// behind. Call it before cmd.Start.
func KillWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
