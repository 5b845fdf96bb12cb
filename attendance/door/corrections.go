package door

import (
	"context"
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// RemoteCorrections is what the door reads of the corrections made
// elsewhere (a manager at central, staff at another door) that the kiosk
// holds (*store.Store): a Store that has them folds them in on rebuild.
type RemoteCorrections interface {
	RemoteCorrections(ctx context.Context, since time.Time) ([]attendance.Event, error)
}

// remoteCorrectionWindow is how far back a rebuild reads corrections made
// elsewhere: only a correction of a stay still open can change presence.
const remoteCorrectionWindow = 72 * time.Hour

// ApplyCorrections folds corrections made elsewhere, already stored by the
// kiosk, into presence: a manager who ends a forgotten stay at central
// drops the child here. Corrections of stays not open here change nothing.
func (s *Service) ApplyCorrections(evs []attendance.Event) {
	if len(evs) == 0 {
		return
	}
	s.lockWriter()
	defer s.unlockWriter()
	s.mu.Lock()
	s.pres.apply(evs)
	s.three.feed(s.ix, s.pres.current(), evs)
	s.mu.Unlock()
	s.publishStaff()
}

// foldRemoteCorrections applies the stored corrections made elsewhere to a
// presence being rebuilt.
func (s *Service) foldRemoteCorrections(ctx context.Context, p *attendance.Presence) error {
	rc, ok := s.cfg.Store.(RemoteCorrections)
	if !ok {
		return nil
	}
	evs, err := rc.RemoteCorrections(ctx, s.cfg.Clock.Now().Add(-remoteCorrectionWindow))
	if err != nil {
		return fmt.Errorf("door: rebuild: corrections: %w", err)
	}
	for _, e := range evs {
		p.Apply(e)
	}
	return nil
}
