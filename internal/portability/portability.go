// Package portability answers whether the module's code, tests included, compiles for an
// operating system other than the one it runs on, without compiling or linking anything: it
// type-checks the packages from source as `go build` would select their files for that OS.
//
// Only the module's own packages are checked in full. Every dependency (the standard library,
// the AWS SDK, the CDK) is type-checked from source with its function bodies skipped: the
// module's code sees only their declarations, so whether a body compiles is the dependency's
// concern, and skipping the bodies makes a check of the whole module take seconds where
// compiling every dependency once more for each OS takes minutes.
package portability

import (
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/tools/go/packages"
)

// Problem is one reason a package does not compile for an OS: a type error, or an error from
// listing the package (a missing import, a package whose files all exclude that OS).
type Problem struct {
	GOOS    string
	Package string // the package's ID from go list, e.g. "m/p [m/p.test]" for p with its tests
	Pos     string // file:line:column relative to the checked directory, or "-" if unknown
	Msg     string
}

func (p Problem) String() string {
	return fmt.Sprintf("GOOS=%s %s: %s: %s", p.GOOS, p.Package, p.Pos, p.Msg)
}

// listMode is what the check asks go list for: each package's files and imports, for the
// packages named and all they import. It has no NeedTypes on purpose: go/packages answers
// NeedTypes without NeedDeps from export data, for which `go list -export` compiles every
// dependency (the cost this package exists to avoid), and NeedTypes with NeedDeps type-checks
// every dependency's function bodies (three times the time and six times the memory of this
// package's check, docs/benchmarks.md). Check type-checks the files itself instead.
const listMode = packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps | packages.NeedModule

// Check type-checks the packages that patterns (go list patterns, e.g. "./...") match in dir,
// with their internal and external test packages, as they compile for goos on this machine's
// architecture with cgo off. Packages under a node_modules directory are left out: npm
// packages (the CDK's init templates) ship Go files that are not part of the module.
//
// It returns every problem found, sorted; the error is for a check that could not run.
func Check(dir, goos string, patterns ...string) ([]Problem, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")

	// The packages of the patterns first, without tests, so that those under node_modules are
	// left out before anything of theirs is loaded.
	matched, err := packages.Load(&packages.Config{Mode: packages.NeedName, Dir: dir, Env: env}, patterns...)
	if err != nil {
		return nil, fmt.Errorf("GOOS=%s: listing %s: %w", goos, strings.Join(patterns, " "), err)
	}
	var roots []string
	for _, p := range matched {
		if !slices.Contains(strings.Split(p.PkgPath, "/"), "node_modules") {
			roots = append(roots, p.PkgPath)
		}
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("GOOS=%s: no package matches %s in %s", goos, strings.Join(patterns, " "), dir)
	}

	pkgs, err := packages.Load(&packages.Config{Mode: listMode, Dir: dir, Env: env, Tests: true}, roots...)
	if err != nil {
		return nil, fmt.Errorf("GOOS=%s: listing the packages and their dependencies: %w", goos, err)
	}
	c := &checker{dir: dir, goos: goos, fset: token.NewFileSet(), sizes: types.SizesFor("gc", build.Default.GOARCH)}
	c.run(pkgs)
	slices.SortFunc(c.problems, func(a, b Problem) int {
		return strings.Compare(a.Package+"\x00"+a.Pos+"\x00"+a.Msg, b.Package+"\x00"+b.Pos+"\x00"+b.Msg)
	})
	// An error in a package's file is an error again in its test variant and in every other
	// variant compiled with it: one report per position and message is enough.
	var problems []Problem
	seen := map[[2]string]bool{}
	for _, p := range c.problems {
		key := [2]string{p.Pos, p.Msg}
		if p.Pos != "-" && seen[key] {
			continue
		}
		seen[key] = true
		problems = append(problems, p)
	}
	return problems, nil
}

// checker type-checks a package graph, each package once its imports are done, as many at a
// time as there are CPUs.
type checker struct {
	dir   string
	goos  string
	fset  *token.FileSet
	sizes types.Sizes

	mu       sync.Mutex
	problems []Problem
}

// node is one package of the graph being checked.
type node struct {
	pkg   *packages.Package
	done  chan struct{} // closed when types is set
	types *types.Package
}

func (c *checker) run(initial []*packages.Package) {
	nodes := map[string]*node{}
	packages.Visit(initial, nil, func(p *packages.Package) {
		nodes[p.ID] = &node{pkg: p, done: make(chan struct{})}
	})
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(n.done)
			for _, imp := range n.pkg.Imports {
				<-nodes[imp.ID].done
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			n.types = c.check(n, nodes)
		}()
	}
	wg.Wait()
}

// check reports the package's listing errors and type-checks it: in full if it belongs to the
// main module, its declarations only if not.
func (c *checker) check(n *node, nodes map[string]*node) *types.Package {
	p := n.pkg
	for _, e := range p.Errors {
		c.report(p.ID, e.Pos, e.Msg)
	}
	own := p.Module != nil && p.Module.Main
	if strings.HasSuffix(p.ID, ".test") && p.Name == "main" {
		// The test binary's main package, which go test generates: nothing of the module's.
		return types.NewPackage(p.PkgPath, p.Name)
	}
	var files []*ast.File
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(c.fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			var list scanner.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					c.report(p.ID, e.Pos.String(), e.Msg)
				}
			} else {
				c.report(p.ID, "-", err.Error())
			}
		}
		if f != nil {
			files = append(files, f)
		}
	}
	conf := &types.Config{
		IgnoreFuncBodies: !own,
		Sizes:            c.sizes,
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == "unsafe" {
				return types.Unsafe, nil
			}
			imp, ok := p.Imports[path]
			if !ok {
				return nil, fmt.Errorf("%s is not among the imports go list found", path)
			}
			return nodes[imp.ID].types, nil
		}),
		Error: func(err error) {
			if e, ok := err.(types.Error); ok {
				c.report(p.ID, e.Fset.Position(e.Pos).String(), e.Msg)
			} else {
				c.report(p.ID, "-", err.Error())
			}
		},
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		conf.GoVersion = "go" + p.Module.GoVersion
	}
	// The errors have gone to conf.Error; the package is complete enough for its importers.
	tpkg, _ := conf.Check(p.PkgPath, c.fset, files, nil)
	return tpkg
}

// report records a problem, with the position's file relative to the checked directory.
func (c *checker) report(pkg, pos, msg string) {
	if pos == "" {
		pos = "-"
	}
	if rel, err := filepath.Rel(c.dir, pos); err == nil && filepath.IsAbs(pos) && !strings.HasPrefix(rel, "..") {
		pos = rel
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, Problem{GOOS: c.goos, Package: pkg, Pos: pos, Msg: msg})
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
