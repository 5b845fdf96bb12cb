// Package morningtest is the "morning at the door" model test's support
// code (issue 14): a reference model of who is physically in the building,
// simulated people with intentions who answer whatever the screen shows the
// way a real person would, and a generator of realistic mornings and
// evenings from a seed.
//
// It knows the door only through the public screen protocol (ui/PROTOCOL.md
// and the lead's spec /work/spec-door.md): a Driver taps cards and sends
// intents, and gets back what the glass shows (Screen). The door's own test
// (attendance/door, TestMorning) drives the real door, store and websocket
// hub; the browser test (ui/e2e, TestMorningGlass) drives kioskd and clicks
// the page. The physical model never reads the door's answers to decide what
// happened: a child enters or leaves only when the person who came for it
// does so, and only if the screen told them they may.
//
// How a person answers each kind of screen is one small function per screen
// kind (behave.go), so the model follows the protocol as it changes.
package morningtest
