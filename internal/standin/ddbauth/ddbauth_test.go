package ddbauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/ddbcheck"
	"healthchecklab/internal/standin/dynalite"
)

var ddbURL string

func TestMain(m *testing.M) {
	srv, err := dynalite.Start(context.Background(), dynalite.Options{Stderr: os.Stderr})
	if err != nil {
		println("dynalite:", err.Error(), "(run `npm ci` first)")
		os.Exit(1)
	}
	ddbURL = srv.URL
	if err := dynalite.SetupLabTable(context.Background(), srv.URL, dynalite.DefaultTableName); err != nil {
		srv.Close()
		println(err.Error())
		os.Exit(1)
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

func getItem(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
			lab.SortKey:      &types.AttributeValueMemberN{Value: "1"},
		},
	})
	return err
}

// TestDeniesNoDDBRole signs real SDK requests as each lab role and checks who gets through.
func TestDeniesNoDDBRole(t *testing.T) {
	normal, noDDB := lab.RoleName("WebApp1"), lab.NoDDBRoleName("WebApp1")
	p, err := New(ddbURL, DenyRoles(noDDB))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(p)
	defer ts.Close()
	ctx := context.Background()

	tests := []struct {
		role      string
		table     string
		wantCode  string
		wantInMsg string
	}{
		{normal, dynalite.DefaultTableName, "", ""},
		{normal, lab.DecoyTableName, "ResourceNotFoundException", ""},
		{noDDB, dynalite.DefaultTableName, "AccessDeniedException",
			"assumed-role/" + noDDB + "/session is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-3:123456789012:table/" + dynalite.DefaultTableName},
	}
	for _, tt := range tests {
		t.Run(tt.role+"/"+tt.table, func(t *testing.T) {
			err := getItem(ctx, dynalite.NewClient(ts.URL, "eu-west-3", tt.role), tt.table)
			var apiErr smithy.APIError
			switch {
			case tt.wantCode == "":
				if err != nil {
					t.Fatalf("GetItem: %v", err)
				}
			case !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode:
				t.Fatalf("err = %v, want %s", err, tt.wantCode)
			case !strings.Contains(apiErr.ErrorMessage(), tt.wantInMsg):
				t.Errorf("message %q lacks %q", apiErr.ErrorMessage(), tt.wantInMsg)
			}
		})
	}
	if p.Denied() != 1 || p.Calls("GetItem") != 3 {
		t.Errorf("Denied = %d, GetItem calls = %d; want 1, 3", p.Denied(), p.Calls("GetItem"))
	}

	p.SetDeny(nil)
	if err := getItem(ctx, dynalite.NewClient(ts.URL, "eu-west-3", noDDB), dynalite.DefaultTableName); err != nil {
		t.Errorf("after SetDeny(nil): %v", err)
	}
}

func TestHang(t *testing.T) {
	p, _ := New(ddbURL, nil)
	ts := httptest.NewServer(p)
	defer ts.Close()
	p.SetHang(true)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c := dynalite.NewClient(ts.URL, "us-east-1", "r")
	if err := getItem(ctx, c, dynalite.DefaultTableName); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging GetItem err = %v, want deadline exceeded", err)
	}
	p.SetHang(false)
	if err := getItem(context.Background(), c, dynalite.DefaultTableName); err != nil {
		t.Errorf("after SetHang(false): %v", err)
	}
}

func TestNewRejectsBadTarget(t *testing.T) {
	if _, err := New("localhost:1234", nil); err == nil {
		t.Error("accepted a target without scheme")
	}
}

// TestTargetHeader checks that the proxy adds its target header (dynalite's token) to what it
// forwards, and nothing reaches a token-guarded dynalite without it.
func TestTargetHeader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	guarded, err := dynalite.Start(ctx, dynalite.Options{Stderr: os.Stderr, Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	defer guarded.Close()
	if err := guarded.SetupLabTable(ctx, dynalite.DefaultTableName); err != nil {
		t.Fatal(err)
	}
	for _, withHeader := range []bool{true, false} {
		p, err := New(guarded.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if withHeader {
			p.SetTargetHeader(dynalite.TokenHeader, "t0ken")
		}
		ts := httptest.NewServer(p)
		err = getItem(ctx, dynalite.NewClient(ts.URL, "local-1", lab.RoleName("WebApp1")), dynalite.DefaultTableName)
		ts.Close()
		if withHeader && err != nil {
			t.Errorf("with the token: %v", err)
		}
		if !withHeader && err == nil {
			t.Error("without the token: the GetItem went through")
		}
	}
}

// nestedKey is a GetItem key whose partition key value is a list nested levels deep.
func nestedKey(levels int) map[string]types.AttributeValue {
	var av types.AttributeValue = &types.AttributeValueMemberS{Value: "x"}
	for range levels {
		av = &types.AttributeValueMemberL{Value: []types.AttributeValue{av}}
	}
	return map[string]types.AttributeValue{
		lab.PartitionKey: av,
		lab.SortKey:      &types.AttributeValueMemberN{Value: "1"},
	}
}

// TestRefusesHostileRequests sends, signed through the proxy, the request that crashed the
// lab's DynamoDB (a GetItem of about 16 KB whose key holds a list nested 2,000 deep) and
// others DynamoDB refuses for their shape: each gets DynamoDB's 400 error as the SDK reads it,
// and dynalite (one of this test's own) still answers a normal GetItem afterwards.
func TestRefusesHostileRequests(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ddb, err := dynalite.Start(ctx, dynalite.Options{Stderr: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Close()
	if err := ddb.SetupLabTable(ctx, dynalite.DefaultTableName); err != nil {
		t.Fatal(err)
	}
	p, err := New(ddb.URL, DenyRoles(lab.NoDDBRoleName("WebApp1")))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(p)
	defer ts.Close()
	c := dynalite.NewClient(ts.URL, "local-1", lab.RoleName("WebApp1"))

	tests := []struct {
		name     string
		key      map[string]types.AttributeValue
		wantCode string
	}{
		{"a key nested 2,000 deep", nestedKey(2000), "ValidationException"},
		{"a key nested 33 deep", nestedKey(33), "ValidationException"},
		{"a partition key of 2049 bytes", map[string]types.AttributeValue{
			lab.PartitionKey: &types.AttributeValueMemberS{Value: strings.Repeat("a", 2049)},
			lab.SortKey:      &types.AttributeValueMemberN{Value: "1"},
		}, "ValidationException"},
	}
	for _, tt := range tests {
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(dynalite.DefaultTableName), Key: tt.key})
		var apiErr smithy.APIError
		var httpErr *awshttp.ResponseError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode || !errors.As(err, &httpErr) || httpErr.HTTPStatusCode() != 400 {
			t.Errorf("%s: %v; want HTTP 400 %s", tt.name, err, tt.wantCode)
		}
		if err := getItem(ctx, c, dynalite.DefaultTableName); err != nil {
			t.Fatalf("after %s: a normal GetItem fails: %v", tt.name, err)
		}
	}

	// At the limit, requests pass to dynalite, which stores and answers them.
	refused := p.Refused()
	var deep types.AttributeValue = &types.AttributeValueMemberS{Value: "x"}
	for range ddbcheck.MaxNesting {
		deep = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"m": deep}}
	}
	item := map[string]types.AttributeValue{
		lab.PartitionKey: &types.AttributeValueMemberS{Value: strings.Repeat("p", ddbcheck.MaxPartitionKeyBytes)},
		lab.SortKey:      &types.AttributeValueMemberN{Value: "7"},
		"deep":           deep,
	}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(dynalite.DefaultTableName), Item: item}); err != nil {
		t.Errorf("PutItem of an item nested %d deep with a %d-byte partition key: %v", ddbcheck.MaxNesting, ddbcheck.MaxPartitionKeyBytes, err)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(dynalite.DefaultTableName), Key: map[string]types.AttributeValue{
		lab.PartitionKey: item[lab.PartitionKey], lab.SortKey: item[lab.SortKey],
	}})
	if err != nil || out.Item["deep"] == nil {
		t.Errorf("GetItem of that item: %v, %v", err, out)
	}
	if n := p.Refused() - refused; n != 0 {
		t.Errorf("%d requests at the limits refused, want none", n)
	}

	// A body that is not JSON, sent as it arrives from any local process.
	resp, err := http.Post(ts.URL, "application/x-amz-json-1.0", strings.NewReader(`{"TableName":`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"__type":"com.amazon.coral.service#SerializationException"`) {
		t.Errorf("a body that is not JSON: %d %s; want 400 SerializationException", resp.StatusCode, b)
	}
	if n := p.Refused(); n != int64(len(tests))+1 {
		t.Errorf("Refused() = %d, want %d", n, len(tests)+1)
	}
	if err := getItem(ctx, c, dynalite.DefaultTableName); err != nil {
		t.Errorf("after all: a normal GetItem fails: %v", err)
	}
}
