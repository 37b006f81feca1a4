package locallab

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"

	"healthchecklab/internal/labclient"
)

// A lab keeps the web-server binary and the instance logs in a temporary directory that
// Close removes. A lab killed outright (kill -9, a crash) cannot, so every lab marks its
// directory as in use for as long as its process lives, and the next `labctl local up`
// removes the directories whose lab is gone.
const (
	// labDirPrefix starts the name of every lab's temporary directory.
	labDirPrefix = "healthchecklab-local-"
	// markerLock is locked by the lab's process for as long as it runs; the OS releases the
	// lock when the process ends, however it ends.
	markerLock = "lab.lock"
	// markerPID holds the lab's process id, written only once the lock is held: a directory
	// with this file and an unlocked markerLock belongs to a lab that is gone.
	markerPID = "lab.pid"
)

// labDir is a lab's temporary directory, marked as in use by this process.
type labDir struct {
	path string
	lock *flock.Flock
}

// newLabDir creates a lab's temporary directory under tmp and marks it as in use.
func newLabDir(tmp string) (_ *labDir, err error) {
	dir, err := os.MkdirTemp(tmp, labDirPrefix)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	lk := flock.New(filepath.Join(dir, markerLock))
	if ok, err := lk.TryLock(); err != nil || !ok {
		return nil, fmt.Errorf("lock lab directory %s: %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, markerPID), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		_ = lk.Unlock()
		return nil, err
	}
	return &labDir{path: dir, lock: lk}, nil
}

// remove deletes the directory. The lock goes first: Windows does not delete open files.
func (d *labDir) remove() {
	_ = d.lock.Unlock()
	_ = os.RemoveAll(d.path)
}

// StaleDir is a lab directory that RemoveStaleLabDirs removed.
type StaleDir struct {
	Path  string
	PID   int   // the process the lab ran in
	Bytes int64 // size of what was removed
}

// RemoveStaleLabDirs removes the temporary directories under tmp whose lab's process is gone:
// the directory carries the lab's pid and nobody holds its lock. It leaves alone a live lab's
// directory, one that is not a plain directory of the current user, and one without both
// marks (a lab in its first instant, or one from a labctl before the marks).
func RemoveStaleLabDirs(tmp string) ([]StaleDir, error) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, err
	}
	var removed []StaleDir
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), labDirPrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		pid, stale := staleLabDir(dir)
		if !stale {
			continue
		}
		size := dirSize(dir)
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, StaleDir{Path: dir, PID: pid, Bytes: size})
	}
	return removed, errors.Join(errs...)
}

// staleLabDir reports whether dir is a marked lab directory of the current user whose lock
// is free, and the pid it names.
func staleLabDir(dir string) (pid int, stale bool) {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || labclient.OwnedByMe(fi) != nil {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(dir, markerPID))
	if err != nil {
		return 0, false
	}
	pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	lockPath := filepath.Join(dir, markerLock)
	if fi, err := os.Lstat(lockPath); err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	lk := flock.New(lockPath, flock.SetFlag(os.O_RDONLY))
	ok, err := lk.TryLock()
	if err != nil || !ok {
		return 0, false // the lab runs, or the lock cannot be judged
	}
	_ = lk.Unlock()
	return pid, true
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
