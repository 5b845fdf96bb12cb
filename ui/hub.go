package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kinderdeur/kiosk/attendance"
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
	// A screen sends an intent per touch at most (activity is throttled
	// to one per few seconds): 20 a second with bursts of 40 is far above
	// any finger, far below a flood.
	intentRate  = 20
	intentBurst = 40
)

// hub fans the door's updates out to every connected screen.
//
// One goroutine, the loop in run, owns the set of clients and the update
// sequence: it reads the door, numbers each message (seq), registers and
// unregisters clients, and builds every snapshot, so a snapshot's seq is
// exactly the last update it contains. It never blocks on a client: it
// queues with a non-blocking send, and a client whose queue is full is
// marked behind, skipped, and sent a fresh snapshot once its write pump
// has drained the queue. A client that cannot take even that is cut off
// by the write deadline, alone.
//
// Each connection has one read pump and one write pump. A client's send
// channel is never closed (no send can race a close); its done channel is
// closed once, by drop, and ends both pumps.
type hub struct {
	srv        *Server
	upgrader   websocket.Upgrader
	pongWait   time.Duration
	pingPeriod time.Duration

	ctx    context.Context // door calls; done when the loop has stopped
	cancel context.CancelFunc

	register   chan *client
	unregister chan *client
	resync     chan *client // a client wants a fresh snapshot
	seq        atomic.Uint64
	clients    atomic.Int64   // connected screens (the loop's set), for metrics
	wg         sync.WaitGroup // the pumps
}

type client struct {
	ws   *websocket.Conn
	send chan []byte   // never closed
	last chan []byte   // the answer before the server closes (1 slot; never closed)
	done chan struct{} // closed once by hub.drop
	once sync.Once
	// behind: the loop skipped a message for this client; it gets a
	// snapshot when its queue has drained (asked: it has asked for it).
	behind atomic.Bool
	asked  atomic.Bool
	// staff: a screen on this machine or listed in Config.StaffScreens;
	// it gets the staff panel and may act. Any other screen sees the
	// public screen only.
	staff bool
}

// queue hands m to the client's write pump without waiting; false when
// the queue is full or the client is gone.
func (c *client) queue(m []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- m:
		return true
	default:
		return false
	}
}

func newHub(s *Server) *hub {
	h := &hub{srv: s, pongWait: pongWait, pingPeriod: pingPeriod,
		register: make(chan *client), unregister: make(chan *client), resync: make(chan *client)}
	h.ctx, h.cancel = context.WithCancel(context.Background())
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
	return strings.EqualFold(u.Host, r.Host)
}

func (h *hub) run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, h.cancel)
	defer stop()
	clients := map[*client]struct{}{}
	defer func() {
		h.clients.Store(0)
		h.cancel() // from here on nobody waits for the loop
		for c := range clients {
			h.drop(c)
		}
		h.wg.Wait()
	}()
	updates, cancel := h.srv.cfg.Door.Subscribe()
	defer cancel()
	status := time.NewTicker(5 * time.Second)
	defer status.Stop()
	var lastStatus []byte
	lagged := false
	for {
		select {
		case <-h.ctx.Done():
			return nil
		case c := <-h.register:
			clients[c] = struct{}{}
			h.clients.Store(int64(len(clients)))
			h.wg.Add(2)
			go h.writePump(c)
			go h.readPump(c)
			h.sendSnapshot(c)
		case c := <-h.unregister:
			delete(clients, c)
			h.clients.Store(int64(len(clients)))
		case c := <-h.resync:
			if _, ok := clients[c]; ok {
				h.sendSnapshot(c)
			}
		case u, ok := <-updates:
			if !ok {
				return nil
			}
			// The door drops updates for a subscriber whose buffer is
			// full: if it was, resync every screen once caught up.
			if cap(updates) > 0 && len(updates) >= cap(updates)-1 {
				lagged = true
			}
			b := message(u)
			if u.Type == "staff" && u.Staff != nil {
				// The same step for every screen; the panel only for staff
				// screens, the others learn that it is closed to them.
				pub := message(door.Update{Type: "staff"})
				h.broadcastSplit(clients, func(seq uint64) []byte { return withSeq(b, seq) }, func(seq uint64) []byte { return withSeq(pub, seq) })
			} else {
				h.broadcast(clients, func(seq uint64) []byte { return withSeq(b, seq) })
			}
			if lagged && len(updates) == 0 {
				lagged = false
				h.srv.log.Warn("screen updates lagged behind the door: resyncing every screen")
				for c := range clients {
					h.sendSnapshot(c)
				}
			}
		case <-status.C:
			st := mustJSON(h.srv.statusNow())
			if string(st) != string(lastStatus) {
				lastStatus = st
				h.broadcast(clients, func(seq uint64) []byte {
					return mustJSON(map[string]any{"v": protocolVersion, "type": "status", "seq": seq, "status": json.RawMessage(st)})
				})
			}
		}
	}
}

// broadcast numbers the next message and queues it for every client that
// is not behind; loop only.
func (h *hub) broadcast(clients map[*client]struct{}, msg func(seq uint64) []byte) {
	h.broadcastSplit(clients, msg, nil)
}

// broadcastSplit is broadcast with another form of the message for the
// screens that are not staff screens (nil: the same for all).
func (h *hub) broadcastSplit(clients map[*client]struct{}, msg, public func(seq uint64) []byte) {
	seq := h.seq.Add(1)
	b, pb := msg(seq), []byte(nil)
	if public != nil {
		pb = public(seq)
	}
	for c := range clients {
		if c.behind.Load() {
			continue // its snapshot will carry this
		}
		m := b
		if pb != nil && !c.staff {
			m = pb
		}
		if !c.queue(m) {
			h.markBehind(c)
		}
	}
}

// markBehind skips c until its queue has drained; loop only.
func (h *hub) markBehind(c *client) {
	select {
	case <-c.done:
		return // gone: its unregister is on the way
	default:
	}
	c.asked.Store(false)
	c.behind.Store(true)
	if len(c.send) == 0 {
		// The write pump drained the queue before it could see the
		// mark: it will not ask, so answer now.
		h.sendSnapshot(c)
	}
}

// sendSnapshot queues the door's state now, numbered with the last seq it
// contains; loop only.
func (h *hub) sendSnapshot(c *client) {
	snap := h.srv.cfg.Door.Snapshot()
	if !c.staff {
		snap.Staff = nil
	}
	status := h.srv.statusNow()
	b := mustJSON(map[string]any{
		"v": protocolVersion, "type": "snapshot", "seq": h.seq.Load(),
		"location": snap.Location, "tz": snap.TimeZone, "demo": h.srv.cfg.Sim != nil,
		"time": time.Now(), "clock_synced": status.ClockSynced, "status": status,
		"decision": viewPtr(snap.Decision), "staff": staffViewOf(snap.Staff),
	})
	c.behind.Store(false)
	if !c.queue(b) {
		c.asked.Store(false)
		c.behind.Store(true) // still full: the write pump asks again when drained
	}
}

// withSeq numbers a message: {"seq":N, ...the message's fields}.
func withSeq(msg []byte, seq uint64) []byte {
	return append(fmt.Appendf(nil, `{"seq":%d,`, seq), msg[1:]...)
}

// message is a door update as the page reads it (withSeq numbers it).
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

// errorMessage is the answer to a refused intent. Its seq is the last
// update sent: it is not a step of the update sequence.
func (h *hub) errorMessage(text string) []byte {
	return mustJSON(map[string]any{"v": protocolVersion, "type": "error", "seq": h.seq.Load(), "error": text})
}

// errorMessageReason is errorMessage with a machine-readable reason the
// page words (e.g. state_changed: the request changed under staff's hands).
func (h *hub) errorMessageReason(text, reason string) []byte {
	return mustJSON(map[string]any{"v": protocolVersion, "type": "error", "seq": h.seq.Load(), "error": text, "reason": reason})
}

// errViewOnly answers an intent from a screen that is not a staff screen.
var errViewOnly = errors.New("this screen shows the door and may not act: it is not on this machine or in staff_screens")

func (h *hub) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &client{ws: ws, send: make(chan []byte, sendBuffer), last: make(chan []byte, 1), done: make(chan struct{}),
		staff: h.srv.staffScreen(r)}
	select {
	case h.register <- c: // the loop starts the pumps
	case <-h.ctx.Done():
		ws.Close()
	case <-time.After(writeWait): // the hub is not running
		ws.Close()
	}
}

// drop ends the client's pumps and forgets it; any goroutine, any number
// of times.
func (h *hub) drop(c *client) {
	first := false
	c.once.Do(func() {
		close(c.done)
		first = true
	})
	if first {
		select {
		case h.unregister <- c:
		case <-h.ctx.Done():
		}
	}
}

// requestSnapshot asks the loop for a fresh snapshot for c.
func (h *hub) requestSnapshot(c *client) {
	select {
	case h.resync <- c:
	case <-c.done:
	case <-h.ctx.Done():
	}
}

func (h *hub) writePump(c *client) {
	defer h.wg.Done()
	ping := time.NewTicker(h.pingPeriod)
	defer func() {
		ping.Stop()
		c.ws.Close()
		h.drop(c)
	}()
	closeWith := func(code int, text string) {
		c.ws.SetWriteDeadline(time.Now().Add(writeWait))
		c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, text))
	}
	for {
		select {
		case <-c.done:
			closeWith(websocket.CloseGoingAway, "")
			return
		case b := <-c.last:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if c.ws.WriteMessage(websocket.TextMessage, b) == nil {
				closeWith(websocket.ClosePolicyViolation, "too many messages")
			}
			return
		case b := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				return // too slow or gone: dropped alone
			}
			if len(c.send) == 0 && c.behind.Load() && c.asked.CompareAndSwap(false, true) {
				h.requestSnapshot(c)
			}
		case <-ping.C:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

func (h *hub) readPump(c *client) {
	defer h.wg.Done()
	defer h.drop(c)
	c.ws.SetReadLimit(maxMessage)
	c.ws.SetReadDeadline(time.Now().Add(h.pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(h.pongWait)) })
	limit := newTokenBucket(h.srv.cfg.IntentRate, h.srv.cfg.IntentBurst, time.Now())
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(h.pongWait))
		if !limit.take(time.Now()) {
			h.srv.log.Warn("screen sent too many messages: closed", "remote", c.ws.RemoteAddr().String())
			c.last <- h.errorMessage(fmt.Sprintf("too many messages: at most %d a second", h.srv.cfg.IntentRate))
			select { // the write pump answers, then closes
			case <-c.done:
			case <-time.After(2 * writeWait):
			}
			return
		}
		var reply []byte
		if typ != websocket.TextMessage {
			reply = h.errorMessage("binary messages are not accepted")
		} else {
			reply = h.handle(c, b)
		}
		if reply != nil {
			c.queue(reply) // an answer to a client that does not read may be lost
		}
	}
}

// tokenBucket limits a client's messages: rate a second, bursts of burst.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newTokenBucket(rate, burst int, now time.Time) *tokenBucket {
	return &tokenBucket{rate: float64(rate), burst: float64(burst), tokens: float64(burst), last: now}
}

func (t *tokenBucket) take(now time.Time) bool {
	t.tokens = min(t.burst, t.tokens+now.Sub(t.last).Seconds()*t.rate)
	t.last = now
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
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
	// correct: kind set_check_in|set_check_out|add_stay|remove_stay, the
	// stay of today (TodayView.Stay), times HH:MM of today.
	Kind     string `json:"kind,omitempty"`
	Stay     string `json:"stay,omitempty"`
	CheckIn  string `json:"check_in,omitempty"`
	CheckOut string `json:"check_out,omitempty"`
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
	case "correct":
		if in.Kind == "" || strings.TrimSpace(in.Reason) == "" {
			return in, errors.New("correct: kind and reason required")
		}
	case "lock", "activity", "resync":
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

// handle carries out one intent of client c and returns an error message
// for the page, or nil.
func (h *hub) handle(c *client, b []byte) []byte {
	in, err := ParseIntent(b)
	if err == nil && !c.staff && in.Type != "resync" {
		err = errViewOnly
	}
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
		case "correct":
			cd, ok := d.(Corrector)
			if !ok {
				err = errors.New("correct: this door does not take corrections")
				break
			}
			err = cd.Correct(ctx, door.Correction{ChildID: in.ChildID, Kind: attendance.CorrectionKind(in.Kind), Target: in.Stay,
				CheckIn: in.CheckIn, CheckOut: in.CheckOut, Reason: in.Reason})
		case "lock":
			d.Lock()
		case "activity":
			d.Activity()
		case "resync":
			h.requestSnapshot(c)
		}
	}
	if err == nil {
		return nil
	}
	h.srv.log.Info("screen intent refused", "type", in.Type, "err", err)
	if errors.Is(err, door.ErrStateChanged) {
		return h.errorMessageReason(err.Error(), rules.ReasonStateChanged)
	}
	return h.errorMessage(err.Error())
}
