package httpsink

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// AuthConfig is the credentials of a sink; at most one kind is given.
type AuthConfig struct {
	Username     string // basic auth user
	Password     string // basic auth password, or
	PasswordFile string // a file holding it

	BearerToken     string // Authorization: Bearer, or
	BearerTokenFile string // a file holding it

	APIKey     string // Authorization: ApiKey (Elasticsearch), or
	APIKeyFile string // a file holding it
}

// Auth sets the Authorization header: basic, bearer or API key, never two.
type Auth struct {
	user     string
	Password *Secret
	Token    *Secret
	APIKey   *Secret
}

// NewAuth checks c; secret files must be readable now.
func NewAuth(sink string, c AuthConfig, log *slog.Logger) (*Auth, error) {
	pw, err := NewSecret(sink, c.Password, c.PasswordFile, "password", log)
	if err != nil {
		return nil, err
	}
	tok, err := NewSecret(sink, c.BearerToken, c.BearerTokenFile, "bearer token", log)
	if err != nil {
		return nil, err
	}
	key, err := NewSecret(sink, c.APIKey, c.APIKeyFile, "api key", log)
	if err != nil {
		return nil, err
	}
	kinds := 0
	for _, set := range []bool{c.Username != "", tok.Set(), key.Set()} {
		if set {
			kinds++
		}
	}
	switch {
	case pw.Set() && c.Username == "":
		return nil, fmt.Errorf("%s password: set without a username", sink)
	case kinds > 1:
		return nil, errors.New(sink + " auth: give only one kind of credentials (basic auth, a bearer token or an api key), not both")
	}
	return &Auth{user: c.Username, Password: pw, Token: tok, APIKey: key}, nil
}

// Apply sets r's Authorization header from the current secrets.
func (a *Auth) Apply(r *http.Request) {
	if v := a.Value(); v != "" {
		r.Header.Set("Authorization", v)
	}
}

// Value is the Authorization header from the current secrets; "" when the
// sink has no credentials.
func (a *Auth) Value() string {
	switch {
	case a.user != "":
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.Password.Get()))
	case a.Token.Set():
		return "Bearer " + a.Token.Get()
	case a.APIKey.Set():
		return "ApiKey " + a.APIKey.Get()
	}
	return ""
}
