package door

import "sync"

// Update is one message for the screen.
type Update struct {
	Type     string // decision, done, staff
	ID       string // done: the decision or session that ended
	Decision *Result
	Staff    *StaffPanel // staff: nil when no staff session is open
}

// publisher fans updates out to the screens and hands each simulated tap
// its result. Sends never block: a subscriber that does not keep up loses
// updates (the screen resyncs from a snapshot), the door never waits on a
// screen. It has its own lock and calls nothing of the door.
type publisher struct {
	mu     sync.Mutex
	subs   map[chan Update]struct{}
	awaits map[string][]chan Result // reader+"\x00"+hash -> waiting sim taps
	// closed: the last staff update published said the panel is closed.
	// Every tap ends with the panel's state, which at a door without a
	// staff session is "closed" again and again: those repeats are not
	// sent (a screen that missed one resyncs from a snapshot, which
	// carries the panel's state).
	closed bool
}

func newPublisher() *publisher {
	return &publisher{subs: map[chan Update]struct{}{}, awaits: map[string][]chan Result{}}
}

func (p *publisher) subscribe() (<-chan Update, func()) {
	ch := make(chan Update, 64)
	p.mu.Lock()
	p.subs[ch] = struct{}{}
	p.mu.Unlock()
	return ch, func() {
		p.mu.Lock()
		if _, ok := p.subs[ch]; ok {
			delete(p.subs, ch)
			close(ch)
		}
		p.mu.Unlock()
	}
}

func (p *publisher) publish(u Update) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u.Type == "staff" {
		if u.Staff == nil && p.closed {
			return
		}
		p.closed = u.Staff == nil
	}
	for ch := range p.subs {
		select {
		case ch <- u:
		default: // slow subscriber: it resyncs
		}
	}
}

func (p *publisher) decision(r Result) { p.publish(Update{Type: "decision", Decision: &r}) }

func (p *publisher) await(key string) (<-chan Result, func()) {
	ch := make(chan Result, 1)
	p.mu.Lock()
	p.awaits[key] = append(p.awaits[key], ch)
	p.mu.Unlock()
	return ch, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		list := p.awaits[key]
		for i, c := range list {
			if c == ch {
				p.awaits[key] = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(p.awaits[key]) == 0 {
			delete(p.awaits, key)
		}
	}
}

func (p *publisher) resolve(key string, r Result) {
	p.mu.Lock()
	list := p.awaits[key]
	delete(p.awaits, key)
	p.mu.Unlock()
	for _, ch := range list {
		ch <- r // buffered, one each
	}
}

func awaitKey(reader, hash string) string { return reader + "\x00" + hash }

// Subscribe returns a channel of updates and a function that ends the
// subscription. A subscriber that does not keep up loses updates (the
// screen resyncs from a snapshot), the door never blocks on a screen.
func (s *Service) Subscribe() (<-chan Update, func()) { return s.pub.subscribe() }

// Await returns a channel that receives the result of the next tap of this
// card on this reader (the simulator's HTTP tap answers with it). cancel
// must be called when the caller stops waiting.
func (s *Service) Await(reader string, uid []byte) (<-chan Result, func()) {
	hash, _ := s.hash(uid)
	return s.pub.await(awaitKey(reader, hash))
}

// publishStaff publishes the staff panel; neither lock of the state held
// (the writer lock may be: it orders the publications).
func (s *Service) publishStaff() {
	s.mu.Lock()
	p := s.staffPanel()
	s.mu.Unlock()
	s.pub.publish(Update{Type: "staff", Staff: p})
}
