package awslocal

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"sync"

	"healthchecklab/internal/awslocal/sigv4"
)

// Principal is who signed a request: the lab's user, or an instance role's session.
type Principal struct {
	// ARN as AWS names the caller in an AccessDenied message.
	ARN string
	// Role is the role of a session; empty for the user.
	Role string
	// Session is the role session name (the instance id, as on EC2).
	Session string
}

// Keys issues the key pairs of one lab and finds the principal behind an access key id. Every
// lab makes new ones at start, so a key pair from another lab run is unknown here.
type Keys struct {
	accountID string

	mu       sync.RWMutex
	byID     map[string]issued
	sessions map[string]sigv4.Credentials // role + "/" + session
}

type issued struct {
	creds sigv4.Credentials
	who   Principal
}

// NewKeys returns an empty key store for accountID.
func NewKeys(accountID string) *Keys {
	return &Keys{accountID: accountID, byID: map[string]issued{}, sessions: map[string]sigv4.Credentials{}}
}

// NewUser issues a long-term key pair (AKIA…) for the IAM user name.
func (k *Keys) NewUser(name string) sigv4.Credentials {
	c := sigv4.Credentials{AccessKeyID: "AKIA" + randomKeyID(), SecretAccessKey: randomSecret()}
	k.add(c, Principal{ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", k.accountID, name)})
	return c
}

// ForRole returns the temporary credentials (ASIA…, with a session token) of role's session,
// issuing them on first use: what an instance's metadata service hands out for its role.
func (k *Keys) ForRole(role, session string) sigv4.Credentials {
	key := role + "/" + session
	k.mu.RLock()
	c, ok := k.sessions[key]
	k.mu.RUnlock()
	if ok {
		return c
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.sessions[key]; ok {
		return c
	}
	c = sigv4.Credentials{AccessKeyID: "ASIA" + randomKeyID(), SecretAccessKey: randomSecret(), SessionToken: randomToken()}
	k.sessions[key] = c
	k.byID[c.AccessKeyID] = issued{c, Principal{
		ARN:  fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", k.accountID, role, session),
		Role: role, Session: session,
	}}
	return c
}

func (k *Keys) add(c sigv4.Credentials, who Principal) {
	k.mu.Lock()
	k.byID[c.AccessKeyID] = issued{c, who}
	k.mu.Unlock()
}

// Lookup returns the key pair of an access key id this store issued.
func (k *Keys) Lookup(accessKeyID string) (sigv4.Credentials, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	i, ok := k.byID[accessKeyID]
	return i.creds, ok
}

// Principal returns who an access key id was issued to.
func (k *Keys) Principal(accessKeyID string) (Principal, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	i, ok := k.byID[accessKeyID]
	return i.who, ok
}

var keyIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomKeyID returns 16 characters of [A-Z2-7], as in AWS access key ids.
func randomKeyID() string { return keyIDEncoding.EncodeToString(random(10)) }

// randomSecret returns 40 characters, like an AWS secret access key.
func randomSecret() string { return base64.StdEncoding.EncodeToString(random(30)) }

func randomToken() string { return base64.StdEncoding.EncodeToString(random(96)) }

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
