// Package sysclock tells the kiosk how far it may trust the wall clock.
//
// A Raspberry Pi has no real-time clock: after a power cut it boots with the
// time systemd-timesyncd saved at the last shutdown (or 1970) until NTP
// answers, and a kiosk by a door may have no network for days. The daemon
// never refuses a check-in because of that; instead every event carries a
// Stamp: the wall time, the time since boot, the boot id and whether the clock
// was synchronised, so central can correct or flag events of the same boot.
//
// Synchronisation is read from systemd-timesyncd's flag file
// (/run/systemd/timesync/synchronized) and, when that file is absent, from the
// kernel's NTP state (adjtimex(2), the STA_UNSYNC bit), which also covers
// chrony and ntpd.
package sysclock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Default locations on a systemd Linux system.
const (
	DefaultSyncedFile = "/run/systemd/timesync/synchronized"
	DefaultBootIDFile = "/proc/sys/kernel/random/boot_id"
)

// Kernel NTP status bits and states from <sys/timex.h>.
const (
	staUnsync = 0x0040 // STA_UNSYNC: clock not synchronised
	timeError = 5      // TIME_ERROR: clock not synchronised (return value)
)

// Sources of a Status.
const (
	SourceTimesyncd = "timesyncd" // the timesyncd flag file exists
	SourceKernel    = "kernel"    // adjtimex(2) status
	SourceNone      = "none"      // nothing could be read
)

// ErrUnsupported is returned by the kernel probes on systems without them.
var ErrUnsupported = errors.New("sysclock: not supported on this system")

// ErrBadBootID is returned when the boot id file does not hold a UUID.
var ErrBadBootID = errors.New("sysclock: malformed boot id")

// Kernel is what adjtimex(2) says about the system clock.
type Kernel struct {
	Status int // timex.status bits
	State  int // return value: TIME_OK, TIME_INS, ..., TIME_ERROR
}

// Synced reports whether the kernel considers the clock synchronised.
func (k Kernel) Synced() bool {
	return k.Status&staUnsync == 0 && k.State != timeError
}

// Status is the clock's synchronisation state at one moment.
type Status struct {
	Synced bool
	Source string // SourceTimesyncd, SourceKernel or SourceNone
	// Plausible is true when the wall clock is not before the floor (see
	// Options.Floor): a clock restored by timesyncd from its saved time is
	// plausible but not synchronised; 1970 is neither.
	Plausible bool
	Err       error // why the kernel could not be asked, when Source is SourceNone
}

// String is a short human form for logs and STATUS= lines.
func (s Status) String() string {
	switch {
	case s.Synced:
		return "clock synchronised (" + s.Source + ")"
	case s.Err != nil:
		return "clock state unknown: " + s.Err.Error()
	case s.Plausible:
		return "clock not synchronised (plausible)"
	default:
		return "clock not synchronised (implausible)"
	}
}

// Stamp is the honest-time record attached to every event.
type Stamp struct {
	Wall   time.Time
	MonoNS int64 // time since boot (CLOCK_BOOTTIME), nanoseconds
	BootID string
	Synced bool
}

// Options configures a Clock. The zero value uses the real system.
type Options struct {
	SyncedFile string // default DefaultSyncedFile
	BootIDFile string // default DefaultBootIDFile
	// Floor is the earliest wall time considered plausible; zero means
	// DefaultFloor. Pass the binary's build time when it is known.
	Floor time.Time
	// Adjtimex reads the kernel's NTP state; default is the real syscall.
	Adjtimex func() (Kernel, error)
	// SinceBoot reads the time since boot; default is CLOCK_BOOTTIME.
	SinceBoot func() (time.Duration, error)
	Now       func() time.Time // default time.Now
}

// DefaultFloor is the default earliest plausible wall time.
var DefaultFloor = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Clock reads the system clock's trustworthiness. Safe for concurrent use.
type Clock struct {
	syncedFile string
	bootIDFile string
	floor      time.Time
	adjtimex   func() (Kernel, error)
	sinceBoot  func() (time.Duration, error)
	now        func() time.Time

	bootOnce sync.Once
	bootID   string
	bootErr  error
}

// New returns a Clock for the given options.
func New(o Options) *Clock {
	c := &Clock{
		syncedFile: o.SyncedFile,
		bootIDFile: o.BootIDFile,
		floor:      o.Floor,
		adjtimex:   o.Adjtimex,
		sinceBoot:  o.SinceBoot,
		now:        o.Now,
	}
	if c.syncedFile == "" {
		c.syncedFile = DefaultSyncedFile
	}
	if c.bootIDFile == "" {
		c.bootIDFile = DefaultBootIDFile
	}
	if c.floor.IsZero() {
		c.floor = DefaultFloor
	}
	if c.adjtimex == nil {
		c.adjtimex = kernelAdjtimex
	}
	if c.sinceBoot == nil {
		c.sinceBoot = kernelSinceBoot
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Status reads the current synchronisation state. It never blocks on the
// network; it costs one stat and at most one system call.
func (c *Clock) Status() Status {
	st := Status{Plausible: !c.now().Before(c.floor)}
	// The flag file is a positive signal only: timesyncd creates it on its
	// first successful sync and it vanishes at reboot (/run is a tmpfs).
	// Absent or unreadable, the kernel decides (chrony, ntpd, or timesyncd
	// before its first sync).
	if _, err := os.Stat(c.syncedFile); err == nil {
		st.Synced, st.Source = true, SourceTimesyncd
		return st
	}
	k, err := c.adjtimex()
	if err != nil {
		st.Source = SourceNone
		st.Err = fmt.Errorf("sysclock: adjtimex: %w", err)
		return st
	}
	st.Synced, st.Source = k.Synced(), SourceKernel
	return st
}

// Synced is shorthand for Status().Synced.
func (c *Clock) Synced() bool { return c.Status().Synced }

// BootID returns this boot's id (a UUID), read once and cached.
func (c *Clock) BootID() (string, error) {
	c.bootOnce.Do(func() {
		b, err := os.ReadFile(c.bootIDFile)
		if err != nil {
			c.bootErr = fmt.Errorf("sysclock: boot id: %w", err)
			return
		}
		c.bootID, c.bootErr = ParseBootID(string(b))
	})
	return c.bootID, c.bootErr
}

// SinceBoot returns the time since boot, including time spent suspended.
func (c *Clock) SinceBoot() (time.Duration, error) {
	d, err := c.sinceBoot()
	if err != nil {
		return 0, fmt.Errorf("sysclock: time since boot: %w", err)
	}
	return d, nil
}

// Stamp records now. Parts that cannot be read are left empty (boot id) or
// zero (MonoNS) and the error says which; a stamp is always returned so that
// a tap is never refused because of the clock.
func (c *Clock) Stamp() (Stamp, error) {
	s := Stamp{Wall: c.now()}
	var errs []error
	if d, err := c.SinceBoot(); err != nil {
		errs = append(errs, err)
	} else {
		s.MonoNS = int64(d)
	}
	if id, err := c.BootID(); err != nil {
		errs = append(errs, err)
	} else {
		s.BootID = id
	}
	s.Synced = c.Status().Synced
	return s, errors.Join(errs...)
}

var bootIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ParseBootID validates the content of /proc/sys/kernel/random/boot_id: a
// lower-case UUID and a trailing newline.
func ParseBootID(s string) (string, error) {
	id := strings.TrimSpace(s)
	if !bootIDPattern.MatchString(id) {
		return "", fmt.Errorf("%w: %q", ErrBadBootID, truncate(id, 40))
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Watch polls the clock every interval until ctx is done and calls onChange
// with the first status and then with each status whose Synced, Source or
// Plausible differs from the previous one. It returns nil when ctx is
// cancelled. Run it in a goroutine owned by the daemon to log the change and
// to show (or clear) the staff warning; it never holds up a check-in.
func (c *Clock) Watch(ctx context.Context, interval time.Duration, onChange func(Status)) error {
	if interval <= 0 {
		return fmt.Errorf("sysclock: watch interval %v must be positive", interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var prev Status
	first := true
	for {
		st := c.Status()
		if first || st.Synced != prev.Synced || st.Source != prev.Source || st.Plausible != prev.Plausible {
			onChange(st)
			prev, first = st, false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// WaitSynced blocks until the clock is synchronised or ctx is done, polling
// every interval, like gokrazy's WaitForClock. It is for tools and start-up
// logging that want to wait; the daemon must not put it in front of taps.
// It returns the last status and ctx.Err() when ctx ends first.
func (c *Clock) WaitSynced(ctx context.Context, interval time.Duration) (Status, error) {
	if interval <= 0 {
		return Status{}, fmt.Errorf("sysclock: wait interval %v must be positive", interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st := c.Status()
		if st.Synced {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-t.C:
		}
	}
}
