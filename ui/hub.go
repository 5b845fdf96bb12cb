package ui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// Protocol limits (STYLE.md item 13).
const (
	protocolVersion = 1
	writeWait       = 5 * time.Second
	pongWait        = 30 * time.Second
	pingPeriod      = 20 * time.Second
	maxMessage      = 8 << 10
	sendBuffer      = 32
)

// hub fans the door's updates out to every connected screen. It is owned by
// Server.Run: one goroutine reads the door, each connection has one read
// pump and one write pump, and a connection that cannot keep up is dropped
// (the page reconnects and resyncs from a snapshot).
type hub struct {
	srv      *Server
	upgrader websocket.Upgrader

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup
	ctx   context.Context
}

type conn struct {
	ws   *websocket.Conn
	send chan []byte
	once sync.Once
}

func (c *conn) close() { c.once.Do(func() { close(c.send) }) }

func newHub(s *Server) *hub {
	h := &hub{srv: s, conns: map[*conn]struct{}{}, ctx: context.Background()}
	h.upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, CheckOrigin: checkOrigin}
	return h
}

// checkOrigin accepts pages served by this daemon (same host) and clients
// that send no Origin (curl, tests); a page from another site may not
// drive the door.
func checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return u.Host == r.Host
}

func (h *hub) run(ctx context.Context) error {
	h.mu.Lock()
	h.ctx = ctx
	h.mu.Unlock()
	updates, cancel := h.srv.cfg.Door.Subscribe()
	defer cancel()
	status := time.NewTicker(5 * time.Second)
	defer status.Stop()
	var lastStatus []byte
	for {
		select {
		case <-ctx.Done():
			h.mu.Lock()
			for c := range h.conns {
				c.close()
			}
			h.mu.Unlock()
			h.wg.Wait()
			return nil
		case u, ok := <-updates:
			if !ok {
				return nil
			}
			h.broadcast(message(u))
		case <-status.C:
			b := mustJSON(map[string]any{"v": protocolVersion, "type": "status", "status": h.srv.statusNow()})
			if string(b) != string(lastStatus) {
				h.broadcast(b)
				lastStatus = b
			}
		}
	}
}

func message(u door.Update) []byte {
	m := map[string]any{"v": protocolVersion, "type": u.Type}
	switch u.Type {
	case "decision":
		m["decision"] = viewPtr(u.Decision)
	case "done":
		m["id"] = u.ID
	case "staff":
		m["staff"] = staffViewOf(u.Staff)
	}
	return mustJSON(m)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own message types always encode
	}
	return b
}

func (h *hub) broadcast(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		select {
		case c.send <- b:
		default:
			// Too slow: drop it; the page reconnects and resyncs.
			delete(h.conns, c)
			c.close()
		}
	}
}

func (h *hub) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &conn{ws: ws, send: make(chan []byte, sendBuffer)}
	snap := h.srv.cfg.Door.Snapshot()
	status := h.srv.statusNow()
	c.send <- mustJSON(map[string]any{
		"v": protocolVersion, "type": "snapshot", "location": snap.Location, "tz": snap.TimeZone, "demo": h.srv.cfg.Sim != nil,
		"time": time.Now(), "clock_synced": status.ClockSynced, "status": status,
		"decision": viewPtr(snap.Decision), "staff": staffViewOf(snap.Staff),
	})
	h.mu.Lock()
	if h.ctx.Err() != nil {
		h.mu.Unlock()
		ws.Close()
		return
	}
	h.conns[c] = struct{}{}
	h.wg.Add(2)
	h.mu.Unlock()
	go h.writePump(c)
	go h.readPump(c)
}

func (h *hub) drop(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	c.close()
}

func (h *hub) writePump(c *conn) {
	defer h.wg.Done()
	ping := time.NewTicker(pingPeriod)
	defer func() {
		ping.Stop()
		c.ws.Close()
	}()
	for {
		select {
		case b, ok := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
				return
			}
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				h.drop(c)
				return
			}
		case <-ping.C:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				h.drop(c)
				return
			}
		}
	}
}

func (h *hub) readPump(c *conn) {
	defer h.wg.Done()
	defer h.drop(c)
	c.ws.SetReadLimit(maxMessage)
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		if reply := h.handle(b); reply != nil {
			select {
			case c.send <- reply:
			default:
			}
		}
	}
}

// Intent is a message from the page (PROTOCOL.md, "Page -> server").
type Intent struct {
	V        int      `json:"v"`
	Type     string   `json:"type"`
	Session  string   `json:"session,omitempty"`
	Children []string `json:"children,omitempty"`
	IDType   string   `json:"id_type,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	PIN      string   `json:"pin,omitempty"`
	Action   string   `json:"action,omitempty"`
	ChildID  string   `json:"child_id,omitempty"`
	StaffID  string   `json:"staff_id,omitempty"`
	// confirm: to whom staff release the children (a roster person, or a
	// name with id_type checked); required for a child who asked alone.
	ReleasedTo string `json:"released_to,omitempty"`
	PersonName string `json:"person_name,omitempty"`
}

// ParseIntent decodes and validates a message from the page.
func ParseIntent(b []byte) (Intent, error) {
	var in Intent
	if err := json.Unmarshal(b, &in); err != nil {
		return in, errors.New("bad JSON")
	}
	if in.V != protocolVersion {
		return in, errors.New("unsupported protocol version")
	}
	switch in.Type {
	case "select", "cancel", "confirm", "refuse":
		if in.Session == "" {
			return in, errors.New(in.Type + ": missing session")
		}
	case "pin":
		if in.PIN == "" || len(in.PIN) > 12 {
			return in, errors.New("pin: want 1 to 12 digits")
		}
	case "manual":
		if in.Action == "" {
			return in, errors.New("manual: missing action")
		}
	case "lock", "activity":
	default:
		return in, errors.New("unknown message type")
	}
	if len(in.PersonName) > 100 || len(in.ReleasedTo) > 100 {
		return in, errors.New("confirm: released_to or person_name too long")
	}
	if len(in.Reason) > 500 {
		return in, errors.New("reason: too long")
	}
	return in, nil
}

// handle carries out one intent and returns an error message for the page,
// or nil.
func (h *hub) handle(b []byte) []byte {
	in, err := ParseIntent(b)
	if err == nil {
		d := h.srv.cfg.Door
		ctx := h.ctx
		switch in.Type {
		case "select":
			_, err = d.Select(ctx, in.Session, in.Children)
		case "cancel":
			err = d.Cancel(in.Session)
		case "confirm":
			_, err = d.ConfirmTo(ctx, in.Session, in.Children, in.IDType, in.Reason, rules.Handover{PersonID: in.ReleasedTo, Name: in.PersonName})
		case "refuse":
			err = d.Refuse(ctx, in.Session, in.Reason)
		case "pin":
			err = d.PIN(in.PIN)
		case "manual":
			subject := in.ChildID
			if subject == "" {
				subject = in.StaffID
			}
			err = d.Manual(ctx, in.Action, subject, in.Reason)
		case "lock":
			d.Lock()
		case "activity":
			d.Activity()
		}
	}
	if err == nil {
		return nil
	}
	h.srv.log.Info("screen intent refused", "type", in.Type, "err", err)
	msg := map[string]any{"v": protocolVersion, "type": "error", "error": err.Error()}
	if errors.Is(err, door.ErrStateChanged) {
		msg["reason"] = rules.ReasonStateChanged
	}
	return mustJSON(msg)
}
