package lambdatest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// ownProcessGroup puts the emulator in a process group of its own.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup ends the emulator and every runtime it started. The
// emulator starts each bootstrap in a process group of its own and does not
// end it when it is itself killed, so those groups are found through /proc
// and killed first, while their parent still names them.
func killProcessGroup(cmd *exec.Cmd) error {
	leader := cmd.Process.Pid
	for _, child := range childrenOf(leader) {
		_ = syscall.Kill(-child, syscall.SIGKILL) // gone already is fine
		_ = syscall.Kill(child, syscall.SIGKILL)
	}

	err := syscall.Kill(-leader, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// childrenOf lists the processes whose parent is pid, from /proc/*/stat.
func childrenOf(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var children []int
	for _, path := range stats {
		stat, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile
		}
		if ppid, ok := parentPID(stat); ok && ppid == pid {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			children = append(children, child)
		}
	}
	return children
}

// parentPID reads the fourth field of /proc/<pid>/stat. The second field,
// the command name in parentheses, may itself hold spaces and parentheses,
// so fields are counted from the last ')'.
func parentPID(stat []byte) (int, bool) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, false
	}
	fields := bytes.Fields(stat[end+1:]) // state, ppid, ...
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	return ppid, err == nil
}
