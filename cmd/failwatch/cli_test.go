package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/failwatch/failwatch/tui"
)

// Every command an admin can see has examples in its help, and its help
// in a pipe ends no line in spaces; no example is kept for a command that
// is gone.
func TestEveryCommandHasExamples(t *testing.T) {
	root := rootCommand()
	used := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		used[exampleKey(c)] = true
		args := append(strings.Fields(exampleKey(c)), "--help")
		if !c.HasParent() {
			args = []string{"--help"}
		}
		out, errs, code := runCLI(args...)
		if code != exitOK || errs != "" || !strings.Contains(out, "EXAMPLES") {
			t.Errorf("%s: exit %d, no examples in:\n%s%s", c.CommandPath(), code, out, errs)
		}
		for _, l := range strings.Split(strings.TrimSpace(examples[exampleKey(c)]), "\n") {
			if !strings.HasPrefix(l, "#") && !strings.Contains(out, l) {
				t.Errorf("%s: example %q not in its help", c.CommandPath(), l)
			}
		}
		if regexp.MustCompile(`(?m)[ \t]$`).MatchString(out) {
			t.Errorf("%s: a help line ends in spaces:\n%q", c.CommandPath(), out)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for key := range examples {
		if !used[key] {
			t.Errorf("examples for %q, which is no command", key)
		}
	}
}

// The man page has the sections an admin looks for, options as typed, and
// the dashboard's keys from the key map the dashboard uses; groff reads it
// without a warning.
func TestManPage(t *testing.T) {
	page, errs, code := runCLI("man")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		".SH NAME\nfailwatch \\- DNS failover dashboard for a MikroTik router\n",
		".SH OPTIONS\n", ".SH COMMANDS\n", `.SH "DASHBOARD KEYS"` + "\n", `.SH "EXIT STATUS"` + "\n",
		".SH FILES\n", ".SH ENVIRONMENT\n", ".SH EXAMPLES\n", `.SH "SEE ALSO"` + "\n",
		`\fB\-c\fR, \fB\-\-config\fR \fIstring\fR`,
		".TP\n\\fB/etc/failwatch/config.yaml\\fR\n",
		".TP\n\\fBFAILWATCH_CONFIG_PATH\\fR\n",
		`.SS "failwatch sim"`, `\fB\-\-routeros\-version\fR \fIstring\fR`,
		".nf\nfailwatch failover \\-\\-service www.example.com \\-\\-hold \\-\\-yes \\-\\-json\n.fi\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, `\-\-c `) {
		t.Errorf("a shorthand is written as a long option")
	}
	keys := tui.DefaultKeyMap(false, true).FullHelp()
	for i, col := range keys {
		section := ".SS " + tui.HelpSections[i] + "\n"
		at := strings.Index(page, section)
		if at < 0 {
			t.Fatalf("no section %q of keys", tui.HelpSections[i])
		}
		for _, k := range col {
			h := k.Help()
			if entry := ".TP\n\\fB" + esc(h.Key) + "\\fR\n" + esc(h.Desc) + "\n"; !strings.Contains(page[at:], entry) {
				t.Errorf("key %s (%s) not under %s", h.Key, h.Desc, tui.HelpSections[i])
			}
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("no groff to render the page")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
}
