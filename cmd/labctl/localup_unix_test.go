//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStateDirWritableByOthers: every verb refuses a state directory that other users may
// write (where they could plant a link or read the token), with one line saying so.
func TestStateDirWritableByOthers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "local.json")
	for _, args := range [][]string{{"local", "up", "--port", "0", "--repo", t.TempDir()}, {"status"}, {"local", "down"}} {
		_, err := labctl(t, state, args...)
		if err == nil || !strings.Contains(err.Error(), "state directory "+dir+" is writable by other users") ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("labctl %s: %v, want one line refusing %s", strings.Join(args, " "), err, dir)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("labctl wrote into the shared directory: %v", entries)
	}
}
