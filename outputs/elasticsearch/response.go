package elasticsearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxResponseBody bounds how much of a bulk response is read: about 200
// bytes an item in Elasticsearch's answer, so ample for any batch the
// runner builds, and never held whole (the items are read one by one).
const maxResponseBody = 64 << 20

// itemResult is what a bulk response says about one item.
type itemResult struct {
	Status int       `json:"status"`
	Error  itemError `json:"error"`
}

// itemError is an item's "error": an object with a type and a reason in
// Elasticsearch and OpenSearch, a bare reason in some compatible servers.
type itemError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// UnmarshalJSON reads either form, and ignores the fields not needed
// (caused_by, index_uuid, shard, ...).
func (e *itemError) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.Reason)
	}
	type plain itemError
	return json.Unmarshal(b, (*plain)(e))
}

// errBadResponse marks a 2xx answer that is not a bulk response.
var errBadResponse = errors.New("not a bulk response")

// parseBulk reads a bulk response from r. When its "errors" is false,
// every item was taken and items is nil: the rest of the body is not read.
// Otherwise items holds each item's result, in request order. A body that is
// not JSON, is cut short or holds no "errors" flag and no items is an error
// wrapping errBadResponse.
func parseBulk(r io.Reader) (items []itemResult, err error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	sawErrors, sawItems := false, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		switch tok {
		case "errors":
			var flag bool
			if err := dec.Decode(&flag); err != nil {
				return nil, bad(err)
			}
			if !flag && !sawItems {
				return nil, nil
			}
			sawErrors = true
		case "items":
			if items, err = readItems(dec); err != nil {
				return nil, err
			}
			sawItems = true
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, bad(err)
			}
		}
	}
	if !sawErrors && !sawItems {
		return nil, fmt.Errorf("%w: neither errors nor items", errBadResponse)
	}
	if !sawItems {
		return nil, fmt.Errorf("%w: errors is true but there are no items", errBadResponse)
	}
	return items, nil
}

// readItems reads the items array: each item an object with one key, the
// action ("create", "index", ...), whose value is the result.
func readItems(dec *json.Decoder) ([]itemResult, error) {
	if err := expectDelim(dec, '['); err != nil {
		return nil, err
	}
	items := []itemResult{} // not nil: nil means "errors" was false
	for dec.More() {
		if err := expectDelim(dec, '{'); err != nil {
			return nil, err
		}
		var it itemResult
		n := 0
		for dec.More() {
			if _, err := dec.Token(); err != nil { // the action
				return nil, bad(err)
			}
			if err := dec.Decode(&it); err != nil {
				return nil, bad(err)
			}
			n++
		}
		if err := expectDelim(dec, '}'); err != nil {
			return nil, err
		}
		if n != 1 || it.Status < 100 || it.Status > 599 {
			return nil, fmt.Errorf("%w: item %d has %d actions and status %d", errBadResponse, len(items), n, it.Status)
		}
		items = append(items, it)
	}
	return items, expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return bad(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%w: want %v, found %v", errBadResponse, want, tok)
	}
	return nil
}

func bad(err error) error { return fmt.Errorf("%w: %w", errBadResponse, err) }

// errorType returns the "error.type" of an error answer such as
// {"error":{"type":"illegal_argument_exception",...},"status":400}; "" when
// there is none.
func errorType(body []byte) string {
	var v struct {
		Error itemError `json:"error"`
	}
	if json.Unmarshal(bytes.TrimSpace(body), &v) != nil {
		return ""
	}
	return v.Error.Type
}
