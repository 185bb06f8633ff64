package vlogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Row is one log entry as a query returns it, field name to value.
// VictoriaLogs returns every value as a string: _msg (absent for an empty
// line), _time (UTC, time.RFC3339Nano), _stream ({k="v",...}),
// _stream_id, every stream label, and every structured metadata key.
type Row map[string]string

// Msg is the log line.
func (r Row) Msg() string { return r["_msg"] }

// Time is the entry's timestamp, to the nanosecond that was pushed.
func (r Row) Time() (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, r["_time"])
	if err != nil {
		return time.Time{}, fmt.Errorf("parse _time of row: %w", err)
	}
	return t, nil
}

// Flush makes everything pushed so far visible to queries; without it
// fresh entries show up only after a few seconds.
func (s *Server) Flush(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/internal/force_flush", nil)
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("flush: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// Query flushes, runs a LogsQL query over all time for tenant and returns
// every matching row, however many: no limit is sent. Rows come in no
// promised order; add "| sort by (_time)" to the query for one. Tenant ""
// is the default tenant 0:0; otherwise "AccountID" or
// "AccountID:ProjectID", as in the X-Scope-OrgID header of the push.
func (s *Server) Query(ctx context.Context, logsql, tenant string) ([]Row, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	var rows []Row
	err := s.query(ctx, logsql, tenant, func(r Row) error {
		rows = append(rows, r)
		return nil
	})
	return rows, err
}

// Each is Query for answers too large to hold: it flushes, runs the query
// and calls fn with each row as it is decoded. An error from fn ends the
// query and is returned as it is.
func (s *Server) Each(ctx context.Context, logsql, tenant string, fn func(Row) error) error {
	if err := s.Flush(ctx); err != nil {
		return err
	}
	return s.query(ctx, logsql, tenant, fn)
}

// Count flushes and returns how many entries of tenant match logsql, which
// must be a query that a stats pipe can follow.
func (s *Server) Count(ctx context.Context, logsql, tenant string) (int, error) {
	if err := s.Flush(ctx); err != nil {
		return 0, err
	}
	n := -1
	err := s.query(ctx, logsql+" | stats count() n", tenant, func(r Row) error {
		v, err := strconv.Atoi(r["n"])
		if err != nil {
			return fmt.Errorf("count of %q: %w", logsql, err)
		}
		n = v
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("count of %q: no stats row in the answer", logsql)
	}
	return n, nil
}

// WaitCount polls Count until at least n entries match or timeout passes,
// for data that a sink delivers in the background. It returns the last
// count; errors while polling (say, during a Restart) only end the wait
// when time is up.
func (s *Server) WaitCount(ctx context.Context, logsql, tenant string, n int, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 20 * time.Millisecond
	last := 0
	for {
		got, err := s.Count(ctx, logsql, tenant)
		if err == nil {
			if got >= n {
				return got, nil
			}
			last = got
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			if err == nil {
				err = ctx.Err()
			}
			return last, fmt.Errorf("wait for %d entries matching %q (tenant %q): have %d: %w", n, logsql, tenant, last, err)
		case <-timer.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// query streams the rows of a query to each, one JSON object per line, so
// a large answer is decoded as it arrives.
func (s *Server) query(ctx context.Context, logsql, tenant string, each func(Row) error) error {
	headers, err := tenantHeaders(tenant)
	if err != nil {
		return err
	}
	form := url.Values{"query": {logsql}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/select/logsql/query",
		strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("query %q: %w", logsql, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("query %q: %w", logsql, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("query %q: %s: %s", logsql, resp.Status, strings.TrimSpace(string(body)))
	}
	dec := json.NewDecoder(resp.Body)
	for i := 1; ; i++ {
		var raw map[string]json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("query %q: decode row %d: %w", logsql, i, err)
		}
		row, err := decodeRow(raw)
		if err != nil {
			return fmt.Errorf("query %q: row %d: %w", logsql, i, err)
		}
		if err := each(row); err != nil {
			return err
		}
	}
}

// decodeRow turns the raw fields of a row into strings. The raw form keeps
// bytes that are not UTF-8 as VictoriaLogs stored them: decoding straight
// into strings would turn them into U+FFFD.
func decodeRow(raw map[string]json.RawMessage) (Row, error) {
	row := make(Row, len(raw))
	for k, v := range raw {
		s, err := unquote(v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", k, err)
		}
		row[k] = s
	}
	return row, nil
}

// tenantHeaders are the query headers that select a tenant. VictoriaLogs'
// query API ignores X-Scope-OrgID and reads AccountID and ProjectID; both
// default to 0.
func tenantHeaders(tenant string) (map[string]string, error) {
	if tenant == "" {
		return nil, nil
	}
	account, project, hasProject := strings.Cut(tenant, ":")
	h := map[string]string{}
	if _, err := strconv.ParseUint(account, 10, 32); err != nil {
		return nil, fmt.Errorf("tenant %q: account ID: %w", tenant, err)
	}
	h["AccountID"] = account
	if hasProject {
		if _, err := strconv.ParseUint(project, 10, 32); err != nil {
			return nil, fmt.Errorf("tenant %q: project ID: %w", tenant, err)
		}
		h["ProjectID"] = project
	}
	return h, nil
}
