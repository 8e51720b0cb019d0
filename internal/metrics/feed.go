package metrics

import (
	"context"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
)

// Feed is the metrics subscriber: it turns the engine's events into the
// collector's observations until ctx ends. It derives nothing: the active
// server, the facts' state and each host's netwatch status are the
// engine's.
func (c *Collector) Feed(ctx context.Context, eng *engine.Engine) {
	sub := eng.Subscribe(1024)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.C():
			c.observe(ev)
		}
	}
}

// observe turns one engine event into the collector's observations. A
// snapshot gives the state it holds; its switches and operations were
// counted when they happened, and are not counted again.
func (c *Collector) observe(ev engine.Event) {
	switch ev := ev.(type) {
	case engine.Snapshot:
		for _, e := range ev.Events {
			switch e.(type) {
			case engine.Switch, engine.Done:
			default:
				c.observe(e)
			}
		}
		c.observe(engine.FactsChanged(ev.Facts))
	case engine.ServerEvent:
		c.ObserveServer(monitor.Event(ev))
	case engine.Reading:
		c.ObserveRouter(ev.At, ev.Connected, ev.NetwatchByHost)
		c.observe(engine.FactsChanged(ev.Services))
	case engine.FactsChanged:
		for _, f := range ev {
			c.ObserveFacts(f.Service, string(f.State), f.Active)
			c.ObserveBridge(f.Service, f.Bridge)
		}
	case engine.DNSAnswer:
		c.ObserveDNS(ev.Service, len(ev.Addrs) > 0, ev.Server, ev.TTL)
	case engine.Switch:
		c.ObserveSwitch(ev.Service, ev.Fault, ev.After)
	case engine.Done:
		c.ObserveOperation(ev.Result.Operation, ev.Err)
	case engine.HAState:
		c.ObserveHA(ev.Role, ev.Acting)
	case engine.ServersChanged:
		c.SetServers(ev)
	}
}
