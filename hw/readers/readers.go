// Package readers turns the kiosk's reader configuration into running
// hw.Readers: RC522 modules on SPI (through periph's host drivers), USB
// keyboard-wedge readers (evdev) and simulated readers for the demo. It
// validates the configuration up front with errors that name the bad key.
package readers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/feedback"
	"github.com/kinderdeur/kiosk/hw/hid"
	"github.com/kinderdeur/kiosk/hw/rc522"
	"github.com/kinderdeur/kiosk/hw/simreader"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"
)

// Duration is a time.Duration written as "25ms" in JSON: the one duration
// type of the kiosk's configuration (kioskd's own keys use it too).
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string; null leaves d as it is. A
// value that is not a string is a *json.UnmarshalTypeError, so decoders
// name the key.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[Duration]()}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: want e.g. 60s or 30ms", s)
	}
	*d = Duration(v)
	return nil
}

// jsonKind names the kind of a JSON value for a type error.
func jsonKind(b []byte) string {
	switch bytes.TrimSpace(b)[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Config is one reader in the kiosk configuration.
type Config struct {
	Name string                `json:"name"`
	Kind string                `json:"kind"` // "rc522", "hid" or "sim"
	Role attendance.ReaderRole `json:"role"`

	// rc522
	SPI      string   `json:"spi,omitempty"`   // periph SPI device: "SPI0.0", "SPI0.1", "SPI1.0"
	IRQ      string   `json:"irq,omitempty"`   // GPIO name, e.g. "GPIO24"; empty polls the chip
	Reset    string   `json:"reset,omitempty"` // GPIO name, e.g. "GPIO25"
	SpeedHz  int64    `json:"speed_hz,omitempty"`
	FieldOff bool     `json:"field_off,omitempty"` // antenna off between polls (readers side by side)
	Poll     Duration `json:"poll_interval,omitempty"`

	// hid
	Device string `json:"device,omitempty"` // /dev/input/eventN or a /dev/input/by-id name
	Format string `json:"format,omitempty"` // "auto", "hex", "dec", "dec-le"

	// Debounce: a card back within this after leaving is the same tap;
	// unset means 500ms, "0s" means none.
	Debounce *Duration `json:"debounce,omitempty"`
	Security string    `json:"security,omitempty"` // "any", "no-random", "ntag-original"

	// feedback (optional)
	Buzzer        string `json:"buzzer,omitempty"` // GPIO name
	LED           string `json:"led,omitempty"`    // GPIO name
	FeedbackLowOn bool   `json:"feedback_active_low,omitempty"`
}

// File is the configuration file: {"readers": [...]}.
type File struct {
	Readers []Config `json:"readers"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Kind == "" {
		c.Kind = "rc522"
	}
	if c.Role == "" {
		c.Role = attendance.ReaderBoth
	}
	if c.Kind == "rc522" && c.SpeedHz == 0 {
		c.SpeedHz = 4_000_000
	}
	if c.Poll == 0 && c.Kind != "hid" {
		c.Poll = Duration(rc522.DefaultPollInterval)
	}
	if c.Debounce == nil {
		d := Duration(500 * time.Millisecond)
		c.Debounce = &d
	}
	if c.Security == "" {
		c.Security = string(rc522.SecurityNoRandom)
	}
	if c.Kind == "hid" && c.Format == "" {
		c.Format = string(hid.FormatAuto)
	}
}

var (
	spiName  = regexp.MustCompile(`^SPI[0-6]\.[0-2]$`)
	gpioName = regexp.MustCompile(`^GPIO([0-9]|1[0-9]|2[0-7])$`)
	nameRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

// FieldError is a validation error for one key.
type FieldError struct {
	Key string // e.g. "readers[1].spi"
	Msg string
}

func (e *FieldError) Error() string { return "readers: " + e.Key + ": " + e.Msg }

// Validate checks one reader; prefix names it in errors ("readers[0]").
func (c Config) Validate(prefix string) error {
	bad := func(key, format string, a ...any) error {
		return &FieldError{Key: prefix + "." + key, Msg: fmt.Sprintf(format, a...)}
	}
	if !nameRe.MatchString(c.Name) {
		return bad("name", "%q must be 1-32 lower-case letters, digits, - or _", c.Name)
	}
	switch c.Role {
	case attendance.ReaderIn, attendance.ReaderOut, attendance.ReaderBoth:
	default:
		return bad("role", "%q is not one of in, out, both", c.Role)
	}
	if !rc522.Security(c.Security).Valid() {
		return bad("security", "%q is not one of any, no-random, ntag-original", c.Security)
	}
	if c.Debounce != nil && *c.Debounce < 0 {
		return bad("debounce", "must not be negative")
	}
	for key, v := range map[string]string{"buzzer": c.Buzzer, "led": c.LED} {
		if v != "" && !gpioName.MatchString(v) {
			return bad(key, "%q is not a GPIO name like \"GPIO18\"", v)
		}
	}
	switch c.Kind {
	case "rc522":
		if !spiName.MatchString(c.SPI) {
			return bad("spi", "%q is not an SPI device name like \"SPI0.0\"", c.SPI)
		}
		for key, v := range map[string]string{"irq": c.IRQ, "reset": c.Reset} {
			if v != "" && !gpioName.MatchString(v) {
				return bad(key, "%q is not a GPIO name like \"GPIO24\"", v)
			}
		}
		if c.SpeedHz < 100_000 || c.SpeedHz > 10_000_000 {
			return bad("speed_hz", "%d is outside 100000..10000000 (the MFRC522 takes up to 10 MHz)", c.SpeedHz)
		}
		if c.Poll < Duration(5*time.Millisecond) || c.Poll > Duration(time.Second) {
			return bad("poll_interval", "%v is outside 5ms..1s", time.Duration(c.Poll))
		}
		if c.Device != "" {
			return bad("device", "is for kind hid, not rc522")
		}
	case "hid":
		if c.Device == "" {
			return bad("device", "is required for kind hid (/dev/input/eventN or a /dev/input/by-id name)")
		}
		if c.SPI != "" || c.IRQ != "" || c.Reset != "" {
			return bad("spi", "spi, irq and reset are for kind rc522, not hid")
		}
		if _, err := hid.ParseUID("00000000", hid.Format(c.Format)); err != nil && !errors.Is(err, hid.ErrBadUID) {
			return bad("format", "%q is not one of auto, hex, dec, dec-le", c.Format)
		}
		if c.Security == string(rc522.SecurityNTAGOriginal) {
			return bad("security", "ntag-original needs an rc522 reader (a keyboard reader only types the UID)")
		}
	case "sim":
		if c.Poll < Duration(time.Millisecond) || c.Poll > Duration(time.Second) {
			return bad("poll_interval", "%v is outside 1ms..1s", time.Duration(c.Poll))
		}
	default:
		return bad("kind", "%q is not one of rc522, hid, sim", c.Kind)
	}
	return nil
}

// ParseConfig reads a configuration file, applies defaults and validates
// every reader and the set (unique names, no SPI device or GPIO used twice).
func ParseConfig(r io.Reader) ([]Config, error) {
	var raw struct {
		Readers []json.RawMessage `json:"readers"`
	}
	// Other top-level keys are allowed: this reads kioskd's own config file
	// (which checks its keys itself) as well as a bare {"readers": [...]}.
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("readers: %w", err)
	}
	if len(raw.Readers) == 0 {
		return nil, &FieldError{Key: "readers", Msg: "no readers configured"}
	}
	var f File
	for i, b := range raw.Readers {
		c, err := decodeReader(b, fmt.Sprintf("readers[%d]", i))
		if err != nil {
			return nil, err
		}
		f.Readers = append(f.Readers, c)
	}
	if err := ValidateSet(f.Readers); err != nil {
		return nil, err
	}
	return f.Readers, nil
}

// ValidateSet applies defaults to every reader and validates it and the set:
// unique names, no SPI device, GPIO line or input device used twice.
func ValidateSet(cfgs []Config) error {
	names := map[string]bool{}
	used := map[string]string{}
	claim := func(res, key string) error {
		if res == "" {
			return nil
		}
		if prev, ok := used[res]; ok {
			return &FieldError{Key: key, Msg: fmt.Sprintf("%s is already used by %s", res, prev)}
		}
		used[res] = key
		return nil
	}
	for i := range cfgs {
		c := &cfgs[i]
		c.Defaults()
		p := fmt.Sprintf("readers[%d]", i)
		if err := c.Validate(p); err != nil {
			return err
		}
		if names[c.Name] {
			return &FieldError{Key: p + ".name", Msg: fmt.Sprintf("%q is used twice", c.Name)}
		}
		names[c.Name] = true
		for _, x := range []struct{ res, key string }{
			{c.SPI, p + ".spi"}, {c.IRQ, p + ".irq"}, {c.Reset, p + ".reset"},
			{c.Buzzer, p + ".buzzer"}, {c.LED, p + ".led"}, {c.Device, p + ".device"},
		} {
			if err := claim(x.res, x.key); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeReader decodes one reader object, naming the key that fails.
func decodeReader(b []byte, p string) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&c)
	if err == nil {
		return c, nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return c, &FieldError{Key: p + "." + te.Field, Msg: fmt.Sprintf("wrong type (%s)", te.Value)}
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) == nil {
		for _, k := range []string{"poll_interval", "debounce"} {
			if v, ok := keys[k]; ok {
				var d Duration
				if derr := d.UnmarshalJSON(v); derr != nil {
					return c, &FieldError{Key: p + "." + k, Msg: derr.Error()}
				}
			}
		}
	}
	return c, fmt.Errorf("readers: %s: %w", p, err)
}

// ParseConfigBytes is ParseConfig on a byte slice.
func ParseConfigBytes(b []byte) ([]Config, error) { return ParseConfig(bytes.NewReader(b)) }

var hostInit = sync.OnceValue(func() error {
	if _, err := host.Init(); err != nil {
		return fmt.Errorf("readers: periph host init: %w", err)
	}
	return nil
})

// bus is the SPI bus of a device name: SPI0.1 -> SPI0.
func bus(dev string) string { b, _, _ := strings.Cut(dev, "."); return b }

// Open opens one reader. For rc522 it initialises periph's host drivers and
// opens the SPI port and GPIO lines; the chip itself is checked by Run, so
// an unplugged module is a health state, not a start-up failure.
func Open(cfg Config) (hw.Reader, error) {
	s, err := OpenAll([]Config{cfg}, nil)
	if err != nil {
		return nil, err
	}
	return s.Readers[0], nil
}

// Set is the opened readers with their roles and feedback outputs.
type Set struct {
	Readers  []hw.Reader
	Roles    map[string]attendance.ReaderRole // by reader name
	Feedback map[string]*feedback.Feedback    // by reader name, only where fitted
	ports    []spi.PortCloser
}

// Close releases the SPI ports. Call after every Run has returned.
func (s *Set) Close() error {
	var errs []error
	for _, p := range s.ports {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// OpenAll opens every configured reader; rc522 readers on the same SPI bus
// share a turn so they are polled one after the other.
func OpenAll(cfgs []Config, onEvent func(rc522.Event)) (*Set, error) {
	s := &Set{Roles: map[string]attendance.ReaderRole{}, Feedback: map[string]*feedback.Feedback{}}
	turns := map[string]*rc522.Turn{}
	fail := func(err error) (*Set, error) { s.Close(); return nil, err }
	for i, c := range cfgs {
		c.Defaults()
		p := fmt.Sprintf("readers[%d]", i)
		if err := c.Validate(p); err != nil {
			return fail(err)
		}
		var r hw.Reader
		switch c.Kind {
		case "sim":
			r = simreader.New(c.Name, simreader.WithPollInterval(time.Duration(c.Poll)),
				simreader.WithDebounce(debounceOrNone(*c.Debounce)), simreader.WithSecurity(rc522.Security(c.Security)),
				simreader.WithOnEvent(onEvent))
		case "hid":
			h, err := hid.New(hid.Config{Name: c.Name, Device: c.Device, Format: hid.Format(c.Format), Debounce: time.Duration(*c.Debounce)})
			if err != nil {
				return fail(err)
			}
			r = h
		case "rc522":
			if err := hostInit(); err != nil {
				return fail(err)
			}
			port, err := spireg.Open(c.SPI)
			if err != nil {
				return fail(&FieldError{Key: p + ".spi", Msg: fmt.Sprintf("open %s: %v (is SPI enabled with dtparam=spi=on?)", c.SPI, err)})
			}
			s.ports = append(s.ports, port)
			rc := rc522.Config{
				Name: c.Name, Port: port, Speed: physic.Frequency(c.SpeedHz) * physic.Hertz,
				PollInterval: time.Duration(c.Poll), Debounce: debounceOrNone(*c.Debounce),
				Security: rc522.Security(c.Security), FieldOff: c.FieldOff, OnEvent: onEvent,
			}
			if rc.Turn = turns[bus(c.SPI)]; rc.Turn == nil {
				rc.Turn = rc522.NewTurn()
				turns[bus(c.SPI)] = rc.Turn
			}
			if c.IRQ != "" {
				if rc.IRQ, err = pinByName(p+".irq", c.IRQ); err != nil {
					return fail(err)
				}
			}
			if c.Reset != "" {
				if rc.Reset, err = pinByName(p+".reset", c.Reset); err != nil {
					return fail(err)
				}
			}
			rr, err := rc522.New(rc)
			if err != nil {
				return fail(err)
			}
			r = rr
		}
		s.Readers = append(s.Readers, r)
		s.Roles[c.Name] = c.Role
		if c.Buzzer != "" || c.LED != "" {
			fb := feedback.Config{Name: c.Name, ActiveLow: c.FeedbackLowOn}
			if err := hostInit(); err != nil {
				return fail(err)
			}
			var err error
			if c.Buzzer != "" {
				if fb.Buzzer, err = pinByName(p+".buzzer", c.Buzzer); err != nil {
					return fail(err)
				}
			}
			if c.LED != "" {
				if fb.LED, err = pinByName(p+".led", c.LED); err != nil {
					return fail(err)
				}
			}
			s.Feedback[c.Name] = feedback.New(fb)
		}
	}
	return s, nil
}

func debounceOrNone(d Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return time.Duration(d)
}

func pinByName(key, name string) (gpio.PinIO, error) {
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, &FieldError{Key: key, Msg: fmt.Sprintf("no GPIO named %q on this board", name)}
	}
	return p, nil
}
