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

	waits   int // WaitForEdge calls, for tests
	zeros   int // WaitForEdge(0) calls
	outs    []gpio.Level
	edgeCnt int
}

// NewPin returns a free-standing pin (for example a reset line that is not
// connected to anything).
func NewPin(name string, num int) *Pin {
	return &Pin{name: name, num: num, level: gpio.High, edges: make(chan struct{}, 1), halt: make(chan struct{})}
}

var _ gpio.PinIO = (*Pin)(nil)
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
	p.waits++
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
	p.outs = append(p.outs, l)
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

// drive sets the line level and queues an edge if the configured edge
// detection matches.
func (p *Pin) drive(l gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.level == l {
		return
	}
	p.level = l
	p.edgeCnt++
	match := p.edge == gpio.BothEdges || (p.edge == gpio.FallingEdge && l == gpio.Low) || (p.edge == gpio.RisingEdge && l == gpio.High)
	if !match {
		return
	}
	select {
	case p.edges <- struct{}{}:
	default: // coalesced with the pending edge
	}
}

// Waits reports how often WaitForEdge was called.
func (p *Pin) Waits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waits
}

// ZeroWaits reports how often WaitForEdge was called with a zero timeout.
func (p *Pin) ZeroWaits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.zeros
}

// Edges reports how many level changes the line has seen.
func (p *Pin) Edges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.edgeCnt
}

// Outs returns the levels driven with Out, in order.
func (p *Pin) Outs() []gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]gpio.Level(nil), p.outs...)
}
