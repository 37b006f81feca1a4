package main

import (
	"bytes"
	"testing"
)

// TestPageCache: a cached page is byte for byte what the template renders, JSON and HTML are
// kept apart, and the cache stays bounded however many distinct views it meets.
func TestPageCache(t *testing.T) {
	c := &pageCache{pages: map[pageKey][]byte{}}
	view := recommendationView{UserID: 1, UserName: "Sarah", Show: "<b>M*A*S*H</b>", Personalized: true, ServerCode: "healthcheck"}
	var want bytes.Buffer
	if err := pageTemplate.Execute(&want, view); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := c.get(pageTemplate, view)
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("cached page differs from the template's (err %v)", err)
		}
	}
	js, err := c.get(nil, view)
	if err != nil || !bytes.HasPrefix(js, []byte(`{"user_id":1,`)) {
		t.Errorf("JSON for the same view: %s %v", js, err)
	}
	for i := range 3 * maxCachedPages {
		view.UserID = i
		if _, err := c.get(pageTemplate, view); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.pages); n > maxCachedPages {
		t.Errorf("%d pages cached, want at most %d", n, maxCachedPages)
	}
}
