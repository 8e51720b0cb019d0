package rosim

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/routeros/wire"
)

// SeedPaper loads the paper's configuration: two static records for one name
// (the private one first and disabled, so print positions 0 and 1 are what
// the paper's scripts expect) and the two netwatch entries that flip them.
func (r *Router) SeedPaper() error {
	return r.SeedPaperWith(paper.Name, paper.PublicAddress, paper.PrivateAddress)
}

// SeedPaperWith is the paper's setup for other addresses, such as a lab's.
func (r *Router) SeedPaperWith(name, public, private string) error {
	return r.seed([]string{
		"/ip/dns/static/add =name=" + name + " =address=" + private + " =ttl=1d =comment=" + paper.PrivateComment + " =disabled=yes",
		"/ip/dns/static/add =name=" + name + " =address=" + public + " =ttl=1d =comment=" + paper.PublicComment,
		"/tool/netwatch/add =host=" + public + " =type=simple =interval=10s =timeout=1s" +
			" =up-script=/ip dns static disable numbers=0 =down-script=/ip dns static enable numbers=0",
		"/tool/netwatch/add =host=" + public + " =type=simple =interval=10s =timeout=1s" +
			" =up-script=/ip dns static enable numbers=1 =down-script=/ip dns static disable numbers=1",
	})
}

// SeedConfig loads records for each of a config's services, the primary's
// enabled, and per service a netwatch entry on its primary that flips that
// service's records by name and comment (a server carrying several names
// has an entry per name). interval is the netwatch interval, e.g. "10s".
func (r *Router) SeedConfig(cfg *config.Config, interval string) error {
	if len(cfg.Services) == 0 {
		return fmt.Errorf("seed: the config needs a service")
	}
	var cmds []string
	for _, svc := range cfg.Services {
		primary, standby := cfg.Pair(svc)
		if svc.Name == "" || primary.Name == "" || standby.Name == "" {
			return fmt.Errorf("seed: service %q needs a name, a primary and a standby", svc.Name)
		}
		comment := func(s config.Server) string {
			if s.Record.Comment != "" {
				return s.Record.Comment
			}
			return "failwatch " + s.Name
		}
		find := func(s config.Server) string { return `[find name="` + svc.Name + `" comment="` + comment(s) + `"]` }
		typ := func(s config.Server) string {
			// An IPv6 pair's records are AAAA: an A record takes no IPv6
			// address.
			if a, err := netip.ParseAddr(s.Address); err == nil && a.Is6() && !a.Is4In6() {
				return " =type=AAAA"
			}
			return ""
		}
		cmds = append(cmds,
			"/ip/dns/static/add =name="+svc.Name+typ(primary)+" =address="+primary.Address+" =ttl=30s =comment="+comment(primary),
			"/ip/dns/static/add =name="+svc.Name+typ(standby)+" =address="+standby.Address+" =ttl=30s =disabled=yes =comment="+comment(standby),
			"/tool/netwatch/add =host="+primary.Address+" =type=simple =interval="+interval+" =timeout=1s"+
				" =comment=failwatch "+primary.Name+
				" =up-script=/ip dns static enable "+find(primary)+"; /ip dns static disable "+find(standby)+
				" =down-script=/ip dns static enable "+find(standby)+"; /ip dns static disable "+find(primary))
	}
	return r.seed(cmds)
}

// seed runs commands written as space-separated "=key=value" words, where a
// value runs until the next " =".
func (r *Router) seed(cmds []string) error {
	for _, c := range cmds {
		if r.prof.netwatchTypes == nil {
			// RouterOS 6 netwatch has no type: every entry is simple.
			c = strings.Replace(c, " =type=simple", "", 1)
		}
		sen := wire.Parse(splitSeedWords(c))
		if res := r.exec("admin", sen.Word, attrsOf(sen), nil); res.trap != nil {
			return fmt.Errorf("seed %s: %s", sen.Word, res.trap.message)
		}
	}
	return nil
}

func splitSeedWords(c string) []string {
	var words []string
	start := 0
	for i := 0; i+1 < len(c); i++ {
		if c[i] == ' ' && c[i+1] == '=' {
			words = append(words, c[start:i])
			start = i + 1
		}
	}
	return append(words, c[start:])
}
