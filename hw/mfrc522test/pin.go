package mfrc522test

import (
	"errors"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Pin is a GPIO line wired to the simulated chip: the IRQ output (driven by
// the chip, read by the driver) or the NRSTPD reset input (driven by the
// driver). It implements gpio.PinIO so it can be handed to periph drivers.
//
// periph's gpiotest.Pin is not used because it pulls in a clock module the
// project does not depend on; this one also models the edge queue of the
// Linux GPIO character device that periph's host driver uses.
type Pin struct {
	name string
	num  int

	mu    sync.Mutex
	level gpio.Level
	pull  gpio.Pull
	edge  gpio.Edge
	edges chan struct{} // one pending edge at most, like the kernel's coalesced event
	halt  chan struct{}
	onOut func(gpio.Level)

	// ZeroWaitsForever makes WaitForEdge(0) block until an edge or Halt, as
	// periph's host GPIO does on current Pi kernels (periph/host#78). Tests
	// set it to show which drivers depend on WaitForEdge(0) returning.
	ZeroWaitsForever bool

	zeros  int        // WaitForEdge(0) calls
	stuck  bool       // the line holds level whatever drives it
	driven gpio.Level // what the chip or the driver last drove
}

// NewPin returns a free-standing pin (for example a reset line that is not
// connected to anything).
func NewPin(name string, num int) *Pin {
	return &Pin{name: name, num: num, level: gpio.High, driven: gpio.High, edges: make(chan struct{}, 1), halt: make(chan struct{})}
}

// SetStuck holds the line at l whatever drives it, as a broken wire with a
// pull-up or a driver configured on the wrong pin does: no level change, no
// edge. SetStuck(false, l) frees it (l unused); it then follows its driver again (an
// edge if the driven level differs).
func (p *Pin) SetStuck(stuck bool, l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stuck = stuck
	if stuck {
		p.setLocked(l)
	} else {
		p.setLocked(p.driven)
	}
}

var _ conn.Resource = (*Pin)(nil)

// String implements conn.Resource.
func (p *Pin) String() string { return p.name }

// Halt implements conn.Resource: it releases a blocked WaitForEdge.
func (p *Pin) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.halt:
	default:
		close(p.halt)
	}
	return nil
}

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin.
func (p *Pin) Number() int { return p.num }

// Function implements pin.Pin.
func (p *Pin) Function() string { return "GPIO" }

// In implements gpio.PinIn.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pull = pull
	p.edge = edge
	select { // like the kernel: reconfiguring drops pending events
	case <-p.edges:
	default:
	}
	return nil
}

// Read implements gpio.PinIn.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge implements gpio.PinIn. A negative timeout waits forever; zero
// returns at once unless ZeroWaitsForever is set.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	p.mu.Lock()
	if timeout == 0 {
		p.zeros++
	}
	forever := timeout < 0 || (timeout == 0 && p.ZeroWaitsForever)
	halt := p.halt
	p.mu.Unlock()
	if !forever && timeout == 0 {
		select {
		case <-p.edges:
			return true
		default:
			return false
		}
	}
	var after <-chan time.Time
	if !forever {
		t := time.NewTimer(timeout)
		defer t.Stop()
		after = t.C
	}
	select {
	case <-p.edges:
		return true
	case <-after:
		return false
	case <-halt:
		return false
	}
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.PullUp }

// Out implements gpio.PinOut.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	on := p.onOut
	p.mu.Unlock()
	p.drive(l)
	if on != nil {
		on(l)
	}
	return nil
}

// PWM implements gpio.PinOut.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("mfrc522test: PWM not supported on " + p.name)
}

// drive is the chip or the driver setting the line.
func (p *Pin) drive(l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.driven = l
	if !p.stuck {
		p.setLocked(l)
	}
}

// setLocked changes the line level and queues an edge if the configured
// edge detection matches. p.mu is held.
func (p *Pin) setLocked(l gpio.Level) {
	if p.level == l {
		return
	}
	p.level = l
	match := p.edge == gpio.BothEdges || (p.edge == gpio.FallingEdge && l == gpio.Low) || (p.edge == gpio.RisingEdge && l == gpio.High)
	if !match {
		return
	}
	select {
	case p.edges <- struct{}{}:
	default: // coalesced with the pending edge
	}
}

// ZeroWaits reports how often WaitForEdge was called with a zero timeout.
func (p *Pin) ZeroWaits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.zeros
}
