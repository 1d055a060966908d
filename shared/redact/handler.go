package redact

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Handler passes records on to another handler with Text applied to their
// message and to every string they carry: string attributes, errors,
// groups, and the strings (and map keys) inside values that are logged as
// JSON. Numbers, times and durations pass unchanged.
type Handler struct{ next slog.Handler }

// NewHandler returns a Handler in front of next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled asks the next handler.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle masks the record and passes it on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs masks attrs once, as the logger gets them.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return &Handler{next: h.next.WithAttrs(masked)}
}

// WithGroup opens a group in the next handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	return slog.Attr{Key: a.Key, Value: maskValue(a.Value)}
}

func maskValue(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(Text(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		masked := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			masked[i] = maskAttr(a)
		}
		return slog.GroupValue(masked...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.StringValue(Text(err.Error()))
		}
		// What the JSON handler would write, with its strings masked.
		b, err := json.Marshal(v.Any())
		if err != nil {
			return slog.StringValue(Text(fmt.Sprintf("%+v", v.Any())))
		}
		return slog.AnyValue(json.RawMessage(maskJSON(b)))
	}
	return v
}

// maskJSON applies Text to every string and object key in a JSON document,
// leaving its numbers as they are.
func maskJSON(b []byte) []byte {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return b
	}
	out, err := json.Marshal(maskDoc(doc))
	if err != nil {
		return b
	}
	return out
}

func maskDoc(doc any) any {
	switch d := doc.(type) {
	case string:
		return Text(d)
	case []any:
		for i := range d {
			d[i] = maskDoc(d[i])
		}
		return d
	case map[string]any:
		out := make(map[string]any, len(d))
		for k, v := range d {
			out[Text(k)] = maskDoc(v)
		}
		return out
	}
	return doc
}

// Error returns err with its text masked by Text, for an error that leaves
// the process (a function's returned error, which the Lambda runtime logs
// and hands to the caller or a failure destination). errors.Is and
// errors.As still find what err wraps.
func Error(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*maskedError); ok {
		return err
	}
	return &maskedError{err}
}

type maskedError struct{ err error }

func (m *maskedError) Error() string { return Text(m.err.Error()) }
func (m *maskedError) Unwrap() error { return m.err }
