package locallab

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/repo"
)

// TestSecretsNeverLogged: a running lab's key pairs (the user's, each role session's, each
// instance's IMDS session) appear in no log it writes: not in its
// progress lines, not in slog, not in any file of its directory (the instance logs), while
// the instances sign calls, one with the noDDB role so the denial path logs too.
func TestSecretsNeverLogged(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is needed for dynalite (README: Node.js 22 or 24, 20 still works; then make deps)")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "dynalite")); err != nil {
		t.Skip("dynalite is not installed: run npm ci in the checkout")
	}
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	l, err := Start(ctx, Options{Code: lab.CodeHealthCheck, LBAddr: "127.0.0.1:0", Fast: true, RepoRoot: root,
		Progress: &syncWriter{w: &progress}})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			l.Close()
		}
	}()
	if err := l.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}

	secrets := map[string]string{"user secret key": l.UserCredentials().SecretAccessKey}
	for role, c := range l.RoleCredentials() {
		secrets[role+" secret key"] = c.SecretAccessKey
		secrets[role+" session token"] = c.SessionToken
	}
	var zoneC string
	for _, in := range l.r.Status() {
		for _, role := range l.r.Roles() {
			c := l.instanceCredentials(role, in.ID)
			secrets[in.ID+" "+role+" secret key"] = c.SecretAccessKey
			secrets[in.ID+" "+role+" session token"] = c.Token
		}
		if in.Letter == "c" && in.Current {
			zoneC = in.ID
		}
	}

	// zone c signs with the noDDB role from now on (the console step, through the region):
	// its server logs AccessDeniedException.
	assoc := ""
	for _, a := range l.r.Associations() {
		if a.InstanceID == zoneC && a.State == "associated" {
			assoc = a.ID
		}
	}
	if _, err := l.r.ReplaceAssociation(assoc, lab.NoDDBRoleName(l.prefix), ""); err != nil {
		t.Fatalf("replace the association of zone c's instance %q: %v", zoneC, err)
	}
	zoneCLog := filepath.Join(l.Dir(), "logs", zoneC+".log")
	for deadline := time.Now().Add(45 * time.Second); ; {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.URL()+"/", nil)
		req.Header.Set("Accept", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		if b, _ := os.ReadFile(zoneCLog); bytes.Contains(b, []byte("AccessDenied")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("zone c's log never shows the noDDB role's AccessDenied: the denial path was not exercised")
		}
		time.Sleep(100 * time.Millisecond)
	}

	var files []string
	err = filepath.WalkDir(l.Dir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "webserver" || d.Name() == "webserver.exe" {
			return err
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = string(b)
	}
	l.Close()
	closed = true
	texts["progress"] = progress.String()
	texts["slog"] = logs.String()
	if !strings.Contains(texts["progress"], "healthy") {
		t.Fatalf("progress has no target transitions, the test saw nothing:\n%s", texts["progress"])
	}
	for name, text := range texts {
		for what, s := range secrets {
			if s == "" {
				t.Fatalf("%s is empty", what)
			}
			if strings.Contains(text, s) {
				t.Errorf("%s appears in %s", what, name)
			}
		}
	}
}

// syncWriter serializes writes from the lab's goroutines into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
