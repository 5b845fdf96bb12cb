// Sounds generated in the page with Web Audio: no files, works offline.
// success: a short rising major triad; attention: two equal mid beeps;
// deny: a low falling buzz. Each is distinct in pitch, rhythm and timbre.

const patterns = {
  success: { wave: "sine", gain: 0.25, notes: [[660, 0, 0.09], [880, 0.1, 0.09], [1320, 0.2, 0.18]] },
  attention: { wave: "triangle", gain: 0.3, notes: [[740, 0, 0.14], [740, 0.22, 0.14]] },
  deny: { wave: "square", gain: 0.12, notes: [[220, 0, 0.18], [165, 0.2, 0.3]] },
};

let ctx = null;

function context() {
  if (!ctx) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    ctx = new AC();
  }
  if (ctx.state === "suspended") ctx.resume().catch(() => {});
  return ctx;
}

// unlock resumes audio after the first touch (browsers need a gesture
// unless the kiosk browser runs with --autoplay-policy=no-user-gesture-required).
export function unlock() {
  context();
}

let count = 0;

// play plays the named sound and records it on <body data-sound> so tests
// can see which sound a screen made.
export function play(name) {
  const p = patterns[name];
  if (!p) return;
  count++;
  document.body.dataset.sound = name;
  document.body.dataset.soundCount = String(count);
  const ac = context();
  if (!ac) return;
  const t0 = ac.currentTime + 0.01;
  for (const [freq, at, dur] of p.notes) {
    const osc = ac.createOscillator();
    const g = ac.createGain();
    osc.type = p.wave;
    osc.frequency.setValueAtTime(freq, t0 + at);
    g.gain.setValueAtTime(0.0001, t0 + at);
    g.gain.exponentialRampToValueAtTime(p.gain, t0 + at + 0.01);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + at + dur);
    osc.connect(g).connect(ac.destination);
    osc.start(t0 + at);
    osc.stop(t0 + at + dur + 0.02);
  }
}
