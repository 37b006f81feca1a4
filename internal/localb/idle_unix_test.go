//go:build unix

package localb

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// serverEnv makes the test binary a plain HTTP server that prints its address.
const serverEnv = "LOCALB_TEST_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) != "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println(ln.Addr())
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, "ok")
		}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestStoppedProcessIs504: a target process frozen with SIGSTOP (the kernel still accepts
// its connections) makes the load balancer answer 504 after the idle timeout.
func TestStoppedProcessIs504(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatalf("server printed no address: %v", sc.Err())
	}
	lb, base := newIdleLBFor(t, "http://"+sc.Text())
	if code, body, _ := get(t, base); code != http.StatusOK || body != "ok" {
		t.Fatalf("before SIGSTOP: %d %q", code, body)
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, cmd.Process.Pid)
	assert504(t, lb, base)
}

// waitStopped waits until the kernel has stopped pid: kill(2) only queues SIGSTOP, and a
// process still running on another core can answer one more request meanwhile. Where there
// is no /proc (macOS), it returns at once.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		// The state follows the command name in parentheses: "pid (comm) T …".
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't') {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d not stopped 10 s after SIGSTOP: %s", pid, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
