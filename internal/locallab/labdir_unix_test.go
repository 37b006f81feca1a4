//go:build unix

package locallab

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveStaleLabDirsLeavesOthers: a link named like a lab directory is not followed,
// and another user's lab directory is not touched, even when their marks say stale.
func TestRemoveStaleLabDirsLeavesOthers(t *testing.T) {
	tmp, elsewhere := t.TempDir(), t.TempDir()
	stale := func(parent string) string {
		d, err := newLabDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		_ = d.lock.Unlock() // as if its process were gone
		return d.path
	}
	target := stale(elsewhere)
	link := filepath.Join(tmp, labDirPrefix+"link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	keep := []string{link, target}
	if os.Geteuid() == 0 {
		theirs := stale(tmp)
		if err := os.Chown(theirs, 54321, 54321); err != nil {
			t.Fatal(err)
		}
		keep = append(keep, theirs)
	}
	removed, err := RemoveStaleLabDirs(tmp)
	if err != nil || len(removed) != 0 {
		t.Fatalf("removed %+v, %v; want nothing", removed, err)
	}
	for _, p := range keep {
		if !exists(p) {
			t.Errorf("%s was removed", p)
		}
	}
}
