package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/internal/repo"
)

// TestREADMELabctlNumbers holds the README's figures about labctl's own waits to the code:
// how long repair and fault --via fis wait at most, how often they and watch ask AWS.
func TestREADMELabctlNumbers(t *testing.T) {
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(b)), " ")
	for _, c := range []struct {
		what, re string
		want     time.Duration
		unit     time.Duration
	}{
		{"the longest wait of repair and fault --via fis", `\((\d+) min at most, ` + "`--timeout`", labops.DefaultTimeout, time.Minute},
		{"how often fault --via fis asks FIS", "`GetExperiment` every (\\d+) s", labops.FISPoll, time.Second},
		{"watch's refresh on AWS", "`watch` \\| the status every (\\d+) s", awsWatchInterval, time.Second},
	} {
		ms := regexp.MustCompile(c.re).FindAllStringSubmatch(readme, -1)
		if len(ms) == 0 {
			t.Errorf("%s: the README has no %q", c.what, c.re)
		}
		for _, m := range ms {
			if want := fmt.Sprint(int(c.want / c.unit)); m[1] != want {
				t.Errorf("%s: README says %q, the code has %s", c.what, m[0], c.want)
			}
		}
	}
}
