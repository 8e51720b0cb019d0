package record

import (
	"net/netip"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/jsonout"
)

// The config's services and servers as a recording's setup and
// servers_now lines write them: what the dashboard draws from.

type serviceJSON struct {
	Name         string                     `json:"name"`
	Layout       config.Layout              `json:"layout"`
	Primary      string                     `json:"primary"`
	Standby      string                     `json:"standby"`
	Records      map[string]recordMatchJSON `json:"records,omitempty"`
	Record       recordMatchJSON            `json:"record,omitzero"`
	HoldNetwatch bool                       `json:"hold_netwatch"`
	DNSServer    string                     `json:"dns_server,omitempty"`
	AuditLog     string                     `json:"audit_log,omitempty"`
	Auto         autoJSON                   `json:"auto"`
	// Bridge is the service's TTL bridge, only when it has one: a replay
	// shows what the bridge carried for whom as the run was configured.
	Bridge *bridgeJSON `json:"bridge,omitempty"`
}

// bridgeJSON is a service's bridge: config.Bridge in JSON.md's words.
type bridgeJSON struct {
	Mode              config.BridgeMode  `json:"mode"`
	SrcAddress        []netip.Prefix     `json:"src_address"`
	InInterfaceList   string             `json:"in_interface_list,omitempty"`
	TCP               []int              `json:"tcp"`
	UDP               []int              `json:"udp"`
	ICMP              bool               `json:"icmp"`
	Exempt            []netip.Prefix     `json:"exempt"`
	ExemptAddressList string             `json:"exempt_address_list,omitempty"`
	Until             config.BridgeUntil `json:"until"`
	MarginMS          float64            `json:"margin_ms"`
	Comment           string             `json:"comment,omitempty"`
}

// bridgeOf is a bridge's JSON form, nil for none; lists as [] when empty.
func bridgeOf(b config.Bridge) *bridgeJSON {
	if !b.On() {
		return nil
	}
	orEmpty := func(l []netip.Prefix) []netip.Prefix {
		if l == nil {
			return []netip.Prefix{}
		}
		return l
	}
	ports := func(l []int) []int {
		if l == nil {
			return []int{}
		}
		return l
	}
	return &bridgeJSON{Mode: b.Mode, SrcAddress: orEmpty(b.SrcAddresses), InInterfaceList: b.InInterfaceList,
		TCP: ports(b.TCP), UDP: ports(b.UDP), ICMP: b.ICMP, Exempt: orEmpty(b.Exempt), ExemptAddressList: b.ExemptAddressList,
		Until: b.Until, MarginMS: jsonout.Millis(b.Margin), Comment: b.Comment}
}

// configBridge is a recorded bridge as the config's, none for nil.
func configBridge(b *bridgeJSON) config.Bridge {
	if b == nil {
		return config.Bridge{}
	}
	nilIfEmpty := func(l []netip.Prefix) []netip.Prefix {
		if len(l) == 0 {
			return nil
		}
		return l
	}
	ports := func(l []int) []int {
		if len(l) == 0 {
			return nil
		}
		return l
	}
	return config.Bridge{Mode: b.Mode, SrcAddresses: nilIfEmpty(b.SrcAddress), InInterfaceList: b.InInterfaceList,
		TCP: ports(b.TCP), UDP: ports(b.UDP), ICMP: b.ICMP, Exempt: nilIfEmpty(b.Exempt), ExemptAddressList: b.ExemptAddressList,
		Until: b.Until, Margin: duration(b.MarginMS), Comment: b.Comment}
}

type recordMatchJSON struct {
	Comment string `json:"comment,omitempty"`
	Address string `json:"address,omitempty"`
}

type autoJSON struct {
	Enabled        bool    `json:"enabled"`
	FailAfterMS    float64 `json:"fail_after_ms"`
	HoldDownMS     float64 `json:"hold_down_ms"`
	Restore        string  `json:"restore"`
	RestoreAfterMS float64 `json:"restore_after_ms"`
}

type configServerJSON struct {
	Name    string          `json:"name"`
	Role    config.Role     `json:"role"`
	Address string          `json:"address"`
	Record  recordMatchJSON `json:"record,omitzero"`
	Checks  []checkConfJSON `json:"checks"`
}

type checkConfJSON struct {
	Kind     config.CheckKind `json:"kind"`
	Port     int              `json:"port,omitempty"`
	URL      string           `json:"url,omitempty"`
	Expect   []statusJSON     `json:"expect,omitempty"`
	Insecure bool             `json:"insecure,omitempty"`
}

type statusJSON struct {
	Lo int `json:"lo"`
	Hi int `json:"hi"`
}

func servicesOf(svcs []config.Service) []serviceJSON {
	out := make([]serviceJSON, len(svcs))
	for i, s := range svcs {
		a := s.Auto
		out[i] = serviceJSON{Name: s.Name, Layout: s.Layout, Primary: s.Primary, Standby: s.Standby,
			Record: recordMatchJSON(s.Record), HoldNetwatch: s.HoldNetwatch, DNSServer: s.DNSServer, AuditLog: s.AuditLog,
			Auto: autoJSON{Enabled: a.Enabled, FailAfterMS: jsonout.Millis(a.FailAfter), HoldDownMS: jsonout.Millis(a.HoldDown),
				Restore: a.Restore, RestoreAfterMS: jsonout.Millis(a.RestoreAfter)},
			Bridge: bridgeOf(s.Bridge)}
		if s.Records != nil {
			out[i].Records = map[string]recordMatchJSON{}
			for k, m := range s.Records {
				out[i].Records[k] = recordMatchJSON(m)
			}
		}
	}
	return out
}

func configServices(svcs []serviceJSON) []config.Service {
	out := make([]config.Service, len(svcs))
	for i, s := range svcs {
		a := s.Auto
		out[i] = config.Service{Name: s.Name, Layout: s.Layout, Primary: s.Primary, Standby: s.Standby,
			Record: config.RecordMatch(s.Record), HoldNetwatch: s.HoldNetwatch, DNSServer: s.DNSServer, AuditLog: s.AuditLog,
			Auto: config.Auto{Enabled: a.Enabled, FailAfter: duration(a.FailAfterMS), HoldDown: duration(a.HoldDownMS),
				Restore: a.Restore, RestoreAfter: duration(a.RestoreAfterMS)},
			Bridge: configBridge(s.Bridge)}
		if s.Records != nil {
			out[i].Records = map[string]config.RecordMatch{}
			for k, m := range s.Records {
				out[i].Records[k] = config.RecordMatch(m)
			}
		}
	}
	return out
}

func serversOf(servers []config.Server) []configServerJSON {
	out := make([]configServerJSON, len(servers))
	for i, s := range servers {
		out[i] = configServerJSON{Name: s.Name, Role: s.Role, Address: s.Address, Record: recordMatchJSON(s.Record), Checks: []checkConfJSON{}}
		for _, c := range s.Checks {
			cj := checkConfJSON{Kind: c.Kind, Port: c.Port, URL: c.URL, Insecure: c.Insecure}
			for _, r := range c.Expect {
				cj.Expect = append(cj.Expect, statusJSON(r))
			}
			out[i].Checks = append(out[i].Checks, cj)
		}
	}
	return out
}

func configServers(servers []configServerJSON) []config.Server {
	out := make([]config.Server, len(servers))
	for i, s := range servers {
		out[i] = config.Server{Name: s.Name, Role: s.Role, Address: s.Address, Record: config.RecordMatch(s.Record)}
		for _, c := range s.Checks {
			cc := config.Check{Kind: c.Kind, Port: c.Port, URL: c.URL, Insecure: c.Insecure}
			for _, r := range c.Expect {
				cc.Expect = append(cc.Expect, config.StatusRange(r))
			}
			out[i].Checks = append(out[i].Checks, cc)
		}
	}
	return out
}
