package dynalite

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"healthchecklab/internal/lab"
)

// TestStartSeedClose is the whole life of a stand-in DynamoDB: start, create and seed the lab
// table, read every seed row back, see the decoy table fail for real, and stop without orphans.
func TestStartSeedClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := Start(ctx, Options{Stderr: os.Stderr})
	if err != nil {
		t.Fatalf("Start: %v (CI runs `npm ci` first; so must you)", err)
	}
	pid := srv.Pid()

	if err := SetupLabTable(ctx, srv.URL, DefaultTableName); err != nil {
		t.Fatal(err)
	}
	c := NewClient(srv.URL, "us-east-1", "any")
	for _, want := range lab.Seed().Items {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(DefaultTableName),
			Key: map[string]types.AttributeValue{
				lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
				lab.SortKey:      &types.AttributeValueMemberN{Value: strconv.Itoa(want.UserID)},
			},
		})
		if err != nil {
			t.Fatalf("GetItem %d: %v", want.UserID, err)
		}
		got := out.Item[lab.UserNameAttribute].(*types.AttributeValueMemberS).Value + "/" +
			out.Item[lab.ResultAttribute].(*types.AttributeValueMemberS).Value
		if got != want.UserName+"/"+want.Result {
			t.Errorf("user %d = %q, want %q", want.UserID, got, want.UserName+"/"+want.Result)
		}
	}

	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(lab.DecoyTableName),
		Key: map[string]types.AttributeValue{
			lab.PartitionKey: &types.AttributeValueMemberS{Value: lab.ServiceAPI},
			lab.SortKey:      &types.AttributeValueMemberN{Value: "1"},
		},
	})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("GetItem on the decoy table: err = %v, want ResourceNotFoundException", err)
	}

	if err := CreateLabTable(ctx, c, DefaultTableName); err == nil {
		t.Error("creating the table twice succeeded")
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	assertGroupGone(t, pid)
}

// TestToken checks that a dynalite started with a token refuses requests without it, and
// that the server's own set-up carries it.
func TestToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := Start(ctx, Options{Stderr: os.Stderr, Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.SetupLabTable(ctx, DefaultTableName); err != nil {
		t.Fatalf("set-up with the token: %v", err)
	}
	_, err = NewClient(srv.URL, "us-east-1", "any").ListTables(ctx, &dynamodb.ListTablesInput{})
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
		t.Errorf("without the token: %v, want 403", err)
	}
	// With the token the request reaches dynalite (which judges it); without, 403 at the door.
	for header, refused := range map[string]bool{"s3cret": false, "guess": true, "": true} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
		req.Header.Set(TokenHeader, header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if (resp.StatusCode == http.StatusForbidden) != refused {
			t.Errorf("token %q: status %d, refused at the door: want %v", header, resp.StatusCode, refused)
		}
	}
}
