// Package ddbcheck refuses, as DynamoDB does, the DynamoDB API requests whose shape breaks
// DynamoDB's documented limits: a body that is not a JSON object, attribute values nested
// deeper than 32 levels, key values and items larger than their size limits. The lab's
// DynamoDB (dynalite) does not check nesting and crashes on a deeply nested request, so the
// lab checks every request before it reaches dynalite.
//
// The limits follow "Constraints in Amazon DynamoDB" (formerly the quotas page):
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html
// (nested attribute depth 32; partition key value at most 2048 bytes, sort key value at most
// 1024 bytes; item size at most 400 KB, 1 KB = 1024 bytes), and sizes are counted as in
// "DynamoDB item sizes and formats":
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
package ddbcheck

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"healthchecklab/internal/lab"
)

// DynamoDB's documented limits.
const (
	// MaxNesting is how deeply lists and maps may nest in an attribute value: a top-level
	// attribute of type L or M is level 1, a list or map inside it level 2, and so on.
	MaxNesting = 32
	// MaxPartitionKeyBytes bounds a partition key value.
	MaxPartitionKeyBytes = 2048
	// MaxSortKeyBytes bounds a sort key value.
	MaxSortKeyBytes = 1024
	// MaxItemBytes bounds an item: its attribute names and values.
	MaxItemBytes = 400 * 1024
)

// maxJSONDepth is the deepest JSON nesting a valid request can have: the deepest place an
// attribute value starts is at depth 7 (BatchWriteItem: request, RequestItems, the table's
// list, the write request, PutRequest, Item, the value), and each level of L or M adds two (the
// list or map, then the value inside). Anything deeper is refused while reading, before any
// tree is built.
const maxJSONDepth = 7 + 2*MaxNesting

// The __type of DynamoDB's errors, as the AWS SDKs read it (the part after '#' names the
// error).
const (
	ValidationException    = "com.amazonaws.dynamodb.v20120810#ValidationException"
	SerializationException = "com.amazon.coral.service#SerializationException"
)

// Messages DynamoDB answers for these faults.
const (
	msgNesting   = "Nesting Levels have exceeded supported limits"
	msgHashKey   = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
	msgRangeKey  = "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
	msgItemSize  = "Item size has exceeded the maximum allowed size"
	msgNotJSON   = "Request body is not a JSON object"
	msgTrailing  = "Request body has data after its JSON object"
	contentType  = "application/x-amz-json-1.0"
	statusRefuse = http.StatusBadRequest
)

// Error is DynamoDB's answer to a refused request.
type Error struct {
	Type    string // __type, e.g. ValidationException
	Message string
}

func (e *Error) Error() string { return e.Type[strings.IndexByte(e.Type, '#')+1:] + ": " + e.Message }

// Write answers the request with the error as DynamoDB does: HTTP 400 and a JSON body with
// __type and message.
func (e *Error) Write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(statusRefuse)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}

// Check returns nil for a request DynamoDB would not refuse for its shape, else the error
// DynamoDB answers. It never recurses deeper than the nesting a valid request may have.
func Check(body []byte) *Error {
	if tooDeep(body) {
		return &Error{ValidationException, msgNesting}
	}
	// The depth is bounded now, so decoding (which recurses) is safe. The decoder reads and
	// validates the whole object before it builds anything.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req map[string]any
	if err := dec.Decode(&req); err != nil || req == nil {
		return &Error{SerializationException, msgNotJSON}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{SerializationException, msgTrailing}
	}
	return walkRequest(req)
}

// tooDeep reports whether body nests objects and arrays deeper than maxJSONDepth. It scans
// the bytes once, skipping strings, without decoding or allocating: for JSON it finds the
// exact nesting; a body that is not JSON is refused by the decoder afterwards either way.
func tooDeep(body []byte) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > maxJSONDepth {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// walkRequest finds the attribute values in a request by the members that hold them in the
// DynamoDB API (Key, Keys, Item, ExclusiveStartKey, ExpressionAttributeValues, Parameters,
// AttributeValueList, Value) and checks them; other members are searched for such members.
// A member of an unexpected type is left to DynamoDB's own validation.
func walkRequest(v any) *Error {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if err := walkRequest(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for name, m := range v {
			if err := walkMember(name, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func walkMember(name string, m any) *Error {
	switch name {
	case "Key":
		if key, ok := m.(map[string]any); ok {
			return checkKey(key)
		}
	case "Keys":
		if keys, ok := m.([]any); ok {
			for _, k := range keys {
				if key, ok := k.(map[string]any); ok {
					if err := checkKey(key); err != nil {
						return err
					}
				}
			}
			return nil
		}
	case "Item":
		if item, ok := m.(map[string]any); ok {
			return checkItem(item)
		}
	case "ExclusiveStartKey", "ExpressionAttributeValues":
		if values, ok := m.(map[string]any); ok {
			_, err := checkValues(values)
			return err
		}
	case "Parameters", "AttributeValueList":
		if values, ok := m.([]any); ok {
			for _, av := range values {
				if _, err := checkValue(av, 0); err != nil {
					return err
				}
			}
			return nil
		}
	case "Value":
		if av, ok := m.(map[string]any); ok {
			_, err := checkValue(av, 0)
			return err
		}
	}
	return walkRequest(m)
}

// checkKey checks a primary key: its values' nesting and sizes. The lab's tables all have the
// lab's key schema, so the lab's sort key attribute is held to the sort key limit and any
// other key attribute to the partition key limit.
func checkKey(key map[string]any) *Error {
	for name, av := range key {
		size, err := checkValue(av, 0)
		if err != nil {
			return err
		}
		if name == lab.SortKey {
			if size > MaxSortKeyBytes {
				return &Error{ValidationException, msgRangeKey}
			}
		} else if size > MaxPartitionKeyBytes {
			return &Error{ValidationException, msgHashKey}
		}
	}
	return nil
}

// checkItem checks an item's values and its total size.
func checkItem(item map[string]any) *Error {
	size, err := checkValues(item)
	if err != nil {
		return err
	}
	if size > MaxItemBytes {
		return &Error{ValidationException, msgItemSize}
	}
	return nil
}

// checkValues checks a map of attribute names to values and returns its size: the names
// and the values.
func checkValues(values map[string]any) (int, *Error) {
	total := 0
	for name, av := range values {
		size, err := checkValue(av, 0)
		if err != nil {
			return 0, err
		}
		total += len(name) + size
	}
	return total, nil
}

// checkValue checks one attribute value, nested in levels lists and maps, and returns its
// size without its name. A value that is not an attribute value (an object with one type
// member) counts as its JSON size and is left to DynamoDB's own validation.
func checkValue(av any, levels int) (int, *Error) {
	m, ok := av.(map[string]any)
	if !ok || len(m) != 1 {
		return jsonSize(av), nil
	}
	for typ, v := range m {
		switch typ {
		case "S":
			if s, ok := v.(string); ok {
				return len(s), nil
			}
		case "N":
			if s, ok := v.(string); ok {
				return numberSize(s), nil
			}
		case "B":
			if s, ok := v.(string); ok {
				return binarySize(s), nil
			}
		case "BOOL", "NULL":
			return 1, nil
		case "SS", "NS", "BS":
			if set, ok := v.([]any); ok {
				total := 0
				for _, e := range set {
					s, _ := e.(string)
					switch typ {
					case "SS":
						total += len(s)
					case "NS":
						total += numberSize(s)
					default:
						total += binarySize(s)
					}
				}
				return total, nil
			}
		case "L":
			if list, ok := v.([]any); ok {
				if levels+1 > MaxNesting {
					return 0, &Error{ValidationException, msgNesting}
				}
				total := 3
				for _, e := range list {
					size, err := checkValue(e, levels+1)
					if err != nil {
						return 0, err
					}
					total += 1 + size
				}
				return total, nil
			}
		case "M":
			if fields, ok := v.(map[string]any); ok {
				if levels+1 > MaxNesting {
					return 0, &Error{ValidationException, msgNesting}
				}
				total := 3
				for name, e := range fields {
					size, err := checkValue(e, levels+1)
					if err != nil {
						return 0, err
					}
					total += 1 + len(name) + size
				}
				return total, nil
			}
		}
	}
	return jsonSize(av), nil
}

// numberSize is a number's size: one byte per two significant digits, plus one.
func numberSize(s string) int {
	mantissa, _, _ := strings.Cut(strings.TrimLeft(s, "+-"), "e")
	mantissa, _, _ = strings.Cut(mantissa, "E")
	digits := strings.Trim(strings.Replace(mantissa, ".", "", 1), "0")
	return (len(digits)+1)/2 + 1
}

// binarySize is the raw length of a base64 value (its text length when it is not base64).
func binarySize(s string) int {
	if n, err := base64.StdEncoding.DecodeString(s); err == nil {
		return len(n)
	}
	return len(s)
}

// jsonSize is the size of a value that is not a well-formed attribute value: its strings'
// bytes, so that no size limit is evaded by a malformed value.
func jsonSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case json.Number:
		return len(v)
	case []any:
		n := 0
		for _, e := range v {
			n += 1 + jsonSize(e)
		}
		return n
	case map[string]any:
		n := 0
		for k, e := range v {
			n += 1 + len(k) + jsonSize(e)
		}
		return n
	}
	return 1
}
