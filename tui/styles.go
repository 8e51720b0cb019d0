package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/monitor"
)

// Styles is the one place colours and glyphs are chosen. Colours come in
// light/dark pairs; with NoColor every style is plain and emphasis comes
// from text and borders alone.
type Styles struct {
	NoColor bool

	Title, Muted, Bold, Demo, Flag lipgloss.Style
	Good, Bad, Warn, Info          lipgloss.Style
	Card, CardSelected             lipgloss.Style
	Dialog                         lipgloss.Style
	Lost                           lipgloss.Style
	// Series are the detail chart's lines, one per check.
	Series []lipgloss.Style
	Spark  lipgloss.Style
	Gap    lipgloss.Style

	Glyphs Glyphs
}

// Glyphs are the characters the screen is drawn with; ASCII mode swaps the
// Unicode blocks and box drawing for plain characters.
type Glyphs struct {
	Levels  []string // sparkline levels, low to high
	Lost    string   // a lost probe: its own glyph, never a gap
	Empty   string   // no sample yet
	Dot     string
	Sep     string
	Arrow   string
	Check   string
	Cross   string
	Ellipse string
	// Pointer marks the selected line of a list.
	Pointer string
	// The detail chart: its axes and ticks, the avg and p95 rows, and
	// whether lines are drawn in braille (else a * per cell).
	VAxis, VTick, HAxis, HTick, Corner string
	Dash, Dots                         string
	Braille                            bool
	Border                             lipgloss.Border
	Select                             lipgloss.Border
}

var unicodeGlyphs = Glyphs{
	Levels: []string{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"},
	Lost:   "✕", Empty: " ", Dot: "●", Sep: "·", Arrow: "→", Check: "✓", Cross: "✗", Ellipse: "…", Pointer: "▸",
	VAxis: "│", VTick: "┤", HAxis: "─", HTick: "┬", Corner: "└", Dash: "╌", Dots: "┈", Braille: true,
	Border: lipgloss.RoundedBorder(), Select: lipgloss.ThickBorder(),
}

var asciiGlyphs = Glyphs{
	Levels: []string{"_", ".", "-", "~", "=", "+", "*", "#"},
	Lost:   "X", Empty: " ", Dot: "*", Sep: "-", Arrow: "->", Check: "ok", Cross: "!!", Ellipse: "...", Pointer: ">",
	VAxis: "|", VTick: "+", HAxis: "-", HTick: "+", Corner: "+", Dash: "-", Dots: ".",
	Border: lipgloss.ASCIIBorder(), Select: lipgloss.Border{
		Top: "=", Bottom: "=", Left: "#", Right: "#",
		TopLeft: "#", TopRight: "#", BottomLeft: "#", BottomRight: "#",
	},
}

// NewStyles builds the styles for a dark or light background.
func NewStyles(isDark, noColor, ascii bool) Styles {
	g := unicodeGlyphs
	if ascii {
		g = asciiGlyphs
	}
	s := Styles{NoColor: noColor, Glyphs: g}
	plain := lipgloss.NewStyle()
	s.Card = plain.Border(g.Border).Padding(0, 1)
	s.CardSelected = plain.Border(g.Select).Padding(0, 1)
	s.Dialog = plain.Border(g.Select).Padding(1, 2)
	if noColor {
		s.Series = []lipgloss.Style{plain}
		s.Title, s.Muted, s.Bold, s.Demo, s.Flag = plain, plain, plain, plain, plain
		s.Good, s.Bad, s.Warn, s.Info, s.Lost, s.Spark, s.Gap = plain, plain, plain, plain, plain, plain, plain
		return s
	}
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	green, red, yellow := c("#1a7f37", "#3fb950"), c("#cf222e", "#f85149"), c("#9a6700", "#d29922")
	blue, magenta, gray := c("#0969da", "#58a6ff"), c("#8250df", "#bc8cff"), c("#57606a", "#8b949e")
	border := c("#8c959f", "#484f58")
	s.Title = plain.Bold(true).Foreground(blue)
	s.Muted = plain.Foreground(gray)
	s.Bold = plain.Bold(true)
	s.Demo = plain.Bold(true).Foreground(c("#ffffff", "#0d1117")).Background(magenta).Padding(0, 1)
	s.Flag = plain.Bold(true).Foreground(yellow)
	s.Good = plain.Bold(true).Foreground(green)
	s.Bad = plain.Bold(true).Foreground(red)
	s.Warn = plain.Bold(true).Foreground(yellow)
	s.Info = plain.Foreground(blue)
	s.Lost = plain.Bold(true).Foreground(red)
	s.Spark = plain.Foreground(green)
	s.Gap = plain.Foreground(yellow)
	s.Series = []lipgloss.Style{plain.Foreground(green), plain.Foreground(blue), plain.Foreground(magenta), plain.Foreground(yellow)}
	s.Card = s.Card.BorderForeground(border)
	s.CardSelected = s.CardSelected.BorderForeground(blue)
	s.Dialog = s.Dialog.BorderForeground(yellow)
	return s
}

// State styles a server or check state.
func (s Styles) State(st monitor.State) lipgloss.Style {
	switch st {
	case monitor.Up:
		return s.Good
	case monitor.Down:
		return s.Bad
	case monitor.Degraded, monitor.Unresolved:
		return s.Warn
	}
	return s.Muted
}

// level is how an event line is coloured.
type level int

const (
	muted level = iota
	info
	good
	bad
	warn
)

// Level styles an event line.
func (s Styles) Level(l level) lipgloss.Style {
	switch l {
	case info:
		return s.Info
	case good:
		return s.Good
	case bad:
		return s.Bad
	case warn:
		return s.Warn
	}
	return s.Muted
}
