package portability

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// platformsLine is the Makefile's list of the platforms the lab is built for,
// "PLATFORMS = linux/amd64 darwin/arm64 …", on one line.
var platformsLine = regexp.MustCompile(`(?m)^PLATFORMS[ \t]*[:?]?=[ \t]*(.*)$`)

// MakefileOSes returns the operating systems of the PLATFORMS list in the Makefile at path,
// sorted, each once. The Makefile is the one list of the platforms the lab supports:
// `make cross-build` links the binaries for each of them.
func MakefileOSes(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := platformsLine.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("%s: no PLATFORMS = line", path)
	}
	var oses []string
	for _, p := range strings.Fields(string(m[1])) {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("%s: PLATFORMS: %q is not GOOS/GOARCH", path, p)
		}
		if !slices.Contains(oses, goos) {
			oses = append(oses, goos)
		}
	}
	if len(oses) == 0 {
		return nil, fmt.Errorf("%s: PLATFORMS is empty", path)
	}
	slices.Sort(oses)
	return oses, nil
}
