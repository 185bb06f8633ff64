package sinkconfig

import (
	"log/slog"
	"testing"

	"github.com/sluicelog/sluice/config"
)

// Credentials and TLS reach both sinks; an index turns the data stream
// defaults off.
func TestMapping(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	l := config.DefaultLoki()
	l.BasicAuth = &config.BasicAuth{Username: "u", PasswordFile: "/p"}
	l.TLS.CAFile = "/ca"
	lc := Loki(&l, log)
	if lc.Username != "u" || lc.PasswordFile != "/p" || lc.TLS.CAFile != "/ca" || len(lc.Labels) != 3 || lc.Logger != log {
		t.Errorf("loki: %+v", lc)
	}
	e := config.DefaultElasticsearch()
	ec := Elasticsearch(&e, log)
	if ec.DataStreamType != "logs" || ec.DataStreamNamespace != "%{namespace}" {
		t.Errorf("elasticsearch without index: %+v", ec)
	}
	e.Index, e.BasicAuth = "k8s-%Y", &config.BasicAuth{Username: "u", Password: "p"}
	ec = Elasticsearch(&e, log)
	if ec.DataStreamType != "" || ec.Index != "k8s-%Y" || ec.Auth.Username != "u" || ec.Auth.Password != "p" {
		t.Errorf("elasticsearch with index: %+v", ec)
	}
}
