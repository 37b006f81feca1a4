package labclient

import (
	"io/fs"
	"os"
	"path/filepath"
)

// tempStateDir is the state directory when XDG_RUNTIME_DIR is unset. Windows' temporary
// directory is already per user (under the user's profile, which others cannot write).
func tempStateDir() string { return filepath.Join(os.TempDir(), "healthchecklab") }

// OwnedByMe and othersMayWrite accept any directory: on Windows the access control lists of
// the user's profile, not owners and mode bits, keep other users out (Go reports every
// writable directory as mode 0777 there).
func OwnedByMe(fs.FileInfo) error { return nil }

func othersMayWrite(fs.FileInfo) bool { return false }
