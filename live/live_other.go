//go:build !linux

package live

import (
	"context"

	"github.com/jjflow/jj/capture"
	"github.com/jjflow/jj/filter"
)

// Reader is a live capture; on this system Open always fails.
type Reader struct{}

// Open returns ErrUnsupported: live capture needs Linux's AF_PACKET.
func Open(ctx context.Context, iface string, opts Options) (*Reader, error) {
	return nil, ErrUnsupported
}

// CheckFilter checks expr for Any's link type, as on Linux; other
// interfaces are left to Open, which fails here.
func CheckFilter(iface, expr string) error {
	if iface != Any {
		return nil
	}
	return filter.Check(expr, capture.LinkSLL2)
}

// Next never returns a packet here.
func (r *Reader) Next(rec *capture.Record) error { return ErrUnsupported }

// Warnings returns nothing here.
func (r *Reader) Warnings() []string { return nil }

// Notes returns nothing here.
func (r *Reader) Notes() []string { return nil }

// Live reports true (capture.Live).
func (r *Reader) Live() bool { return true }

// LinkType is Ethernet here.
func (r *Reader) LinkType() capture.LinkType { return capture.LinkEthernet }

// RingBytes is 0 here.
func (r *Reader) RingBytes() int { return 0 }

// Stats returns zero counters here.
func (r *Reader) Stats() Stats { return Stats{} }

// Close does nothing here.
func (r *Reader) Close() error { return nil }
