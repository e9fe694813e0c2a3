//go:build linux

package live

import (
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/jjflow/jj/capture"
)

func TestLinkTypeOf(t *testing.T) {
	for hw, want := range map[uint16]capture.LinkType{
		unix.ARPHRD_ETHER: capture.LinkEthernet, unix.ARPHRD_LOOPBACK: capture.LinkEthernet,
		unix.ARPHRD_NONE: capture.LinkRaw, unix.ARPHRD_PPP: capture.LinkRaw,
	} {
		if got, _ := linkTypeOf(hw); got != want {
			t.Errorf("linkTypeOf(%d) = %d, want %d", hw, got, want)
		}
	}
}

// On loopback the kernel program first drops outgoing copies; elsewhere,
// without a filter, there is no program at all.
func TestKernelProgram(t *testing.T) {
	if p, err := kernelProgram("", capture.LinkEthernet, unix.ARPHRD_ETHER, false); err != nil || p != nil {
		t.Errorf("kernelProgram without filter = %v, %v; want nil", p, err)
	}
	p, err := kernelProgram("tcp", capture.LinkEthernet, unix.ARPHRD_LOOPBACK, false)
	if err != nil {
		t.Fatal(err)
	}
	ins, ok := bpf.Disassemble(p)
	if !ok || ins[0] != (bpf.LoadExtension{Num: bpf.ExtType}) {
		t.Errorf("loopback program starts with %v, want ld pkttype", ins[0])
	}
	// vlan runs in user space only: the program is just the loopback check.
	p, err = kernelProgram("vlan", capture.LinkEthernet, unix.ARPHRD_LOOPBACK, true)
	if err != nil || len(p) != 4 {
		t.Errorf("kernelProgram(vlan, user only) = %d instructions, %v; want 4", len(p), err)
	}
}
