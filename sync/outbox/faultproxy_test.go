package outbox_test

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultProxy is a TCP proxy on loopback between the kiosk and central that
// misbehaves on purpose: it delays chunks, resets connections, cuts
// requests halfway and swallows answers after central has committed.
type faultProxy struct {
	ln       net.Listener
	upstream string

	mu  sync.Mutex
	rnd *rand.Rand
	// Probabilities per connection.
	pReset     float64 // reset before forwarding anything
	pCutReq    float64 // forward part of the request, then reset
	pCutResp   float64 // forward the whole request, swallow the answer, reset
	maxDelay   time.Duration
	cutAnswers atomic.Int32 // the next N answers are swallowed (lost acknowledgement)
	faults     atomic.Int32 // how many faults were injected

	wg    sync.WaitGroup
	conns sync.Map // open connections, closed at cleanup
}

func newFaultProxy(t *testing.T, upstream string, seed uint64) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, upstream: upstream, rnd: rand.New(rand.NewPCG(seed, seed))}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		p.wg.Wait()
	})
	return p
}

// setFaults sets the per-connection fault probabilities and the delay.
func (p *faultProxy) setFaults(pReset, pCutReq, pCutResp float64, maxDelay time.Duration) {
	p.mu.Lock()
	p.pReset, p.pCutReq, p.pCutResp, p.maxDelay = pReset, pCutReq, pCutResp, maxDelay
	p.mu.Unlock()
}

func (p *faultProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *faultProxy) float() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.Float64()
}

func (p *faultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c.(*net.TCPConn))
		}()
	}
}

func reset(c *net.TCPConn) {
	c.SetLinger(0) // close with RST
	c.Close()
}

func (p *faultProxy) handle(client *net.TCPConn) {
	p.mu.Lock()
	pReset, pCutReq, pCutResp, maxDelay := p.pReset, p.pCutReq, p.pCutResp, p.maxDelay
	p.mu.Unlock()
	r := p.float()
	if r < pReset {
		p.faults.Add(1)
		reset(client)
		return
	}
	up, err := net.DialTimeout("tcp", p.upstream, 2*time.Second)
	if err != nil {
		reset(client)
		return
	}
	upstream := up.(*net.TCPConn)
	p.conns.Store(client, true)
	p.conns.Store(upstream, true)
	defer p.conns.Delete(client)
	defer p.conns.Delete(upstream)
	cutReq := r >= pReset && r < pReset+pCutReq
	cutResp := r >= pReset+pCutReq && r < pReset+pCutReq+pCutResp
	done := make(chan struct{}, 2)
	// client -> central
	go func() {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 4096)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				if cutReq {
					upstream.Write(buf[:n/2]) // half a request, then gone
					p.faults.Add(1)
					reset(client)
					reset(upstream)
					return
				}
				if maxDelay > 0 {
					time.Sleep(time.Duration(p.float() * float64(maxDelay)))
				}
				if _, werr := upstream.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				upstream.CloseWrite()
				return
			}
		}
	}()
	// central -> client
	go func() {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 4096)
		for {
			n, err := upstream.Read(buf)
			if n > 0 {
				if cutResp || p.cutAnswers.Load() > 0 {
					// Central answered, so it committed: swallow the answer.
					if !cutResp {
						p.cutAnswers.Add(-1)
					}
					p.faults.Add(1)
					reset(client)
					reset(upstream)
					return
				}
				if maxDelay > 0 {
					time.Sleep(time.Duration(p.float() * float64(maxDelay)))
				}
				if _, werr := client.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				client.CloseWrite()
				return
			}
		}
	}()
	<-done
	<-done
	client.Close()
	upstream.Close()
}

var _ = io.EOF
