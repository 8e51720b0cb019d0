package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/tui"
)

func manCommand() *cobra.Command {
	return newCommand("man", "", "print the man page (roff), made from the same definitions as the help", `
Print failwatch's man page in roff: every command with its flags and
examples, the dashboard's keys, exit status, files, environment. The .deb
installs it as man failwatch.`, func(*pflag.FlagSet) runner {
		return func(pos []string, stdout, stderr io.Writer) int {
			if len(pos) > 0 {
				fmt.Fprintf(stderr, "failwatch man: unexpected argument %q\n", pos[0])
				return exitUsage
			}
			root := rootCommand()
			root.InitDefaultVersionFlag()
			io.WriteString(stdout, manPage(root))
			return exitOK
		}
	})
}

// roff builds a man page: macros on lines of their own, text escaped so
// that no line starts a macro by accident and a hyphen is the minus sign
// options are typed with.
type roff struct{ b strings.Builder }

func (r *roff) macro(name string, args ...string) {
	r.b.WriteString("." + name)
	for _, a := range args {
		r.b.WriteString(" " + a)
	}
	r.b.WriteByte('\n')
}

// line is one line of text, escaped.
func (r *roff) line(s string) { r.b.WriteString(esc(s) + "\n") }

// raw is one line already in roff (bold, italics).
func (r *roff) raw(s string) { r.b.WriteString(s + "\n") }

// term is one tagged paragraph: tag as roff (already escaped), then its
// text.
func (r *roff) term(tag, text string) {
	r.macro("TP")
	r.raw(tag)
	r.line(text)
}

// terms is a tagged paragraph for each name and text, the name in bold.
func (r *roff) terms(list [][2]string) {
	for _, t := range list {
		r.term(bold(t[0]), t[1])
	}
}

// paragraphs writes text whose paragraphs are separated by blank lines.
func (r *roff) paragraphs(text string) {
	for i, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			r.macro("PP")
		}
		r.line(strings.Join(strings.Fields(p), " "))
	}
}

// esc escapes text for roff; a character outside ASCII (the arrow keys)
// is named by its code point, which needs no input encoding.
func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 0x7e:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	if out := b.String(); strings.HasPrefix(out, ".") || strings.HasPrefix(out, "'") {
		return `\&` + out
	}
	return b.String()
}

func bold(s string) string   { return `\fB` + esc(s) + `\fR` }
func italic(s string) string { return `\fI` + esc(s) + `\fR` }

// manDate is the page's date: the source's (SOURCE_DATE_EPOCH, as
// reproducible builds set it, or the commit's), else today.
func manDate() string {
	if s, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		return time.Unix(s, 0).UTC().Format("2006-01-02")
	}
	if t, err := time.Parse(time.RFC3339, buildInfo().Committed); err == nil {
		return t.UTC().Format("2006-01-02")
	}
	return time.Now().UTC().Format("2006-01-02")
}

// manPage is the whole page for root's tree.
func manPage(root *cobra.Command) string {
	var r roff
	r.macro("TH", "FAILWATCH", "1", strconv.Quote(manDate()), strconv.Quote("failwatch "+buildInfo().Version), `"failwatch manual"`)
	r.macro("SH", "NAME")
	r.line("failwatch - " + root.Short)
	r.macro("SH", "SYNOPSIS")
	r.raw(bold("failwatch") + " [" + italic("flags") + "]")
	r.macro("br")
	r.raw(bold("failwatch") + " " + italic("command") + " [" + italic("flags") + "] [" + italic("arguments") + "]")
	r.macro("SH", "DESCRIPTION")
	r.paragraphs(root.Long)
	r.macro("SH", "OPTIONS")
	manFlags(&r, root)
	r.macro("SH", "COMMANDS")
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		r.macro("SS", strconv.Quote(strings.TrimSuffix(c.UseLine(), " [flags]")))
		r.paragraphs(c.Long)
		manFlags(&r, c)
	}
	manKeys(&r)
	r.macro("SH", `"EXIT STATUS"`)
	r.terms([][2]string{
		{"0", "All is well: every server up, the router answering and each service on exactly one server, or the operation done (or nothing to do)."},
		{"1", "What was checked is unhealthy (a server down, degraded or unresolved; no single active server; no router), or the operation failed, was declined, or was rolled back."},
		{"2", "Bad usage or a bad config: an unknown command or flag, a flag value that does not parse, a config with problems (each said as file:line:column), or a question that could not be asked (no terminal and no --yes)."},
	})
	r.macro("SH", "FILES")
	r.line("Without -c, the config is the first of these that exists (" + config.SearchPathEnv + " replaces the list):")
	for i, p := range config.SearchPathDoc {
		r.term(bold(p), []string{"in the current directory",
			"$XDG_CONFIG_HOME is ~/.config by default",
			"for each directory of $XDG_CONFIG_DIRS, /etc/xdg by default",
			"the system's config, as the .deb installs it, root:failwatch 0640; the units read it"}[i])
	}
	r.terms([][2]string{
		{"/etc/failwatch/router.password", "The router's password as the shipped config names it (password_file): one line, owned by root, group failwatch, mode 0640, so that the units read it and nobody else."},
		{"/etc/failwatch/env", "Environment for the units: FAILWATCH_PASSWORD=... for a config that names password_env."},
		{"$XDG_STATE_HOME/failwatch/audit.jsonl", "The audit log, one JSON line per operation (default ~/.local/state; /var/lib/failwatch under the units); rotated by size."},
		{"/var/lib/failwatch/ssh_host_ed25519", "The SSH host key of failwatch serve under its unit, made on first start."},
		{"/lib/systemd/system/failwatch-exporter.service, failwatch-serve.service", "The units the .deb installs, not enabled."},
		{"/usr/share/doc/failwatch/", "README, JSON.md (every --json document and the audit log), the changelog, the example config, Prometheus rules and alerts, and a Grafana dashboard."},
	})
	r.macro("SH", "ENVIRONMENT")
	r.terms([][2]string{
		{config.SearchPathEnv, "A list of config files separated by colons that replaces the search path; set and empty, no file is searched (tests use this)."},
		{"XDG_CONFIG_HOME, XDG_CONFIG_DIRS", "Where the search path looks for failwatch/config.yaml."},
		{"XDG_STATE_HOME", "Where the audit log and the SSH host key go by default."},
		{"FAILWATCH_PASSWORD", "The router's password, when the config's password_env names this variable (it may name another); --password-env names one on the command line."},
		{"NO_COLOR", "No colours in the dashboard, as --no-color."},
		{"TERM", "dumb: the dashboard prints a status line every probe interval instead of drawing; linux: ASCII only."},
	})
	r.macro("SH", "EXAMPLES")
	manExamples(&r, root)
	r.macro("SH", `"SEE ALSO"`)
	r.raw(bold("ping") + "(8), " + bold("ssh") + "(1), " + bold("systemctl") + "(1), " + bold("journalctl") + "(1), " + bold("prometheus") + "(1)")
	r.macro("PP")
	r.line("/usr/share/doc/failwatch/README.md.gz, JSON.md.gz (the machine output) and changelog.gz; https://github.com/failwatch/failwatch")
	return r.b.String()
}

// manFlags lists a command's flags, each with its value and default.
func manFlags(r *roff, c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		value, usage := pflag.UnquoteUsage(f)
		tag := bold("--" + f.Name)
		if f.Shorthand != "" {
			tag = bold("-"+f.Shorthand) + ", " + tag
		}
		if value != "" {
			tag += " " + italic(value)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			usage += " (default " + f.DefValue + ")"
		}
		r.term(tag, usage)
	})
}

// manKeys are the dashboard's keys, from the key map the dashboard uses,
// in the sections of its help screen.
func manKeys(r *roff) {
	r.macro("SH", `"DASHBOARD KEYS"`)
	r.line("Keys of the dashboard (failwatch, demo, serve over SSH), as its ? screen lists them. A read-only dashboard (--read-only, ui.read_only, a viewer over SSH) has none of the keys that change anything; x is the demo's.")
	for i, col := range tui.DefaultKeyMap(false, true).FullHelp() {
		r.macro("SS", tui.HelpSections[i])
		for _, k := range col {
			h := k.Help()
			r.term(bold(h.Key), h.Desc)
		}
	}
}

// manExamples are every command's examples, under its usage.
func manExamples(r *roff, c *cobra.Command) {
	if c.Example != "" && !c.Hidden {
		r.macro("SS", strconv.Quote(c.CommandPath()))
		var said []string
		for _, l := range strings.Split(strings.TrimSpace(c.Example), "\n") {
			if why, ok := strings.CutPrefix(l, "# "); ok {
				said = append(said, why)
				continue
			}
			if len(said) > 0 {
				r.macro("PP")
				r.line(strings.Join(said, " ") + ":")
				said = nil
			}
			r.macro("RS", "4")
			r.macro("nf")
			r.line(l)
			r.macro("fi")
			r.macro("RE")
		}
	}
	for _, sub := range c.Commands() {
		manExamples(r, sub)
	}
}
