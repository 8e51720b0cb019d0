package paper

import (
	"time"

	"github.com/failwatch/failwatch/config"
)

// The paper's names and addresses: one name on a public VPS and a private,
// on-premises server, each with a static record found by its comment.
const (
	Name           = "tomtotrading.com"
	PublicAddress  = "104.247.193.168"
	PrivateAddress = "192.10.10.2"
	PublicComment  = "Server Public"
	PrivateComment = "ServerPrivate"
)

// The round trips the paper measured with ping: mean and mdev. The public
// server also lost 5% of them.
var (
	PublicRTT  = [2]time.Duration{195838 * time.Microsecond, 4103 * time.Microsecond}
	PrivateRTT = [2]time.Duration{2741 * time.Microsecond, 309 * time.Microsecond}
)

// PublicLoss is the share of pings the public server lost, 0 to 1.
const PublicLoss = 0.05

// Service is the paper's service: one record per server for the same name,
// exactly one enabled (the toggle layout), the public server its primary,
// the private one its standby.
func Service() config.Service {
	return config.Service{Name: Name, Layout: config.Toggle, Primary: "public", Standby: "private", Auto: config.Defaults().Auto}
}

// Servers are the paper's servers at the given addresses (the paper's own,
// or a lab's): the public one primary, the private one standby, each with an
// ICMP check and its record found by the paper's comment.
func Servers(public, private string) []config.Server {
	return []config.Server{
		{Name: "public", Role: config.Primary, Address: public, Record: config.RecordMatch{Comment: PublicComment},
			Checks: []config.Check{{Kind: config.ICMP}}},
		{Name: "private", Role: config.Standby, Address: private, Record: config.RecordMatch{Comment: PrivateComment},
			Checks: []config.Check{{Kind: config.ICMP}}},
	}
}

// Config is the paper's setup as a failwatch config, with the defaults for
// everything the paper does not say.
func Config() *config.Config {
	cfg := config.Defaults()
	cfg.Services = []config.Service{Service()}
	cfg.Servers = Servers(PublicAddress, PrivateAddress)
	return &cfg
}
