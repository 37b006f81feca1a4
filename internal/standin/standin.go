// Package standin holds what the local stand-ins for AWS services share: the fake account,
// and credentials that name the IAM role (and instance) they were issued for, so that a proxy
// in front of a DynamoDB API server can tell roles apart without any shared state.
//
// The sub-packages are the stand-ins themselves: dynalite (a real DynamoDB API server run from
// the repository's node_modules), ssmstub (Parameter Store), imds (EC2 instance metadata,
// IMDSv2) and ddbauth (an authorizing proxy in front of dynalite).
package standin

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// AccountID is the AWS account the stand-ins pretend to run in.
const AccountID = "123456789012"

// accessKeyPrefix is the prefix AWS gives temporary (STS) access keys.
const accessKeyPrefix = "ASIA"

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// AccessKeyID returns the access key id the stand-ins issue for role. It is deterministic and
// reversible (see RoleOf), so any process can tell which role signed a request.
func AccessKeyID(role string) string {
	return accessKeyPrefix + keyEncoding.EncodeToString([]byte(role))
}

// RoleOf returns the role an access key id from AccessKeyID was issued for.
func RoleOf(accessKeyID string) (string, bool) {
	rest, ok := strings.CutPrefix(accessKeyID, accessKeyPrefix)
	if !ok || rest == "" {
		return "", false
	}
	b, err := keyEncoding.DecodeString(rest)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// SecretAccessKey returns the secret key paired with AccessKeyID(role). Nothing verifies it;
// it only has to look like one.
func SecretAccessKey(role string) string {
	sum := sha256.Sum256([]byte("secret/" + role))
	return hex.EncodeToString(sum[:20])
}

// sessionTokenPrefix marks session tokens issued by the stand-ins.
const sessionTokenPrefix = "STANDIN"

// SessionToken returns the session token issued to session (the instance id, as on EC2) for
// role. It carries the session name so that an AccessDenied message can name the instance.
func SessionToken(role, session string) string {
	return sessionTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(role+"/"+session))
}

// SessionOf returns the role and session name a SessionToken carries.
func SessionOf(token string) (role, session string, ok bool) {
	rest, found := strings.CutPrefix(token, sessionTokenPrefix)
	if !found {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", "", false
	}
	role, session, ok = strings.Cut(string(b), "/")
	return role, session, ok
}
