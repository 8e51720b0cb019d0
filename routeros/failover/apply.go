package failover

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/routeros"
)

// Apply makes the changes in order, then plans again to verify that nothing
// is left. On any failure it puts back what the router held before (read
// back, so a change whose reply was lost is undone too), trying again while
// the router cannot be reached (up to three router timeouts), and says how
// far it got; when it cannot put it back, it lists each change that may
// remain with the command that undoes it.
func (p *Plan) Apply(ctx context.Context, c *routeros.Client) error {
	var before snapshot
	err := retry(ctx, 3*c.Timeout(), func(ctx context.Context) (err error) {
		before, err = p.snapshot(ctx, c)
		return err
	})
	if err != nil {
		return fmt.Errorf("read the router before changing it: %w; nothing was changed", err)
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
			how := fmt.Sprintf("applied %d of %d", i, len(p.Steps))
			tried := p.Steps[:i]
			if !routeros.IsTrap(err) {
				how += fmt.Sprintf(" (and perhaps change %d: its reply was lost)", i+1)
				tried = p.Steps[:i+1]
			}
			if rerr := p.restore(ctx, c, before); rerr != nil {
				return fmt.Errorf("%s: %w; %s, and the rollback failed: %v; check the router: %s", st.Say, err, how, rerr, mayRemain(tried))
			}
			return fmt.Errorf("%s: %w; %s, rolled back (read back)", st.Say, err, how)
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

// mayRemain lists the changes tried, each with the command that undoes it.
func mayRemain(tried []PlanStep) string {
	var undo []string
	for _, st := range slices.Backward(tried) {
		undo = append(undo, st.Undo)
	}
	return "these changes may remain, each undone by (last first): " + strings.Join(undo, "; ")
}

// retry runs fn until it succeeds, the router refuses it (a trap: trying
// again changes nothing), it reads rows it cannot trust, or budget has
// passed, backing off between tries: a router that cannot be reached at
// once (the reply to a change lost with the link) often can a moment later.
func retry(ctx context.Context, budget time.Duration, fn func(context.Context) error) error {
	deadline := time.Now().Add(budget)
	backoff := 50 * time.Millisecond
	for tries := 1; ; tries++ {
		err := fn(ctx)
		var unreadable *UnreadableError
		var final *finalError
		if err == nil || errors.Is(err, errSkipped) || routeros.IsTrap(err) || errors.As(err, &unreadable) || errors.As(err, &final) || !time.Now().Before(deadline) {
			if err != nil && tries > 1 {
				err = fmt.Errorf("%w (after %d tries in %s)", err, tries, budget)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(min(backoff, time.Until(deadline))):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// snapshot is what setup may change, as the router holds it: the name's
// static records and the servers' netwatch entries (and setup's own).
type snapshot map[string]map[string]map[string]string // menu -> .id -> properties

func (p *Plan) snapshot(ctx context.Context, c *routeros.Client) (snapshot, error) {
	snap := snapshot{}
	menus := map[string][]string{
		"/ip/dns/static":    {"?name=" + p.setup.Service.Name},
		"/tool/netwatch":    nil,
		"/system/scheduler": {"?name=" + p.setup.netwatchComment()},
	}
	maps.Copy(menus, p.setup.bridgeMenus(p.Caps))
	for menu, query := range menus {
		r, err := c.Run(ctx, append([]string{menu + "/print"}, query...)...)
		if err != nil {
			return nil, err
		}
		snap[menu] = map[string]map[string]string{}
		for _, row := range r.Rows {
			if p.setup.bridgeRow(menu, row) {
				snap[menu][row[".id"]] = row
			}
		}
	}
	return snap, nil
}

// snapshotWithin is snapshot, tried again within budget while the router
// cannot be reached.
func (p *Plan) snapshotWithin(ctx context.Context, c *routeros.Client, budget time.Duration) (snap snapshot, err error) {
	err = retry(ctx, budget, func(ctx context.Context) (err error) {
		snap, err = p.snapshot(ctx, c)
		return err
	})
	return snap, err
}

// restore brings the router back to the snapshot, then reads it back,
// each read and change tried again while the router cannot be reached.
func (p *Plan) restore(ctx context.Context, c *routeros.Client, before snapshot) error {
	budget := 3 * c.Timeout()
	now, err := p.snapshotWithin(ctx, c, budget)
	if err != nil {
		return err
	}
	var errs []error
	for _, words := range p.undoWords(before, now) {
		if err := retry(ctx, budget, func(ctx context.Context) error {
			_, err := c.Run(ctx, words...)
			return err
		}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	after, err := p.snapshotWithin(ctx, c, budget)
	if err != nil {
		return err
	}
	for menu, rows := range before {
		if len(after[menu]) != len(rows) {
			return fmt.Errorf("read back: %s has %d items, had %d", menu, len(after[menu]), len(rows))
		}
		for id, was := range rows {
			for _, k := range p.restoredKeys(menu) {
				if after[menu][id][k] != was[k] {
					return fmt.Errorf("read back: %s %s %s is %q, was %q", menu, id, k, after[menu][id][k], was[k])
				}
			}
		}
	}
	return nil
}

// undoWords are the changes that bring now back to before: an item added
// is removed, an item changed gets its properties back (one unset before
// is cleared with an empty value).
func (p *Plan) undoWords(before, now snapshot) [][]string {
	var out [][]string
	for menu, rows := range now {
		for id, row := range rows {
			was, existed := before[menu][id]
			if !existed {
				out = append(out, []string{menu + "/remove", "=.id=" + id})
				continue
			}
			words := []string{menu + "/set", "=.id=" + id}
			for _, k := range p.restoredKeys(menu) {
				if row[k] != was[k] {
					words = append(words, "="+k+"="+was[k])
				}
			}
			if len(words) > 2 {
				out = append(out, words)
			}
		}
	}
	return out
}

// restoredKeys are the properties setup writes in a menu, which a rollback
// puts back.
func (p *Plan) restoredKeys(menu string) []string {
	keys := []string{"disabled", "comment"}
	items, _ := p.setup.items(p.Caps)
	for _, it := range items {
		if it.menu != menu {
			continue
		}
		for _, pr := range append(slices.Clone(it.props), it.addOnly...) {
			if !slices.Contains(keys, pr.key) {
				keys = append(keys, pr.key)
			}
		}
	}
	return keys
}
