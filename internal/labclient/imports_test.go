package labclient

import (
	"os/exec"
	"strings"
	"testing"
)

// serverCode are the packages that run the local lab: its shell, load balancer and process
// supervision. Only `labctl local up` (package main of cmd/labctl) may import them.
var serverCode = []string{
	"healthchecklab/internal/locallab",
	"healthchecklab/internal/localb",
	"healthchecklab/internal/supervise",
}

// TestVerbsImportNoServerCode: labctl's verbs, views and tour (cmd/labctl/internal/...,
// their tests included) and this package reach a lab through labclient only, never through
// the code that runs it. The build says so: go list names every package each one depends on.
func TestVerbsImportNoServerCode(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the imports: %v", err)
	}
	out, err := exec.Command(goCmd, "list", "-test", "-f", `{{.ImportPath}}{{"\t"}}{{join .Deps " "}}`,
		"healthchecklab/cmd/labctl/internal/...", "healthchecklab/internal/labclient").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, "\t")
		checked++
		for _, dep := range strings.Fields(deps) {
			for _, s := range serverCode {
				if dep == s {
					t.Errorf("%s imports %s (server code): use labclient's state file, control client and counters instead", pkg, s)
				}
			}
		}
	}
	if checked < 6 {
		t.Fatalf("go list named %d packages, want labclient and every package under cmd/labctl/internal:\n%s", checked, out)
	}
}
