package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"healthchecklab/internal/lab"
)

// TestScreenshots renders the personalized page, the static page and a failed deep health
// check in headless Chromium into $WEBSERVER_SCREENSHOTS (docs/ in the repository):
//
//	WEBSERVER_SCREENSHOTS=$PWD/docs go test ./webserver -run TestScreenshots
//
// It is skipped unless that variable is set, so the normal suite needs no browser.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("WEBSERVER_SCREENSHOTS")
	if dir == "" {
		t.Skip("set WEBSERVER_SCREENSHOTS to a directory to take screenshots")
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found (apt-get install chromium)")
	}
	up := startStack(t, lab.CodeHealthCheck, stackConfig{})
	down := startStack(t, lab.CodeHealthCheck, stackConfig{disabled: true})
	shots := []struct{ file, url string }{
		{"page-personalized.png", up.URL + "/?user=1"},
		{"page-static.png", down.URL + "/?user=1"},
		{"page-healthcheck-fail.png", down.URL + "/healthcheck"},
	}
	for _, s := range shots {
		out := filepath.Join(dir, s.file)
		cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--no-first-run", "--user-data-dir="+t.TempDir(), "--hide-scrollbars",
			"--screenshot="+out, "--window-size=1000,700", s.url)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("chromium %s: %v\n%s", s.url, err, b)
		}
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Fatalf("no screenshot %s: %v", out, err)
		}
	}
}
