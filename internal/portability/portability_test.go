package portability

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/repo"
)

// TestModuleCompilesOnEveryForeignOS type-checks every package of the module, tests included,
// for each OS of the Makefile's PLATFORMS but the one running the test (whose compiler the
// rest of the suite already runs).
func TestModuleCompilesOnEveryForeignOS(t *testing.T) {
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	oses, err := MakefileOSes(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	foreign := 0
	for _, goos := range oses {
		if goos == runtime.GOOS {
			continue
		}
		foreign++
		t.Run(goos, func(t *testing.T) {
			start := time.Now()
			problems, err := Check(root, goos, "./...")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Error(p)
			}
			t.Logf("GOOS=%s type-checked in %v", goos, time.Since(start).Round(time.Millisecond))
		})
	}
	if foreign == 0 {
		t.Fatalf("the Makefile's PLATFORMS (%s) name no OS but %s", strings.Join(oses, " "), runtime.GOOS)
	}
}
