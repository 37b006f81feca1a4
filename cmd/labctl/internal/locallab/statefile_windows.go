package locallab

import (
	"io/fs"
	"os"
	"path/filepath"
)

// tempStateDir is the state directory when XDG_RUNTIME_DIR is unset. Windows' temporary
// directory is already per user (under the user's profile, which others cannot write).
func tempStateDir() string { return filepath.Join(os.TempDir(), "healthchecklab") }

// ownedByMe accepts any directory: on Windows the access control lists of the user's
// profile, not the mode bits, keep other users out of it.
func ownedByMe(fs.FileInfo) error { return nil }
