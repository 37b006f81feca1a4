//go:build unix

package procgroup

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the processes under test: with helperEnv set it runs one of
// these roles instead of the tests.
const helperEnv = "PROCGROUP_TEST_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "sleeper":
		time.Sleep(time.Minute)
		os.Exit(0)
	case "parent":
		// Starts a sleeper the way a plain program would (no group of its own), prints its
		// pid and sleeps.
		c := helper("sleeper")
		if err := c.Start(); err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println(c.Process.Pid)
		time.Sleep(time.Minute)
		os.Exit(0)
	case "lab":
		// Starts a sleeper through procgroup, as the lab does, prints its pid and sleeps.
		g, err := Start(helper("sleeper"))
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println(g.Pid())
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helper(role string) *exec.Cmd {
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), helperEnv+"="+role)
	return c
}

// firstLine reads the pid a helper prints.
func firstLine(t *testing.T, c *exec.Cmd) (*bufio.Scanner, func() int) {
	t.Helper()
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	return sc, func() int {
		if !sc.Scan() {
			t.Fatalf("helper printed nothing: %v", sc.Err())
		}
		pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil {
			t.Fatalf("helper: %q", sc.Text())
		}
		return pid
	}
}

// alive reports whether pid runs. A zombie (dead, not yet reaped by whoever inherited it)
// counts as gone.
func alive(pid int) bool {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
			return s[i+2] != 'Z'
		}
	}
	return syscall.Kill(pid, 0) == nil
}

func waitGone(t *testing.T, what string, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d) still running", what, pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStopReachesGrandchildren: Interrupt and Kill end the child and what it started, which
// signalling the child's pid alone would not.
func TestStopReachesGrandchildren(t *testing.T) {
	for _, tt := range []struct {
		name string
		stop func(*Group) error
	}{
		{"interrupt", (*Group).Interrupt},
		{"kill", (*Group).Kill},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := helper("parent")
			_, readPid := firstLine(t, c)
			g, err := Start(c)
			if err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { _ = c.Wait(); close(exited) }()
			grandchild := readPid()
			if err := tt.stop(g); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatal("child still running")
			}
			waitGone(t, "grandchild", grandchild)
			if err := g.Kill(); err != nil {
				t.Errorf("Kill after exit: %v", err)
			}
		})
	}
}
