package portability

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMakefileOSes(t *testing.T) {
	cases := []struct {
		name     string
		makefile string
		want     []string
		err      string
	}{
		{
			name:     "each OS once, sorted",
			makefile: "GO ?= go\nPLATFORMS = linux/amd64 windows/arm64 darwin/amd64 linux/arm64 windows/amd64\nX = 1\n",
			want:     []string{"darwin", "linux", "windows"},
		},
		{
			name:     "simply expanded, tabs",
			makefile: "PLATFORMS\t:= freebsd/amd64\t linux/amd64\n",
			want:     []string{"freebsd", "linux"},
		},
		{
			name:     "a variable that only ends in PLATFORMS is not the list",
			makefile: "OTHER_PLATFORMS = plan9/amd64\n",
			err:      "no PLATFORMS",
		},
		{name: "no list", makefile: "GO ?= go\n", err: "no PLATFORMS"},
		{name: "empty list", makefile: "PLATFORMS =\n", err: "empty"},
		{name: "not GOOS/GOARCH", makefile: "PLATFORMS = linux\n", err: `"linux" is not GOOS/GOARCH`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "Makefile")
			if err := os.WriteFile(path, []byte(tc.makefile), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := MakefileOSes(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("MakefileOSes = %v, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("MakefileOSes = %q, want %q", got, tc.want)
			}
		})
	}
}
