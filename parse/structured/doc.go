// Package structured turns a log line that carries its own structure into
// a record's fields: a JSON object written by the application ("json"), or
// the JSON that Microsoft's LogMonitor writes for Windows containers
// ("logmonitor": Event Log, ETW and log-file entries).
//
// The caller picks a Format per file and calls Apply on each record:
//
//	p, err := structured.New(structured.Options{Time: true})
//	...
//	switch p.Apply(&rec, structured.JSON) { // count the outcome
//	}
//
// JSON: a body that is one JSON object becomes its fields. "msg", "message",
// "Message" or a string "log" becomes the body (the first one found; without
// any, the whole line stays the body). "level", "lvl", "severity" or
// "log.level" (also as {"log":{"level":...}}) becomes the attribute "level",
// lower-cased (a value longer than 64 bytes is no level word and stays an
// ordinary field). With Options.Time, "time", "timestamp", "ts", "@timestamp" or
// "Time" becomes the record's time when it parses (RFC 3339, or a number of
// seconds, milliseconds, microseconds or nanoseconds since 1970). Every
// other field becomes an attribute named Options.Prefix plus its path, the
// keys of nested objects joined by dots, up to Options.MaxDepth levels;
// deeper objects and every array are kept as their JSON text, strings
// without their quotes, numbers, booleans and null as written.
//
// LogMonitor: a line {"Source":...,"LogEntry":{...}} becomes a record whose
// body is the entry's Message (Event Log, ETW) or Logline (File), with the
// attributes
//
//	windows.logmonitor.source  EventLog, ETW, File ("Source")
//	windows.event.channel      Channel
//	windows.event.provider     EventSource, Provider or ProviderName
//	windows.event.provider_guid ProviderId or ProviderGuid
//	windows.event.id           EventId
//	windows.event.keywords     Keyword or Keywords
//	level                      Level, lower-cased ("error", "information")
//	log.file.path              FileName (the file LogMonitor read, inside the container)
//
// and the entry's Time as the record's time with Options.Time (otherwise
// the attribute windows.event.time). Other entry fields become
// windows.event.<Field>. LogMonitor's "xml" and "custom" output formats are
// not JSON and are reported NotThisFormat, kept as text.
//
// Attribute keys never take a name enrichment gives (namespace, pod,
// container, node, label.*, annotation.*, ...): JSON fields live under the
// prefix, LogMonitor's under windows.*, and only "level" and
// "log.file.path" are bare, which enrichment does not use.
//
// Guarantees: Apply never panics, whatever the bytes (nesting beyond
// maxNesting is Invalid rather than a deep recursion), and changes the record only when it returns Parsed or
// Capped. It never writes into the record's Body or Attrs backing arrays:
// enrichment hands the records of one file one shared Attrs slice, and a
// Body points into its batch's buffer. Attribute keys and values are UTF-8:
// each run of other bytes becomes U+FFFD, since sinks put them in labels
// and JSON; the body keeps its bytes as they are (the input has flagged it). A new Body is a sub-slice of the old
// one (a message without escapes) or freshly allocated; new Attrs are a
// fresh slice whose strings share one allocation per record. A body that is
// not of the format costs no allocation. A Parser keeps scratch buffers
// between calls: it is not safe for concurrent use; make one per goroutine.
package structured
