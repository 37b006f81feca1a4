package locallab

import (
	"os"
	"strconv"
	"strings"
)

// frozen reports whether process pid is stopped (SIGSTOP, or a debugger's trace stop): state
// T or t in /proc/<pid>/stat, see proc_pid_stat(5). Such a process has not exited and is
// not restarted; status says why it does not answer.
func frozen(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] == 'T' || s[i+2] == 't'
}
