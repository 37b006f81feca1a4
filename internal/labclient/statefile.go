package labclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// The state file holds the control token, so it lives in a directory that only the current
// user can change: labctl creates the directory with mode 0700 and refuses one that another
// user owns or may write, where that user could read the file or plant a symbolic link for
// labctl to write through.

// privateDir checks that dir is a real directory (not a symbolic link) owned by the current
// user and writable by no one else. With create, a missing dir is made with mode 0700.
func privateDir(dir string, create bool) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("state directory: %w", err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("state directory %s is a symbolic link: refusing it, the state file holds the lab's token (use a private directory, --state or LABCTL_STATE)", dir)
	case !fi.IsDir():
		return fmt.Errorf("state directory %s is not a directory: give the state file another place with --state or LABCTL_STATE", dir)
	}
	if err := OwnedByMe(fi); err != nil {
		return fmt.Errorf("state directory %s %v: refusing it, the state file holds the lab's token (remove it, or use --state or LABCTL_STATE)", dir, err)
	}
	if othersMayWrite(fi) {
		return fmt.Errorf("state directory %s is writable by other users (mode %s): refusing it, the state file holds the lab's token (chmod 700 it, or use --state or LABCTL_STATE)", dir, fi.Mode().Perm())
	}
	return nil
}

// WriteState writes st to path, readable by the owner only (it holds the control token).
// The file is written under a fresh name created exclusively (O_EXCL never follows a
// symbolic link, on any OS) and renamed into place, which replaces a link at path rather
// than writing through it.
func WriteState(path string, st State) error {
	dir := filepath.Dir(path)
	if err := privateDir(dir, true); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// ErrRunning means another `labctl local up` holds the state file's lock.
var ErrRunning = errors.New("a local lab is already running")

// LockState takes the exclusive OS file lock (flock on Unix, LockFileEx on Windows) that a
// lab holds on path+".lock" for its whole life, so that two `labctl local up` with the same
// state file cannot both start. The lock goes with the process, however it ends. unlock
// releases it.
func LockState(path string) (unlock func(), err error) {
	if err := privateDir(filepath.Dir(path), true); err != nil {
		return nil, err
	}
	lk := flock.New(path + ".lock")
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock state file %s: %w", path, err)
	}
	if !ok {
		if st, err := ReadState(path); err == nil {
			return nil, fmt.Errorf("%w with state file %s (pid %d, %s): stop it first (Ctrl-C there, or labctl local down), or give this one another --state",
				ErrRunning, path, st.PID, st.URL)
		}
		return nil, fmt.Errorf("%w: another labctl local up is starting with state file %s; stop it first, or give this one another --state", ErrRunning, path)
	}
	return func() { _ = lk.Unlock() }, nil
}
