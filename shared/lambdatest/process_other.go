//go:build !linux

package lambdatest

import "os/exec"

// ownProcessGroup does nothing here: the emulator runs on Linux only, and
// this file exists so that the package still compiles elsewhere.
func ownProcessGroup(*exec.Cmd) {}

func killProcessGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
