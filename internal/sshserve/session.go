package sshserve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"

	"github.com/failwatch/failwatch/tui"
)

// The largest window a session's dashboard is drawn in: a bigger one
// costs the server memory and the link bytes on every frame and shows no
// more.
const (
	maxWidth  = 500
	maxHeight = 200
)

// clamp is the size a window is drawn at, and whether that is smaller.
func clamp(w ssh.Window) (width, height int, clamped bool) {
	width, height = min(w.Width, maxWidth), min(w.Height, maxHeight)
	return width, height, width != w.Width || height != w.Height
}

// dashboard runs the session's program until it quits or the session
// ends: the client closing the session's channel (which closes its
// window changes) or the connection going. Either kills the program, so
// no frame is drawn, and no event forwarded, for a session that is gone.
// A session ended by serve (idle, shutting down) is told why.
func (s *Server) dashboard(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		end := endingOf(sess)
		ctx, cancel := context.WithCancel(sess.Context())
		defer cancel()
		pty, windows, _ := sess.Pty()
		width, height, _ := clamp(pty.Window)
		p := s.program(ctx, sess, width, height, end)
		go func() {
			wasClamped := false
			for {
				select {
				case <-ctx.Done():
					return
				case <-s.stopping:
					end.set(endShutdown)
					p.Quit()
					return
				case w, open := <-windows:
					if !open {
						end.set(endClient)
						cancel()
						return
					}
					width, height, clamped := clamp(w)
					p.Send(tea.WindowSizeMsg{Width: width, Height: height})
					if clamped && !wasClamped {
						s.opts.Log.Info("ssh window clamped", "remote", sess.RemoteAddr().String(),
							"width", w.Width, "height", w.Height, "drawn_width", width, "drawn_height", height)
						p.Send(tui.NoteMsg{At: time.Now(), Source: "ssh", Text: fmt.Sprintf(
							"window %dx%d drawn at %dx%d, the most a session gets", w.Width, w.Height, width, height)})
					}
					wasClamped = clamped
				}
			}
		}()
		if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			s.opts.Log.Warn("ssh session dashboard failed", "remote", sess.RemoteAddr().String(), "err", err)
		}
		if sess.Context().Err() != nil {
			end.set(endClient)
		}
		end.set(endQuit)
		switch end.get() {
		case endIdle:
			wish.Println(sess, fmt.Sprintf("failwatch serve: no key pressed for %s (serve.idle_timeout): session closed", s.opts.Serve.IdleTimeout))
			sess.Exit(1)
		case endShutdown:
			wish.Println(sess, "failwatch serve is shutting down: session closed")
			sess.Exit(1)
		}
		next(sess)
	}
}

// program is one session's dashboard, width x height: the same TUI as the
// local one, on its own subscription while ctx lasts, read-only unless the
// roles middleware said otherwise, the wall layout for a wall user or
// "ssh -t host wall". A session idle (no key) for serve.idle_timeout ends,
// unless it is a wall.
func (s *Server) program(ctx context.Context, sess ssh.Session, width, height int, end *ending) *tea.Program {
	u := sessionUser(sess.Context())
	ui := s.opts.UI()
	ui.ReadOnly = ui.ReadOnly || readOnly(sess.Context())
	ui.Wall = u.Wall || slices.Equal(sess.Command(), []string{"wall"})
	act := &tui.EngineActions{Engine: s.opts.Engine, By: u.requester(ui.ReadOnly), ReadOnly: ui.ReadOnly}
	ui.Actions = act
	var lastKey atomic.Int64
	lastKey.Store(time.Now().UnixNano())
	noteKeys := tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
		if _, ok := msg.(tea.KeyPressMsg); ok {
			lastKey.Store(time.Now().UnixNano())
		}
		return msg
	})
	// The process's signals are the server's, not each session's.
	p := tea.NewProgram(tui.New(ui), append(bubbletea.MakeOptions(sess), tea.WithoutSignalHandler(), noteKeys,
		tea.WithWindowSize(width, height), tea.WithContext(ctx))...)
	act.Send = p.Send
	sub := s.opts.Engine.Subscribe(4096)
	go func() {
		tui.Forward(ctx, sub.C(), p.Send)
		sub.Close()
	}()
	if idle := s.opts.Serve.IdleTimeout; !ui.Wall && idle > 0 {
		go func() {
			t := time.NewTicker(min(idle/4, time.Minute))
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if time.Since(time.Unix(0, lastKey.Load())) > idle {
						end.set(endIdle)
						p.Quit()
						return
					}
				}
			}
		}()
	}
	return p
}
