package rc522

import (
	"bytes"
	"time"
)

// presence turns poll results into taps: a card resting on the reader is one
// tap; it is gone after misses consecutive polls without it; a card that
// left less than debounce ago and comes back is the same presence (a hand
// wobbling at the edge of the field), not a new tap.
type presence struct {
	debounce time.Duration
	misses   int // polls without the card before it counts as gone

	uid    []byte
	missed int
	left   map[string]time.Time // departed UIDs -> when last seen, kept for debounce
}

func newPresence(debounce time.Duration, misses int) *presence {
	if misses < 1 {
		misses = 1
	}
	return &presence{debounce: debounce, misses: misses, left: map[string]time.Time{}}
}

// seen records uid in the field at now and reports whether it is a new tap.
func (p *presence) seen(uid []byte, now time.Time) bool {
	p.prune(now)
	if p.uid != nil && bytes.Equal(p.uid, uid) {
		p.missed = 0
		return false
	}
	if p.uid != nil { // another card replaced the resting one
		p.depart(now)
	}
	p.uid = append([]byte(nil), uid...)
	p.missed = 0
	k := string(uid)
	if t, ok := p.left[k]; ok && now.Sub(t) < p.debounce {
		delete(p.left, k)
		return false
	}
	delete(p.left, k)
	return true
}

// empty records a poll that saw no card; it reports whether the resting
// card is now considered gone.
func (p *presence) empty(now time.Time) bool {
	p.prune(now)
	if p.uid == nil {
		return false
	}
	p.missed++
	if p.missed < p.misses {
		return false
	}
	p.depart(now)
	return true
}

func (p *presence) depart(now time.Time) {
	if p.debounce > 0 {
		p.left[string(p.uid)] = now
	}
	p.uid, p.missed = nil, 0
}

func (p *presence) prune(now time.Time) {
	for k, t := range p.left {
		if now.Sub(t) >= p.debounce {
			delete(p.left, k)
		}
	}
}

// resting returns the UID of the card on the reader, nil if none.
func (p *presence) resting() []byte { return p.uid }
