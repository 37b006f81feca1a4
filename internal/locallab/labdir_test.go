package locallab

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/lab"
)

// labDirEnv makes the test binary a stand-in for a lab's process: it marks a lab directory
// under the directory the variable names, prints its path and sleeps until killed.
const labDirEnv = "LOCALLAB_TEST_LABDIR"

func TestMain(m *testing.M) {
	if tmp := os.Getenv(labDirEnv); tmp != "" {
		d, err := newLabDir(tmp)
		if err == nil {
			err = os.WriteFile(filepath.Join(d.path, "webserver"), make([]byte, 1<<20), 0o700)
		}
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println(d.path)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// labProcess starts a process holding a marked lab directory under tmp.
func labProcess(t *testing.T, tmp string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), labDirEnv+"="+tmp)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() || strings.HasPrefix(sc.Text(), "ERR") {
		t.Fatalf("lab process: %q %v", sc.Text(), sc.Err())
	}
	return cmd, sc.Text()
}

// killHard ends a lab process as kill -9 does: no chance to clean up.
func killHard(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// TestRemoveStaleLabDirs: the directory of a lab killed outright is removed; a live lab's
// (in another process or this one), an unmarked one and unrelated ones are kept.
func TestRemoveStaleLabDirs(t *testing.T) {
	tmp := t.TempDir()
	dead, deadDir := labProcess(t, tmp)
	deadPid := dead.Process.Pid
	killHard(t, dead)
	live, liveDir := labProcess(t, tmp)
	own, err := newLabDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer own.remove()
	unmarked, err := os.MkdirTemp(tmp, labDirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	unrelated := filepath.Join(tmp, "unrelated")
	if err := os.Mkdir(unrelated, 0o700); err != nil {
		t.Fatal(err)
	}
	if !exists(deadDir) {
		t.Fatal("the killed lab's directory is already gone: nothing to test")
	}

	removed, err := RemoveStaleLabDirs(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Path != deadDir || removed[0].PID != deadPid || removed[0].Bytes < 1<<20 {
		t.Fatalf("removed %+v, want only %s (pid %d, ≥ 1 MiB)", removed, deadDir, deadPid)
	}
	if exists(deadDir) {
		t.Error("the killed lab's directory is still there")
	}
	for _, d := range []string{liveDir, own.path, unmarked, unrelated} {
		if !exists(d) {
			t.Errorf("%s was removed", d)
		}
	}

	// Once its process is gone, the live lab's directory goes too.
	killHard(t, live)
	removed, err = RemoveStaleLabDirs(tmp)
	if err != nil || len(removed) != 1 || removed[0].Path != liveDir {
		t.Fatalf("after the second lab was killed: removed %+v, %v; want %s", removed, err, liveDir)
	}
}

// TestStartRemovesStaleLabDirs: starting a lab clears what a killed lab left in the
// temporary directory, and a lab that fails to start leaves nothing of its own.
func TestStartRemovesStaleLabDirs(t *testing.T) {
	tmp := t.TempDir()
	for _, k := range []string{"TMPDIR", "TMP", "TEMP"} {
		t.Setenv(k, tmp)
	}
	dead, deadDir := labProcess(t, tmp)
	killHard(t, dead)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	var progress strings.Builder
	_, err = Start(context.Background(), Options{
		Code: lab.CodeBasic, LBAddr: busy.Addr().String(), RepoRoot: t.TempDir(), Progress: &progress,
	})
	if err == nil || !strings.Contains(err.Error(), "load balancer") {
		t.Fatalf("Start on a busy port: %v", err)
	}
	if exists(deadDir) {
		t.Errorf("the killed lab's directory is still there; progress:\n%s", progress.String())
	}
	if !strings.Contains(progress.String(), "removed "+deadDir) {
		t.Errorf("progress does not say what was removed:\n%s", progress.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, labDirPrefix+"*")); len(left) != 0 {
		t.Errorf("lab directories left: %v", left)
	}
}
