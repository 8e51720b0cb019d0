package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/failwatch/failwatch/config"
)

// out is where a command says what is not its result: lines on stderr
// ("failwatch: ..."), or, for a daemon logging JSON, records in its log, so
// that every line it writes is one (--log-format json), the first included.
type out struct {
	stderr io.Writer
	// who starts a line: "failwatch", or the daemon's "failwatch serve".
	who string
	// log, when set, takes every line as a record.
	log *slog.Logger
}

// plain says things as lines on w.
func plain(w io.Writer) out { return out{stderr: w, who: "failwatch"} }

// daemonOut is a daemon's: lines on stderr in the text format (its log's
// lines are key=value), records in the JSON one.
func daemonOut(stderr io.Writer, cmd, format string, log *slog.Logger) out {
	o := out{stderr: stderr, who: "failwatch " + cmd}
	if format == "json" {
		o.log = log
	}
	return o
}

// startDaemon is what a daemon (exporter, serve) starts from: its log in
// format, how it says things, and its config; false when it cannot start,
// said once.
func startDaemon(cmd, format string, rf routerFlags, stderr io.Writer) (*slog.Logger, out, *config.Config, bool) {
	log, err := newLog(format, stderr)
	if err != nil {
		daemonOut(stderr, cmd, "text", nil).error(err)
		return nil, out{}, nil, false
	}
	o := daemonOut(stderr, cmd, format, log)
	cfg, err := rf.load(o)
	if err != nil {
		o.error(err)
		return nil, out{}, nil, false
	}
	return log, o, cfg, true
}

// info, warn and fail say text, with attrs as a record's key-value pairs.
func (o out) info(text string, attrs ...any) { o.say(slog.LevelInfo, text, attrs) }
func (o out) warn(text string, attrs ...any) { o.say(slog.LevelWarn, text, attrs) }
func (o out) fail(text string, attrs ...any) { o.say(slog.LevelError, text, attrs) }

func (o out) say(level slog.Level, text string, attrs []any) {
	if o.log != nil {
		o.log.Log(context.Background(), level, text, attrs...)
		return
	}
	if level == slog.LevelWarn {
		text = "warning: " + text
	}
	fmt.Fprintf(o.stderr, "%s: %s\n", o.who, text)
}

// problems says why a config was not read: each problem with its position
// as file:line:column: key: message, as compilers print them.
func (o out) problems(path string, err error) {
	var errs config.Errors
	if !errors.As(err, &errs) {
		o.fail(err.Error())
		return
	}
	for _, e := range errs {
		if o.log != nil {
			o.log.Error(e.Error(), "file", e.File, "line", e.Line, "column", e.Col, "key", e.Key)
		} else {
			fmt.Fprintln(o.stderr, e)
		}
	}
	o.fail(fmt.Sprintf("%s: %d problem(s)", path, len(errs)), "path", path)
}

// failure is an error with who says it, when a command says it in its own
// name ("failwatch setup: ..."), and the attributes its record carries in a
// daemon's JSON log (the address that could not be listened on).
type failure struct {
	err   error
	who   string
	attrs []any
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// withAttrs gives err the key-value pairs of its record in a JSON log.
func withAttrs(err error, attrs ...any) error { return &failure{err: err, attrs: attrs} }

// said makes err said in the name of the command cmd.
func said(cmd string, err error) error { return &failure{err: err, who: "failwatch " + cmd} }

// configError is a config file that could not be read, with its problems.
type configError struct {
	path string
	err  error
}

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// error says why a helper failed, once, where its command decides the exit
// code: a config's problems each with its position, anything else as one
// line or record.
func (o out) error(err error) {
	if ce, ok := errors.AsType[*configError](err); ok {
		o.problems(ce.path, ce.err)
		return
	}
	if f, ok := errors.AsType[*failure](err); ok {
		if f.who != "" {
			o.who = f.who
		}
		o.fail(err.Error(), f.attrs...)
		return
	}
	o.fail(err.Error())
}
