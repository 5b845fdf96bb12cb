package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/hw/readers"
)

// Config is kioskd's configuration file (JSON). Every key is documented in
// deploy/README.md; deploy/kioskd.example.json has all of them.
type Config struct {
	Listen     string        `json:"listen"`
	DataDir    string        `json:"data_dir"`
	DeviceName string        `json:"device_name"`
	Central    CentralConfig `json:"central"`
	// Readers are hw/readers configurations (kind, SPI, GPIO, evdev device,
	// role, poll interval, debounce, security tier, buzzer and LED pins).
	Readers []readers.Config `json:"readers"`
	// CalendarFile is the location's school calendar (attendance/calendar
	// JSON: country, region, free afternoons, school-free days, vacations).
	// Without it: the built-in calendar of the roster's country (NL midden).
	CalendarFile   string           `json:"calendar_file,omitempty"`
	StaffLockAfter readers.Duration `json:"staff_lock_after"`
	// UndoGuard: an adult's (or staff member's) tap that would undo their
	// own check-in/out (clock-in/out) within this long asks first; 0 disables.
	UndoGuard      readers.Duration `json:"undo_guard"`
	RetentionWeeks int              `json:"retention_weeks"`
	LogLevel       string           `json:"log_level"`
	// AllowedHosts are extra host names the kiosk's pages and APIs answer
	// to (besides loopback names and IPs and the listen host); any other
	// Host header is refused (DNS rebinding).
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
	// StaffScreens are the addresses (IPs or CIDRs) of screens on other
	// machines trusted with the staff panel, e.g. the door's screen when
	// it is a separate device. Screens on this machine always are; any
	// other screen that reaches the websocket sees the public screen only
	// and may not act.
	StaffScreens []string `json:"staff_screens,omitempty"`
}

// staffScreens parses StaffScreens (validated by Validate).
func (c Config) staffScreens() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range c.StaffScreens {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf(`config: key "staff_screens[%d]": %q: want an IP address or a CIDR such as 192.168.1.20 or 192.168.1.0/24`, i, s)
			}
			a = a.Unmap().WithZone("")
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p != p.Masked() {
			// "192.168.1.20/24" would trust the whole network.
			return nil, fmt.Errorf(`config: key "staff_screens[%d]": %q: host bits set: one screen is %q, its network %q`, i, s, p.Addr().String(), p.Masked().String())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// Peers are compared unmapped: ::ffff:10.1.2.0/120 is 10.1.2.0/24.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p)
	}
	return out, nil
}

// CentralConfig says where to sync.
type CentralConfig struct {
	URL            string `json:"url"`
	EnrolTokenFile string `json:"enrol_token_file"`
	CAFile         string `json:"ca_file"`
}

// DefaultConfig is the configuration without a file.
func DefaultConfig() Config {
	return Config{
		Listen:         "127.0.0.1:8080",
		DataDir:        "/var/lib/kinderdeur",
		StaffLockAfter: readers.Duration(60 * time.Second),
		UndoGuard:      readers.Duration(2 * time.Minute),
		RetentionWeeks: 6,
		LogLevel:       "info",
	}
}

// ParseConfig reads a JSON config over the defaults. Unknown keys and bad
// values are errors that name the key.
func ParseConfig(r io.Reader) (Config, error) {
	c := DefaultConfig()
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return c, fmt.Errorf("config: key %q: want %s", te.Field, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return c, fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return c, fmt.Errorf("config: %w", err)
	}
	return c, c.Validate()
}

// Validate checks values the JSON types do not.
func (c Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New(`config: key "listen": empty`))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New(`config: key "data_dir": empty`))
	}
	if c.RetentionWeeks < 6 {
		errs = append(errs, fmt.Errorf(`config: key "retention_weeks": %d is below the 6-week inspection minimum`, c.RetentionWeeks))
	}
	if c.UndoGuard < 0 {
		errs = append(errs, errors.New(`config: key "undo_guard": negative (0 disables the guard)`))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf(`config: key "log_level": %q: want debug, info, warn or error`, c.LogLevel))
	}
	if len(c.Readers) > 0 {
		if err := readers.ValidateSet(c.Readers); err != nil {
			errs = append(errs, fmt.Errorf("config: %w", err))
		}
	}
	if _, err := c.staffScreens(); err != nil {
		errs = append(errs, err)
	}
	if c.Central.URL != "" && !strings.HasPrefix(c.Central.URL, "http://") && !strings.HasPrefix(c.Central.URL, "https://") {
		errs = append(errs, fmt.Errorf(`config: key "central.url": %q: want an http(s) URL`, c.Central.URL))
	}
	return errors.Join(errs...)
}
