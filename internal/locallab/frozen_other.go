//go:build !linux

package locallab

// frozen reports whether process pid is stopped; only Linux tells it cheaply, elsewhere a
// frozen process shows as running (it is not restarted either way).
func frozen(int) bool { return false }
