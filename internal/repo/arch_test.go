package repo

import (
	"bufio"
	"go/build/constraint"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// knownArches are the GOARCH values (go tool dist list) a file name suffix or build
// constraint could select.
var knownArches = []string{
	"386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le",
	"ppc64", "ppc64le", "riscv64", "s390x", "wasm",
}

// TestNoArchitectureSpecificCode keeps true what the other OSes' compile checks rely on
// (internal/portability in the tests, `make cross` for a release): the code compiles the same
// on every architecture, so type-checking each OS once (on the host's architecture) proves
// all six platforms compile. A file that selects an architecture breaks that.
func TestNoArchitectureSpecificCode(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	isArch := map[string]bool{}
	for _, a := range knownArches {
		isArch[a] = true
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "cdk.out" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if strings.HasSuffix(name, ".s") {
			t.Errorf("%s: assembly is architecture-specific; checking each OS on one architecture would not cover every platform", rel)
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		checked++
		parts := strings.Split(strings.TrimSuffix(strings.TrimSuffix(name, ".go"), "_test"), "_")
		if n := len(parts); n > 1 && isArch[parts[n-1]] {
			t.Errorf("%s: the file name selects GOARCH %s", rel, parts[n-1])
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "package ") {
				break
			}
			if !constraint.IsGoBuild(line) {
				continue
			}
			expr, err := constraint.Parse(line)
			if err != nil {
				t.Errorf("%s: %v", rel, err)
				continue
			}
			expr.Eval(func(tag string) bool {
				if isArch[tag] {
					t.Errorf("%s: the build constraint %q selects GOARCH %s", rel, line, tag)
				}
				return false
			})
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatalf("no Go file found under %s", root)
	}
}
