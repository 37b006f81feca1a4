package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/labops"
)

// TestLabLine: status names the lab it read, so a user running two labs side by side sees
// which one answered: the LabId first when there is one, the state file, the start and pid.
func TestLabLine(t *testing.T) {
	started := time.Date(2026, 12, 6, 6, 0, 0, 0, time.Local)
	now := started.Add(3*time.Minute + 20*time.Second)
	tests := []struct {
		li   labops.LabIdentity
		want string
	}{
		{labops.LabIdentity{StateFile: "/run/user/1000/healthchecklab/local.json", Started: started, PID: 4242},
			"state file /run/user/1000/healthchecklab/local.json · started 2026-12-06 06:00:00 (3m20s ago) · pid 4242"},
		{labops.LabIdentity{StateFile: "/home/u/.hcl-2/local.json", Started: started, PID: 7, LabID: "team-2"},
			"LabId team-2 · state file /home/u/.hcl-2/local.json · started 2026-12-06 06:00:00 (3m20s ago) · pid 7"},
	}
	for _, tt := range tests {
		if got := labLine(tt.li, now); got != tt.want {
			t.Errorf("labLine = %q\nwant      %q", got, tt.want)
		}
	}
}

// TestLocalUpPortTaken: a port another program holds is said at once, naming the address
// and --port, before anything is built or started.
func TestLocalUpPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var out, errOut bytes.Buffer
	state := filepath.Join(t.TempDir(), "local.json")
	// An empty --repo would make a lab that got past the check fail later, and differently.
	code := run(context.Background(), []string{"local", "up", "--port", port, "--state", state, "--repo", t.TempDir()}, &out, &errOut, noEnv)
	msg := errOut.String()
	want := fmt.Sprintf("labctl: 127.0.0.1:%s is in use by another program", port)
	if code == 0 || !strings.HasPrefix(msg, want) || !strings.Contains(msg, "--port 0") ||
		!strings.Contains(msg, "labctl local url") || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q: want one line starting %q that names --port", code, msg, want)
	}
	if out.Len() != 0 {
		t.Errorf("the refused lab printed progress: %q", out.String())
	}
}
