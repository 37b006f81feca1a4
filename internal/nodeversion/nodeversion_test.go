package nodeversion

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		version  string
		note     string // part of the note, "" for none
		errorMsg string // part of the error, "" for none
	}{
		{"v24.11.1\n", "", ""},
		{"v22.21.0", "", ""},
		{"v26.0.0", "", ""},
		{"v20.19.2\n", "Node.js v20.19.2 has reached its end of life; the lab still works on it, but install Node.js 22 or 24", ""},
		{"v21.7.3", "end of life", ""},
		{"v23.11.0", "short-lived odd-numbered release", ""},
		{"v18.20.4", "", "Node.js v18.20.4 is too old for the lab's Node tools: install Node.js 22 or 24"},
		{"20.1.0", "", "cannot read the Node.js version"},
		{"", "", "cannot read the Node.js version"},
	}
	for _, tt := range tests {
		note, err := Check(tt.version)
		if tt.errorMsg != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errorMsg) {
				t.Errorf("Check(%q) error %v, want %q", tt.version, err, tt.errorMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("Check(%q): %v", tt.version, err)
		}
		if (tt.note == "") != (note == "") || !strings.Contains(note, tt.note) {
			t.Errorf("Check(%q) note %q, want %q", tt.version, note, tt.note)
		}
	}
}

func TestDetectMissingNode(t *testing.T) {
	_, err := Detect(t.Context(), "/nonexistent/node")
	if err == nil || !strings.Contains(err.Error(), "install Node.js 22 or 24") {
		t.Errorf("Detect with no node: %v", err)
	}
}
