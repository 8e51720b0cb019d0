package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failwatch/failwatch/config"
)

// durationValue is a flag taking every duration a config takes ("30s",
// "500ms", "1d", "00:00:30", bare seconds), read by the config's parser.
type durationValue struct{ d *time.Duration }

func (v durationValue) Set(s string) error {
	d, err := config.ParseDuration(s)
	switch {
	case err != nil:
		return err
	case d <= 0:
		return errors.New("want a duration greater than zero")
	}
	*v.d = d
	return nil
}

func (v durationValue) String() string {
	switch d := *v.d; {
	case d == 0:
		return ""
	case d%time.Second == 0:
		return config.FormatDuration(d)
	default:
		return d.String()
	}
}

func (durationValue) Type() string { return "duration" }

// durationFlag defines a duration flag read like the config's durations.
func durationFlag(fs *pflag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	d := value
	fs.Var(durationValue{&d}, name, usage)
	return &d
}

// flagError says what is wrong with a flag in an admin's words, and where
// to read about the command's flags.
func flagError(c *cobra.Command, err error) error {
	if bad, ok := errors.AsType[*pflag.InvalidValueError](err); ok {
		f := bad.GetFlag()
		why := bad.Unwrap().Error()
		switch f.Value.Type() {
		case "int":
			why = "want a whole number"
		case "float64":
			why = "want a number"
		case "bool":
			why = "want true or false"
		}
		err = fmt.Errorf("--%s %s: %s", f.Name, bad.GetValue(), why)
	}
	return fmt.Errorf("%w\nRun '%s --help' for its flags", err, c.CommandPath())
}

// trimmed writes through to w without the spaces that end a line (help
// rendered to the terminal's width leaves them): a run of spaces is held
// until the next byte shows whether the line goes on.
type trimmed struct {
	w    io.Writer
	held []byte
}

func (t *trimmed) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p))
	for _, b := range p {
		switch b {
		case ' ', '\t':
			t.held = append(t.held, b)
			continue
		case '\n', '\r':
			t.held = t.held[:0]
		default:
			out = append(out, t.held...)
			t.held = t.held[:0]
		}
		out = append(out, b)
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
