package loki

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicelog/sluice/outputs"
)

// Send implements outputs.Sink: one POST, bounded by the sink's timeout and
// by ctx, classified with outputs.HTTPResult and Loki's error texts. When the
// server refuses structured metadata, Send switches the sink to its
// fallback, re-encodes req and posts it once more.
func (s *Sink) Send(ctx context.Context, req *Request) outputs.Result {
	if req.records == 0 {
		return outputs.Result{Outcome: outputs.Accepted, Status: "empty"}
	}
	res, refused := s.post(ctx, req)
	if refused && s.foldMetadata(req) {
		res, _ = s.post(ctx, req)
	}
	return res
}

// post makes one attempt; refused tells whether the server refused
// structured metadata.
func (s *Sink) post(ctx context.Context, req *Request) (res outputs.Result, refused bool) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(req.body))
	if err != nil {
		// The URL was checked by New; nothing else here can fail.
		return outputs.Result{Outcome: outputs.Permanent, Status: "request", Reason: "bad_request", Err: outputs.RedactError(err)}, false
	}
	s.setHeaders(hr)
	resp, err := s.http.HTTP.Do(hr)
	if err != nil {
		return outputs.HTTPResult(nil, outputs.RedactError(err), time.Now()), false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	res = outputs.HTTPResult(resp, nil, time.Now())
	if res.Outcome == outputs.Accepted {
		return res, false
	}
	res.Err = outputs.ErrStatus("push to "+s.shown, resp.StatusCode, bytes.TrimSpace(body))
	if res.Outcome == outputs.Permanent {
		res.Reason = reason(resp.StatusCode, body)
	}
	return res, refusesMetadata(resp.StatusCode, body)
}

func (s *Sink) setHeaders(hr *http.Request) {
	s.http.Apply(hr)
	h := hr.Header
	if s.json {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Encoding", "gzip")
	} else {
		// Snappy protobuf goes without Content-Encoding: Loki's protocol
		// implies it, and some servers take the header for HTTP-level
		// compression.
		h.Set("Content-Type", "application/x-protobuf")
	}
	if s.tenant != "" {
		h.Set("X-Scope-OrgID", s.tenant)
	}
}

// loki400 maps fragments of Loki's (and compatible servers') error texts
// onto short reasons, so the rejected-records counter says why without a
// label value per message. The first match wins: Loki lists every refused
// entry, so the order says which reason is reported for a mixed answer.
var loki400 = []struct {
	reason string
	texts  []string
}{
	{"out_of_order", []string{"entry too far behind", "entry out of order", "out of order"}},
	{"too_old", []string{"timestamp too old", "greater_than_max_sample_age"}},
	{"too_new", []string{"timestamp too new", "too far in the future", "too_far_in_future"}},
	{"line_too_long", []string{"max entry size", "line too long", "line_too_long"}},
	{"too_many_labels", []string{"label names; limit", "max_label_names_per_series", "too many labels"}},
	{"invalid_labels", []string{"error parsing labels", "couldn't parse labels", "invalid labels", "invalid_labels"}},
	{"missing_labels", []string{"at least one label pair is required"}},
	{"duplicate_labels", []string{"duplicate label name"}},
	{"label_too_long", []string{"label name too long", "label value too long"}},
	{"structured_metadata_disallowed", []string{disallowedMetadata}},
	{"structured_metadata_too_large", []string{"structured metadata too large", "too many structured metadata"}},
	{"too_large", []string{"request body too large"}},
}

// reason refines the "status_<code>" reason of a permanent failure.
func reason(code int, body []byte) string {
	switch code {
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	}
	text := strings.ToLower(string(body))
	for _, r := range loki400 {
		for _, t := range r.texts {
			if strings.Contains(text, t) {
				return r.reason
			}
		}
	}
	return "status_" + strconv.Itoa(code)
}
