package query

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestParams(t *testing.T) {
	v, _ := url.ParseQuery("InstanceId.1=i-1&InstanceId.2=i-2&InstanceId.4=i-4&Names.member.1=a" +
		"&Filter.1.Name=tag:Name&Filter.1.Value.1=Web*&Filter.2.Name=instance-state-name&Filter.2.Value.1=running&Filter.2.Value.2=pending")
	p := Params{v}
	if got := p.List("InstanceId"); !slices.Equal(got, []string{"i-1", "i-2"}) {
		t.Errorf("List(InstanceId) = %v: stops at the first gap", got)
	}
	if got := p.List("Names.member"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("List(Names.member) = %v", got)
	}
	f := p.Filters()
	if len(f) != 2 || f[0].Name != "tag:Name" || !slices.Equal(f[1].Values, []string{"running", "pending"}) {
		t.Fatalf("Filters = %+v", f)
	}
	for _, tt := range []struct {
		f    Filter
		s    string
		want bool
	}{{f[0], "WebApp1", true}, {f[0], "Other", false}, {f[1], "pending", true}, {f[1], "terminated", false}} {
		if got := tt.f.Match(tt.s); got != tt.want {
			t.Errorf("%+v.Match(%q) = %v", tt.f, tt.s, got)
		}
	}
}

func TestPage(t *testing.T) {
	var got []int
	token := ""
	for i := 0; i < 10; i++ {
		start, end, next, ok := Page(7, token, 3)
		if !ok {
			t.Fatal("own token refused")
		}
		for j := start; j < end; j++ {
			got = append(got, j)
		}
		if token = next; token == "" {
			break
		}
	}
	if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Errorf("pages cover %v", got)
	}
	if s, e, next, ok := Page(7, "", 0); !ok || s != 0 || e != 7 || next != "" {
		t.Errorf("no page size: %d %d %q", s, e, next)
	}
	for _, bad := range []string{"nope!", "b2Zmc2V0Ojk"} { // garbage; offset:9 beyond 7 items
		if _, _, _, ok := Page(7, bad, 3); ok {
			t.Errorf("token %q accepted", bad)
		}
	}
}

func TestWriteShapes(t *testing.T) {
	w := httptest.NewRecorder()
	WriteResult(w, "http://ns/", "DescribeThings", "req-1", struct {
		Things []string `xml:"Things>member"`
	}{[]string{"a"}})
	want := `<DescribeThingsResponse xmlns="http://ns/"><DescribeThingsResult><Things><member>a</member></Things></DescribeThingsResult>` +
		`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeThingsResponse>`
	if !strings.Contains(w.Body.String(), want) {
		t.Errorf("result:\n%s\nwant\n%s", w.Body, want)
	}
	w = httptest.NewRecorder()
	WriteError(w, "http://ns/", "req-2", Errorf(400, "ValidationError", "bad %s", "thing"))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "<Error><Type>Sender</Type><Code>ValidationError</Code><Message>bad thing</Message></Error><RequestId>req-2</RequestId>") {
		t.Errorf("error: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	WriteEC2Error(w, "req-3", Errorf(400, "InvalidInstanceID.NotFound", "gone"))
	if !strings.Contains(w.Body.String(), "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>gone</Message></Error></Errors><RequestID>req-3</RequestID></Response>") {
		t.Errorf("EC2 error: %s", w.Body)
	}
}
