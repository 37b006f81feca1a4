//go:build unix

package localb

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
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
	assert504(t, lb, base)
}
