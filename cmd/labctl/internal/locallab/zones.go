package locallab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Region is the local lab's region name; zone names append a letter, like real ones.
const Region = "local-1"

// Letters are the zones of the lab, one instance each, as in the lab's Auto Scaling group.
var Letters = []string{"a", "b", "c"}

// ZoneName returns the zone name of a letter: "c" → "local-1c".
func ZoneName(letter string) string { return Region + letter }

// ParseZone accepts a zone letter ("c") or a full local zone name ("local-1c") and returns
// the letter. The error is one line naming the valid letters.
func ParseZone(s string) (string, error) {
	l := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), Region)
	for _, z := range Letters {
		if l == z {
			return z, nil
		}
	}
	return "", fmt.Errorf("unknown zone %q: the local lab's zones are %s (e.g. --az c)", s, strings.Join(Letters, ", "))
}

// newInstanceID returns an id in EC2's format: "i-0" and 16 hex digits.
func newInstanceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "i-0" + hex.EncodeToString(b[:])
}
