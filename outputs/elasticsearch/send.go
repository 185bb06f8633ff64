package elasticsearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/sluicelog/sluice/outputs"
)

// maxErrorBody bounds how much of an error answer is read for the log.
const maxErrorBody = 64 << 10

var (
	_ outputs.Sink[*Request]     = (*Sink)(nil)
	_ outputs.Splitter[*Request] = (*Sink)(nil)
	_ outputs.Request            = (*Request)(nil)
)

// Send implements outputs.Sink: one bulk request, bounded by the sink's
// timeout and by ctx. The whole request is classified with
// outputs.HTTPResult (429 and 5xx retried, 413 split, 3xx, 401, 403 and 404
// held by the runner); a 2xx answer is read item by item (see items).
func (s *Sink) Send(ctx context.Context, req *Request) outputs.Result {
	if len(req.ends) == 0 {
		return outputs.Result{Outcome: outputs.Accepted, Status: "empty"}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	h := make(http.Header, len(s.http.Headers)+3)
	for k, v := range s.http.Headers {
		h[k] = v
	}
	h.Set("Content-Type", "application/x-ndjson")
	if s.gzip {
		h.Set("Content-Encoding", "gzip")
	}
	if v := s.http.Auth.Value(); v != "" {
		h.Set("Authorization", v)
	}
	br := esapi.BulkRequest{Body: bytes.NewReader(s.compress(req)), Header: h, Pipeline: s.pipeline}
	resp, err := br.Do(ctx, s.tp)
	if err != nil {
		return outputs.HTTPResult(nil, fmt.Errorf("bulk to %s: %w", s.shown, outputs.RedactError(err)), time.Now())
	}
	defer resp.Body.Close()
	res := outputs.HTTPResult(&http.Response{StatusCode: resp.StatusCode, Header: resp.Header}, nil, time.Now())
	if res.Outcome != outputs.Accepted {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		res.Err = outputs.ErrStatus("bulk to "+s.shown, resp.StatusCode, bytes.TrimSpace(body))
		if t := errorType(body); res.Outcome == outputs.Permanent && t != "" {
			res.Reason = t
		}
		return res
	}
	res = s.items(req, resp.Body)
	// Drained, the connection is reused; a response cut short is not.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	return res
}

// items classifies a 2xx bulk answer item by item: 2xx taken; 409 on create
// (when the sink sets ids) taken as a duplicate, the document being there
// already; 429 and 5xx to send again; any other status refused for good,
// by error type. A 2xx answer that cannot be read as a bulk response (a
// proxy's page, a body cut short) is retryable: it is not the records'
// fault, and with document ids a resend cannot store a record twice.
func (s *Sink) items(req *Request, body io.Reader) outputs.Result {
	items, err := parseBulk(io.LimitReader(body, maxResponseBody))
	if err == nil && items != nil && len(items) != len(req.ends) {
		err = fmt.Errorf("%w: %d items for %d sent", errBadResponse, len(items), len(req.ends))
	}
	if err != nil {
		return outputs.Result{Outcome: outputs.Retryable, Status: "bad_response", Err: fmt.Errorf("bulk to %s: %w", s.shown, err)}
	}
	if items == nil {
		return outputs.Result{Outcome: outputs.Accepted, Status: "200"}
	}
	res := outputs.Result{Outcome: outputs.Partial}
	var retry *Request
	var firstRetry *itemResult
	var rejected []outputs.Rejection
	byReason := map[string]int{} // reason → index in rejected
	for i := range items {
		it := &items[i]
		switch st := it.Status; {
		case st >= 200 && st < 300, st == http.StatusConflict && s.ids:
			res.Accepted++
			res.AcceptedBytes += req.sizes[i]
			if st == http.StatusConflict {
				res.Duplicates++
			}
		case st == http.StatusTooManyRequests || st >= 500:
			if retry == nil {
				retry, firstRetry = s.newRequest(), it
			}
			retry.addItem(req, i, "")
		default:
			reason := it.Error.Type
			switch {
			case reason != "":
			case st == http.StatusRequestEntityTooLarge:
				reason = "too_large" // VictoriaLogs' answer for an entry past its limit
			default:
				reason = "status_" + strconv.Itoa(st)
			}
			j, ok := byReason[reason]
			if !ok {
				j = len(rejected)
				byReason[reason] = j
				rejected = append(rejected, outputs.Rejection{Req: s.newRequest(), Status: strconv.Itoa(st), Reason: reason,
					Err: fmt.Errorf("bulk to %s: item refused with %d %s: %s", s.shown, st, reason, it.Error.Reason)})
			}
			rejected[j].Req.(*Request).addItem(req, i, reason+": "+it.Error.Reason)
		}
	}
	switch {
	case retry == nil && rejected == nil:
		return outputs.Result{Outcome: outputs.Accepted, Status: "200", Duplicates: res.Duplicates}
	case res.Accepted == 0 && rejected == nil:
		// Nothing got a final outcome: the whole request is retried, as
		// after a 429, and no remainder is needed.
		retry.Release()
		return outputs.Result{Outcome: outputs.Retryable, Status: strconv.Itoa(firstRetry.Status),
			Err: itemsErr(s.shown, firstRetry, len(items))}
	}
	if retry != nil {
		res.Retry = retry
		res.Status = strconv.Itoa(firstRetry.Status)
		res.Err = itemsErr(s.shown, firstRetry, retry.Records())
	} else {
		res.Status = rejected[0].Status
	}
	res.Rejected = rejected
	return res
}

func itemsErr(shown string, first *itemResult, n int) error {
	return errors.New("bulk to " + shown + ": " + strconv.Itoa(n) + " items to send again, the first with " +
		strconv.Itoa(first.Status) + " " + first.Error.Type + ": " + first.Error.Reason)
}
