// Package repo finds the HealthCheckLab checkout, where the local tools look for
// node_modules (dynalite) and the web server's source.
package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Module is the Go module path of this repository, as go.mod declares it.
const Module = "healthchecklab"

// Root walks up from dir ("." for the working directory) to the directory whose go.mod
// declares Module.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		mod, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(mod), "module "+Module+"\n") {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no %s checkout in %s or above it (run from the repository, or pass its path)", Module, dir)
		}
		d = parent
	}
}
