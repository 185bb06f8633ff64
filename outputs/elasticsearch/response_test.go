package elasticsearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/outputs"
)

// Bodies as servers send them: Elasticsearch's (the bulk API reference's
// failed-actions example, trimmed of _shards), VictoriaLogs' (its
// bulk_response.qtpl: items with only a status, and a bare-string reason
// for refused ones), and ones that are not bulk responses.
var bulkSeeds = []string{
	`{"took":486,"errors":true,"items":[{"update":{"_index":"index1","_id":"5","status":404,"error":{"type":"document_missing_exception","reason":"[5]: document missing","index_uuid":"aAsFqTI0Tc2W0LCWgPNrOA","shard":"0","index":"index1"}}},{"create":{"_index":"index1","_id":"7","_version":1,"result":"created","_seq_no":0,"_primary_term":1,"status":201}}]}`,
	`{"took":3,"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}`,
	`{"took":3,"errors":true,"items":[{"create":{"status":201}},{"create":{"status":413,"error":{"reason":"too big"}}}]}`,
	`{"items":[{"create":{"status":201,"error":"bare reason"}}],"errors":true}`,
	`{"errors":false}`,
	`<html><body>Please log in</body></html>`,
	``,
	`{"errors":true,"items":[{"create":{"status":201}}`,
	`{"errors":true,"items":[{"create":{"status":0}}]}`,
	`{"errors":true,"items":[{}]}`,
}

// The parser returns each item's status and error, stops at "errors":
// false, and calls anything else a bad response.
func TestParseBulk(t *testing.T) {
	items, err := parseBulk(strings.NewReader(bulkSeeds[0]))
	if err != nil || len(items) != 2 || items[0].Status != 404 || items[0].Error.Type != "document_missing_exception" ||
		items[0].Error.Reason != "[5]: document missing" || items[1].Status != 201 || items[1].Error != (itemError{}) {
		t.Errorf("Elasticsearch body: %+v, %v", items, err)
	}
	if items, err := parseBulk(strings.NewReader(bulkSeeds[1])); err != nil || items != nil {
		t.Errorf("errors false: %+v, %v; want no items to look at", items, err)
	}
	if items, err := parseBulk(strings.NewReader(bulkSeeds[3])); err != nil || len(items) != 1 || items[0].Error.Reason != "bare reason" {
		t.Errorf("bare reason: %+v, %v", items, err)
	}
	for _, b := range bulkSeeds[5:] {
		if items, err := parseBulk(strings.NewReader(b)); !errors.Is(err, errBadResponse) {
			t.Errorf("%q: %+v, %v; want a bad response", b, items, err)
		}
	}
}

// Whatever the body, the parser does not panic, and what it returns agrees
// with encoding/json reading the whole body: the same items with the same
// statuses, or "errors" false.
func FuzzParseBulk(f *testing.F) {
	for _, s := range bulkSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := parseBulk(bytes.NewReader(body))
		if err != nil {
			if !errors.Is(err, errBadResponse) {
				t.Fatalf("error %v does not wrap errBadResponse", err)
			}
			return
		}
		for _, it := range items {
			if it.Status < 100 || it.Status > 599 {
				t.Fatalf("status %d accepted", it.Status)
			}
		}
		// Only whole, unambiguous bodies can be compared: one top-level
		// object with one "errors" and one "items".
		if !json.Valid(body) || bytes.Count(body, []byte(`"items"`)) != 1 || bytes.Count(body, []byte(`"errors"`)) != 1 {
			return
		}
		var ref struct {
			Errors *bool                             `json:"errors"`
			Items  []map[string]struct{ Status int } `json:"items"`
		}
		if json.Unmarshal(body, &ref) != nil {
			return
		}
		if items == nil {
			if ref.Errors == nil || *ref.Errors {
				t.Fatalf("no items returned, but errors is %v", ref.Errors)
			}
			return
		}
		if len(ref.Items) != len(items) {
			t.Fatalf("%d items, encoding/json reads %d", len(items), len(ref.Items))
		}
		for i, m := range ref.Items {
			for _, v := range m {
				if v.Status != items[i].Status {
					t.Fatalf("item %d: status %d, encoding/json reads %d", i, items[i].Status, v.Status)
				}
			}
		}
	})
}

// How items map onto outcomes beyond what the fake server exercises:
// VictoriaLogs' 413 item without a type, a 409 when the sink sets no ids
// (not a replay then, so not a duplicate), and a body with fewer items than
// were sent.
func TestItemOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       Config
		body    string
		outcome outputs.Outcome
		reason  string
	}{
		{"VictoriaLogs 413", Config{}, `{"took":1,"errors":true,"items":[{"create":{"status":201}},{"create":{"status":413,"error":{"reason":"entry too big"}}}]}`,
			outputs.Partial, "too_large"},
		{"409 without ids", Config{ID: "none"}, `{"errors":true,"items":[{"create":{"status":201}},{"create":{"_id":"x","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[x]: version conflict, document already exists (current version [1])"}}}]}`,
			outputs.Partial, "version_conflict_engine_exception"},
		{"too few items", Config{}, `{"errors":true,"items":[{"create":{"status":201}}]}`, outputs.Retryable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.URL = "http://127.0.0.1:1"
			s := newSink(t, tc.c)
			req := s.Encode(fileRecords(6, "i0", "i1"))
			defer req.Release()
			res := s.items(req, strings.NewReader(tc.body))
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %d, want %d: %+v", res.Outcome, tc.outcome, res)
			}
			if tc.reason == "" {
				return
			}
			if len(res.Rejected) != 1 || res.Rejected[0].Reason != tc.reason || res.Rejected[0].Req.Records() != 1 || res.Accepted != 1 || res.Retry != nil {
				t.Errorf("result %+v, want 1 accepted and 1 rejected as %s", res, tc.reason)
			}
			res.Rejected[0].Req.Release()
		})
	}
}
