//go:build unix

package labclient

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// tempStateDir is the state directory when XDG_RUNTIME_DIR is unset: one per user under the
// shared temporary directory, which is why privateDir checks it before every use.
func tempStateDir() string {
	return filepath.Join(os.TempDir(), "healthchecklab-"+strconv.Itoa(os.Getuid()))
}

// OwnedByMe says why fi is not owned by the current (effective) user, or nil.
func OwnedByMe(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("has no owner information")
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("belongs to uid %d, not to you (uid %d)", st.Uid, os.Geteuid())
	}
	return nil
}

// othersMayWrite reports whether fi's group or other users may write it.
func othersMayWrite(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o022 != 0 }
