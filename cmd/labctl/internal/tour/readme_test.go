package tour

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"healthchecklab/internal/repo"
)

var update = flag.Bool("update", false, "rewrite the README's step table from the script")

// TestREADMEStepTable fails when the README's local step table and the tour's script
// disagree, so the manual cannot drift from what the tour (and the end-to-end test) runs.
func TestREADMEStepTable(t *testing.T) {
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, TableBegin), strings.Index(readme, TableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no step table between %q and %q", TableBegin, TableEnd)
	}
	got := strings.TrimSpace(readme[i+len(TableBegin) : j])
	want := strings.TrimSpace(StepTable())
	if got == want {
		return
	}
	if *update {
		readme = readme[:i+len(TableBegin)] + "\n" + want + "\n" + readme[j:]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's step table differs from the tour's script; rerun with -update.\nREADME:\n%s\nscript:\n%s", got, want)
}
