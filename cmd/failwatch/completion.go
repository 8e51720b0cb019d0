package main

import (
	"github.com/spf13/cobra"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// addCompletions teaches the shells the values of failwatch's flags and
// arguments: services and servers from the config the command would read,
// and the values each enum takes.
func addCompletions(root *cobra.Command) {
	for _, c := range append(root.Commands(), root) {
		fixed := map[string][]string{
			"log-format": {"text\tkey=value lines", "json\tone JSON object a line"},
			// The versions where what setup writes changes.
			"routeros": {"6.49\tsimple netwatch (host, interval, timeout, scripts)", "7.4\tprobe types, http-code-min/max",
				"7.18\thttp-codes, ignore-initial-up/down"},
			"routeros-version": rosim.ProfileNames(),
		}
		for name, values := range fixed {
			if c.Flags().Lookup(name) != nil {
				c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		if c.Flags().Lookup("config") != nil {
			c.RegisterFlagCompletionFunc("config", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
			})
		}
		if c.Flags().Lookup("service") != nil {
			c.RegisterFlagCompletionFunc("service", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
				var out []string
				if cfg := completionConfig(c); cfg != nil {
					for _, svc := range cfg.Services {
						out = append(out, svc.Name+"\t"+svc.Primary+" -> "+svc.Standby)
					}
				}
				return out, cobra.ShellCompDirectiveNoFileComp
			})
		}
	}
	report, _, _ := root.Find([]string{"report"})
	report.ValidArgsFunction = func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		var out []string
		if cfg := completionConfig(c); cfg != nil {
			for _, s := range cfg.Servers {
				out = append(out, s.Address+"\t"+s.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completionConfig is the config c would read (its -c, or the search
// path's), without the router's password; nil when there is none or it
// does not load: a completion says nothing rather than an error.
func completionConfig(c *cobra.Command) *config.Config {
	path, _ := c.Flags().GetString("config")
	if path == "" {
		found, err := config.Find()
		if err != nil {
			return nil
		}
		path = found
	}
	cfg, err := config.LoadWithoutPassword(path)
	if err != nil {
		return nil
	}
	return cfg
}
