package rosim

import "slices"

// Firewall rules are evaluated in print order, so where a rule stands
// matters as much as what it says: add takes place-before=ID, which puts
// the new rule just before the rule of that id instead of at the end
// (over the API: "=place-before=*4" on /ip/firewall/filter/add,
// https://forum.mikrotik.com/t/place-before-mikrotik-api/109934; "default
// add appends at the bottom",
// https://www.skills.sh/tikoci/routeros-skills/routeros-firewall). A menu
// whose order does not matter refuses it as any unknown parameter. An id
// that names no rule is refused (our wording: the router's is not
// documented) and nothing is added.

// orderedAdd adds an item, where place-before says in an ordered menu.
func (t *table) orderedAdd(attrs []attr) (string, *trap) {
	i := slices.IndexFunc(attrs, func(a attr) bool { return a.key == "place-before" })
	if i < 0 || !t.ordered {
		return t.add(attrs)
	}
	before := attrs[i].value
	at := slices.IndexFunc(t.rows, func(r row) bool { return r[".id"] == before })
	if at < 0 {
		return "", trapf(catValue, "no such item (place-before=%s)", before)
	}
	id, tr := t.add(slices.Delete(slices.Clone(attrs), i, i+1))
	if tr != nil {
		return "", tr
	}
	last := t.rows[len(t.rows)-1]
	t.rows = slices.Insert(t.rows[:len(t.rows)-1], at, last)
	return id, nil
}
