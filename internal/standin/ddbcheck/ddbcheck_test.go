package ddbcheck

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"healthchecklab/internal/lab"
)

// nestedList is an attribute value of lists nested levels deep around a string.
func nestedList(levels int) string {
	return strings.Repeat(`{"L":[`, levels) + `{"S":"x"}` + strings.Repeat(`]}`, levels)
}

// nestedMap is an attribute value of maps nested levels deep around a string.
func nestedMap(levels int) string {
	return strings.Repeat(`{"M":{"a":`, levels) + `{"S":"x"}` + strings.Repeat(`}}`, levels)
}

// getItem is a GetItem request on the lab's table whose key carries partition as its
// partition key value.
func getItem(partition string) string {
	return `{"TableName":"T","Key":{"` + lab.PartitionKey + `":` + partition + `,"` + lab.SortKey + `":{"N":"1"}}}`
}

// crashingGetItem is the request that crashed dynalite: a GetItem of about 16 KB whose key
// holds a list nested 2,000 deep.
func crashingGetItem() string { return getItem(nestedList(2000)) }

func str(n int) string { return `{"S":"` + strings.Repeat("a", n) + `"}` }

func TestCheck(t *testing.T) {
	bin := func(n int) string { return `{"B":"` + base64.StdEncoding.EncodeToString(make([]byte, n)) + `"}` }
	putItem := func(attrs string) string {
		return `{"TableName":"T","Item":{"` + lab.PartitionKey + `":{"S":"p"},"` + lab.SortKey + `":{"N":"1"}` + attrs + `}}`
	}
	// An item of exactly 400 KB: the key attributes, then one string attribute "big" filling the rest.
	keyBytes := len(lab.PartitionKey) + 1 + len(lab.SortKey) + 2
	fullItem := putItem(`,"big":` + str(MaxItemBytes-keyBytes-len("big")))
	overItem := putItem(`,"big":` + str(MaxItemBytes-keyBytes-len("big")+1))

	tests := []struct {
		name     string
		body     string
		wantType string // "" when the request passes
		wantMsg  string
	}{
		{"a normal GetItem", getItem(`{"S":"getRecommendation"}`), "", ""},
		{"the crashing request: a key nested 2,000 deep", crashingGetItem(), ValidationException, msgNesting},
		{"lists nested 32 deep", getItem(nestedList(MaxNesting)), "", ""},
		{"lists nested 33 deep", getItem(nestedList(MaxNesting + 1)), ValidationException, msgNesting},
		{"maps nested 32 deep in an item", putItem(`,"m":` + nestedMap(MaxNesting)), "", ""},
		{"maps nested 33 deep in an item", putItem(`,"m":` + nestedMap(MaxNesting+1)), ValidationException, msgNesting},
		{"33 deep in an expression value", `{"TableName":"T","ExpressionAttributeValues":{":v":` + nestedList(MaxNesting+1) + `}}`, ValidationException, msgNesting},
		{"33 deep in a PartiQL parameter", `{"Statement":"SELECT","Parameters":[` + nestedMap(MaxNesting+1) + `]}`, ValidationException, msgNesting},
		{"32 deep at BatchWriteItem's deepest place", `{"RequestItems":{"T":[{"PutRequest":{"Item":{"a":` + nestedList(MaxNesting) + `}}}]}}`, "", ""},
		{"33 deep at BatchWriteItem's deepest place", `{"RequestItems":{"T":[{"PutRequest":{"Item":{"a":` + nestedList(MaxNesting+1) + `}}}]}}`, ValidationException, msgNesting},
		{"deep JSON outside any attribute value", `{"TableName":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, ValidationException, msgNesting},
		{"partition key of 2048 bytes", getItem(str(MaxPartitionKeyBytes)), "", ""},
		{"partition key of 2049 bytes", getItem(str(MaxPartitionKeyBytes + 1)), ValidationException, msgHashKey},
		{"binary partition key of 2049 bytes", getItem(bin(MaxPartitionKeyBytes + 1)), ValidationException, msgHashKey},
		{"sort key of 1024 bytes", `{"TableName":"T","Key":{"` + lab.SortKey + `":` + str(MaxSortKeyBytes) + `}}`, "", ""},
		{"sort key of 1025 bytes", `{"TableName":"T","Key":{"` + lab.SortKey + `":` + str(MaxSortKeyBytes+1) + `}}`, ValidationException, msgRangeKey},
		{"a big key in BatchGetItem", `{"RequestItems":{"T":{"Keys":[{"` + lab.PartitionKey + `":` + str(MaxPartitionKeyBytes+1) + `}]}}}`, ValidationException, msgHashKey},
		{"a big key in a DeleteRequest", `{"RequestItems":{"T":[{"DeleteRequest":{"Key":{"p":` + str(MaxPartitionKeyBytes+1) + `}}}]}}`, ValidationException, msgHashKey},
		{"an item of 400 KB", fullItem, "", ""},
		{"an item of 400 KB and 1 byte", overItem, ValidationException, msgItemSize},
		{"a malformed big value in an item", putItem(`,"big":{"X":"` + strings.Repeat("a", MaxItemBytes) + `"}`), ValidationException, msgItemSize},
		{"tags: Key and Value are strings there", `{"ResourceArn":"arn","Tags":[{"Key":"k","Value":"v"}]}`, "", ""},
		{"not JSON", `{"TableName":`, SerializationException, msgNotJSON},
		{"not an object", `["TableName"]`, SerializationException, msgNotJSON},
		{"empty", ``, SerializationException, msgNotJSON},
		{"two objects", `{}{}`, SerializationException, msgTrailing},
		{"text", `GetItem please`, SerializationException, msgNotJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.body))
			switch {
			case tt.wantType == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantType != "" && err == nil:
				t.Fatal("passed, want refused")
			case err != nil && (err.Type != tt.wantType || err.Message != tt.wantMsg):
				t.Fatalf("got %s %q, want %s %q", err.Type, err.Message, tt.wantType, tt.wantMsg)
			}
		})
	}
}

// TestErrorWrite checks the answer's wire shape, as the AWS SDK's DynamoDB client reads it:
// HTTP 400, the JSON 1.0 content type, __type and message.
func TestErrorWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	Check([]byte(crashingGetItem())).Write(rec)
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/x-amz-json-1.0" ||
		body.Type != "com.amazonaws.dynamodb.v20120810#ValidationException" || body.Message != msgNesting {
		t.Errorf("got %d %q %+v", rec.Code, rec.Header().Get("Content-Type"), body)
	}
}

// FuzzCheck feeds Check arbitrary bodies. It must never panic, and a body it passes must be
// one JSON object, no deeper than a valid request can be, whose attribute values keep within
// DynamoDB's nesting and size limits (checked here by an independent, recursive reading).
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		crashingGetItem(),
		getItem(`{"S":"getRecommendation"}`),
		getItem(nestedList(MaxNesting)),
		getItem(nestedList(MaxNesting + 1)),
		getItem(nestedMap(MaxNesting + 1)),
		getItem(str(MaxPartitionKeyBytes + 1)),
		`{"TableName":"T","Key":{"` + lab.SortKey + `":` + str(MaxSortKeyBytes+1) + `}}`,
		`{"RequestItems":{"T":[{"PutRequest":{"Item":{"a":` + nestedList(MaxNesting) + `}}}]}}`,
		`{"TableName":"T","Item":{"a":{"NS":["1","2.50"]},"b":{"BOOL":true},"c":{"NULL":true},"d":{"BS":["AAE="]}}}`,
		`{"Statement":"SELECT","Parameters":[{"M":{"a":{"L":[]}}}]}`,
		`{"TableName":"T","Expected":{"a":{"AttributeValueList":[{"S":"x"}],"Value":{"N":"1"}}}}`,
		`{"TableName":`, `[]`, ``, `{}{}`, `null`, `{"Key":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := Check(body)
		if err != nil {
			if err.Type != ValidationException && err.Type != SerializationException {
				t.Fatalf("unknown error type %q", err.Type)
			}
			return
		}
		var req map[string]any
		if json.Unmarshal(body, &req) != nil || req == nil {
			t.Fatalf("passed a body that is not one JSON object: %q", body)
		}
		if d := jsonDepth(req); d > maxJSONDepth {
			t.Fatalf("passed JSON nested %d deep", d)
		}
		if msg := violation(req); msg != "" {
			t.Fatalf("passed a request that breaks a limit (%s): %q", msg, body)
		}
	})
}

// jsonDepth is the nesting depth of a decoded JSON value.
func jsonDepth(v any) int {
	d := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			d = max(d, jsonDepth(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range v {
			d = max(d, jsonDepth(e))
		}
		return d + 1
	}
	return 0
}

// violation reads a request the straightforward way and names a limit it breaks: an
// attribute value under a member that holds attribute values nested deeper than MaxNesting,
// a string or binary key value over the partition key limit, or a string value in an Item
// over the item limit.
func violation(v any) string {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if m := violation(e); m != "" {
				return m
			}
		}
	case map[string]any:
		for name, m := range v {
			switch name {
			case "Key", "Item", "ExclusiveStartKey", "ExpressionAttributeValues":
				if values, ok := m.(map[string]any); ok {
					for _, av := range values {
						if avLevels(av) > MaxNesting {
							return fmt.Sprintf("%s nested %d deep", name, avLevels(av))
						}
						if name == "Key" && scalarLen(av) > MaxPartitionKeyBytes {
							return "key value over 2048 bytes"
						}
						if name == "Item" && scalarLen(av) > MaxItemBytes {
							return "item value over 400 KB"
						}
					}
					continue
				}
			case "Parameters", "AttributeValueList":
				if values, ok := m.([]any); ok {
					for _, av := range values {
						if avLevels(av) > MaxNesting {
							return fmt.Sprintf("%s nested %d deep", name, avLevels(av))
						}
					}
					continue
				}
			}
			if msg := violation(m); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// avLevels is how many lists and maps nest in an attribute value.
func avLevels(av any) int {
	m, ok := av.(map[string]any)
	if !ok || len(m) != 1 {
		return 0
	}
	d := 0
	if l, ok := m["L"].([]any); ok {
		for _, e := range l {
			d = max(d, avLevels(e))
		}
		return d + 1
	}
	if mm, ok := m["M"].(map[string]any); ok {
		for _, e := range mm {
			d = max(d, avLevels(e))
		}
		return d + 1
	}
	return 0
}

// scalarLen is the byte length of an S or B value (B decoded), else 0.
func scalarLen(av any) int {
	m, ok := av.(map[string]any)
	if !ok || len(m) != 1 {
		return 0
	}
	if s, ok := m["S"].(string); ok {
		return len(s)
	}
	if s, ok := m["B"].(string); ok {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			return len(b)
		}
		return len(s)
	}
	return 0
}

// BenchmarkCheck measures the check on the lab's own request (the web server's GetItem) and
// on the crashing one.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"GetItem", getItem(`{"S":"getRecommendation"}`)},
		{"nested2000", crashingGetItem()},
	} {
		body := []byte(bc.body)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				Check(body)
			}
		})
	}
}
