package failover

import (
	"context"
	"errors"
	"fmt"

	"github.com/failwatch/failwatch/routeros"
)

// is left. On any failure it puts back what the router held before (read
// back, so a change whose reply was lost is undone too) and says how far
// it got.
func (p *Plan) Apply(ctx context.Context, c *routeros.Client) error {
	before, err := p.snapshot(ctx, c)
	if err != nil {
		return fmt.Errorf("read the router before changing it: %w", err)
	}
	for i, st := range p.Steps {
		run := st.run
		if run == nil {
			run = func(ctx context.Context, c *routeros.Client) error {
				_, err := c.Run(ctx, st.Words...)
				return err
			}
		}
		if err := run(ctx, c); err != nil {
			if rerr := p.restore(ctx, c, before); rerr != nil {
				return fmt.Errorf("%s: %w; applied %d of %d, and the rollback failed: %v (check the router)", st.Say, err, i, len(p.Steps), rerr)
			}
			return fmt.Errorf("%s: %w; applied %d of %d, rolled back (read back)", st.Say, err, i, len(p.Steps))
		}
	}
	left, err := p.setup.Plan(ctx, c)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if len(left.Steps) > 0 {
		return fmt.Errorf("verify: %d change(s) did not take: %s", len(left.Steps), left.Steps[0].Say)
	}
	return nil
}

// snapshot is what setup may change, as the router holds it: the name's
// static records and the servers' netwatch entries (and setup's own).
type snapshot map[string]map[string]map[string]string // menu -> .id -> properties

func (p *Plan) snapshot(ctx context.Context, c *routeros.Client) (snapshot, error) {
	snap := snapshot{}
	for menu, query := range map[string][]string{
		"/ip/dns/static": {"?name=" + p.setup.Service.Name},
		"/tool/netwatch": nil,
	} {
		r, err := c.Run(ctx, append([]string{menu + "/print"}, query...)...)
		if err != nil {
			return nil, err
		}
		snap[menu] = map[string]map[string]string{}
		for _, row := range r.Rows {
			snap[menu][row[".id"]] = row
		}
	}
	return snap, nil
}

// restoredKeys are the properties setup writes, which a rollback puts back.
var restoredKeys = map[string][]string{
	"/ip/dns/static": {"ttl", "comment", "disabled"},
	"/tool/netwatch": {"disabled", "comment", "host", "type", "interval", "timeout", "packet-count", "thr-loss-percent", "thr-avg", "thr-max",
		"port", "http-codes", "http-code-min", "http-code-max", "ignore-initial-up", "ignore-initial-down", "up-script", "down-script"},
}

// restore brings the router back to the snapshot, then reads it back.
func (p *Plan) restore(ctx context.Context, c *routeros.Client, before snapshot) error {
	now, err := p.snapshot(ctx, c)
	if err != nil {
		return err
	}
	var errs []error
	for menu, rows := range now {
		for id, row := range rows {
			was, existed := before[menu][id]
			if !existed {
				if _, err := c.Run(ctx, menu+"/remove", "=.id="+id); err != nil {
					errs = append(errs, err)
				}
				continue
			}
			words := []string{menu + "/set", "=.id=" + id}
			for _, k := range restoredKeys[menu] {
				// A property unset before is cleared with an empty value.
				if row[k] != was[k] {
					words = append(words, "="+k+"="+was[k])
				}
			}
			if len(words) > 2 {
				if _, err := c.Run(ctx, words...); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	after, err := p.snapshot(ctx, c)
	if err != nil {
		return err
	}
	for menu, rows := range before {
		if len(after[menu]) != len(rows) {
			return fmt.Errorf("read back: %s has %d items, had %d", menu, len(after[menu]), len(rows))
		}
		for id, was := range rows {
			for _, k := range restoredKeys[menu] {
				if after[menu][id][k] != was[k] {
					return fmt.Errorf("read back: %s %s %s is %q, was %q", menu, id, k, after[menu][id][k], was[k])
				}
			}
		}
	}
	return nil
}
