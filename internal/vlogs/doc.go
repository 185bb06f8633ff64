// Package vlogs runs a real VictoriaLogs server for a test and reads back
// what arrived, so the Loki output is tested against a server that speaks
// the Loki push API rather than against a fake. It is test support: only
// _test.go files import it.
//
// Start finds the binary ($SLUICE_VICTORIALOGS, else bin/victoria-logs in
// $SLUICE_TEST_TOOLS or ~/.cache/sluice-test-tools, where
// scripts/install-test-tools.sh puts it, else PATH), runs it on a free
// 127.0.0.1 port with a data folder of the test's own, and stops it when the
// test ends. Without the binary the test is skipped, or fails under CI=true.
// When the test fails, the end of the server's output is logged.
//
// What VictoriaLogs v1.52.1 was seen to do, and what this package relies
// on:
//
//   - Flags: -httpListenAddr, -storageDataPath, -retentionPeriod=100y and
//     -futureRetention=1y (entries outside retention are dropped: the push
//     still answers 204, and the server logs a warning),
//     -loki.disableMessageParsing (a JSON-looking line stays one _msg rather
//     than becoming fields), -defaultMsgValue= (an empty line is stored
//     with no _msg; by default it would read "missing _msg field; see ...")
//     and -loggerLevel=WARN (the output keeps rejections and drops, not the
//     info line of every flush). SIGTERM ends it with exit status 0 within
//     milliseconds, and data pushed before it survives a restart, flushed
//     or not. It prints no version; the module version is in its build
//     info.
//   - GET /health answers 200 "OK" once the storage is open.
//   - Push: POST /insert/loki/api/v1/push answers 204. Content-Type
//     application/json selects the JSON body; any other type, or none, is
//     read as snappy-compressed protobuf. The tenant comes from the
//     X-Scope-OrgID header, "1" or "1:2" (AccountID:ProjectID), default
//     0:0; a non-numeric one is a 400. JSON timestamps must be strings of
//     Unix nanoseconds; "0" means the time of arrival. A malformed body is
//     a 400 whose text says what could not be parsed. Entries are stored
//     as sent: out of order within a stream, twice when pushed twice, with
//     invalid UTF-8 bytes, and up to VictoriaLogs' 2 MiB per entry (a
//     bigger one is dropped with a 204 and a warning in the output).
//   - GET /internal/force_flush makes pushed entries visible to queries at
//     once; otherwise they appear within seconds.
//   - Query: POST /select/logsql/query with form field query. With no
//     limit it returns every match over all time, as one JSON object per
//     line, in no promised order; limit=N returns the N newest. Tenants
//     are chosen with the AccountID and ProjectID headers (each default
//     0); X-Scope-OrgID is ignored on queries, so it reads tenant 0:0.
//   - A row holds _msg, _time in UTC to the nanosecond, formatted like
//     Go's time.RFC3339Nano (2026-11-26T03:40:15.552441969Z, with trailing
//     zeros of the fraction dropped: .12345679Z, 00:00:00Z), _stream as
//     {k="v",...} with labels sorted, _stream_id (which starts with the
//     tenant's IDs in hex), each stream label as a field of its own, and
//     each structured metadata key as a field too (it is not part of
//     _stream). Every value is a string, counts included.
//   - Stream filters such as {namespace="x"} select by label, and
//     "| stats count() n" returns a single row {"n":"123"}.
package vlogs
