package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/internal/engine"
)

// dialog is a question before anything that changes the router or loses
// history, drawn over whatever is open. A dangerous one (alarm) is not
// answered by y: the server's name must be typed and enter pressed.
type dialog struct {
	c             *common
	width, height int
	text          string
	// q is the engine's question this dialog asks; none for a question
	// of the screen's own (a statistics reset).
	q engine.Question
	// redrawn is when the question was drawn again with another move.
	redrawn time.Time
	// run does it, on the model as it is when the answer is yes: what
	// changes the screen at once, and the request as a command.
	run func(*Model) tea.Cmd
	// alarm, when set, is why this one is dangerous; need is what must be
	// typed, typed what has been.
	alarm, need, typed string
}

func (d *dialog) SetSize(width, height int) { d.width, d.height = width, height }

func (d *dialog) ShortHelp() []key.Binding {
	if d.need != "" {
		return nil
	}
	return []key.Binding{d.c.keys.Confirm}
}

func (d *dialog) FullHelp() [][]key.Binding { return keyHelp(d.ShortHelp()) }

// answer takes a key: done when the question is closed, yes when it was
// answered yes (the name typed, for an alarm).
func (d *dialog) answer(msg tea.KeyPressMsg) (done, yes bool) {
	if d.need == "" {
		return true, key.Matches(msg, d.c.keys.Confirm)
	}
	switch msg.Code {
	case tea.KeyEnter:
		return true, d.typed == d.need
	case tea.KeyEscape:
		return true, false
	case tea.KeyBackspace:
		if d.typed != "" {
			d.typed = d.typed[:len(d.typed)-1]
		}
	default:
		if len(msg.Text) > 0 && len(d.typed) < 64 {
			d.typed += msg.Text
		}
	}
	return false, false
}

// View is the question in its frame, centred, wrapped to the frame: a long
// warning must not run off the screen.
func (d *dialog) View() string {
	st := d.c.styles
	text := st.Bold.Render(d.text+"?") + "\n\n" +
		st.Warn.Render("y") + " confirm   " + st.Muted.Render("any other key cancels")
	box := st.Dialog
	if d.need != "" {
		text = st.Bold.Render(d.text+"?") + "\n\n" + st.Bad.Render("WARNING: "+d.alarm) + "\n\n" +
			"type " + st.Bad.Render(d.need) + " and enter to confirm: " + st.Bold.Render(d.typed) + st.Muted.Render("_") + "\n" +
			st.Muted.Render("esc cancels")
		box = box.BorderForeground(st.Bad.GetForeground())
	}
	framed := box.Width(min(d.width-4, 72)).Render(text)
	return lipgloss.Place(d.width, max(d.height, lipgloss.Height(framed)), lipgloss.Center, lipgloss.Center, framed)
}
