package awslocal

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSendCompressed(t *testing.T) {
	big := strings.Repeat("<member>i-0123456789abcdef0</member>", 100)
	tests := []struct {
		accept, body string
		gzipped      bool
	}{
		{"gzip", big, true},
		{"deflate, gzip;q=0.5", big, true},
		{"gzip;q=0", big, false},
		{"identity", big, false},
		{"", big, false},
		{"gzip", "<small/>", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Accept-Encoding", tt.accept)
		w := httptest.NewRecorder()
		b := &bufferedWriter{header: w.Header()}
		_, _ = b.Write([]byte(tt.body))
		b.sendTo(w, r)
		var got []byte
		if w.Header().Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(w.Body)
			if err != nil {
				t.Fatal(err)
			}
			got, _ = io.ReadAll(zr)
		} else {
			got = w.Body.Bytes()
		}
		if gz := w.Header().Get("Content-Encoding") == "gzip"; gz != tt.gzipped || string(got) != tt.body || w.Code != 200 {
			t.Errorf("Accept-Encoding %q, %d bytes: gzip %v, status %d, body intact %v", tt.accept, len(tt.body), gz, w.Code, string(got) == tt.body)
		}
	}
}
