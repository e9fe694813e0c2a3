package gen

import (
	"errors"
	"testing"
	"time"
)

func TestDefaultConfigValid(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Packets = 10_000
	if err := cfg.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
	}{
		{"negative packets", func(c *Config) { c.Packets = -1 }},
		{"no flows", func(c *Config) { c.ConcurrentFlows = 0 }},
		{"flood above packets", func(c *Config) { c.SYNFlood = c.Packets + 1 }},
		{"ipv6 above 1", func(c *Config) { c.IPv6Fraction = 1.5 }},
		{"ipv6 NaN", func(c *Config) { c.IPv6Fraction = nan() }},
		{"negative weight", func(c *Config) { c.UDPFraction = -0.1 }},
		{"no kinds", func(c *Config) { c.TCPFraction, c.UDPFraction, c.ICMPFraction = 0, 0, 0 }},
		{"tail 1", func(c *Config) { c.FlowLengthTail = 1 }},
		{"max flow below tcp minimum", func(c *Config) { c.MaxFlowPackets = 6 }},
		{"mean at max", func(c *Config) { c.MeanFlowPackets = float64(c.MaxFlowPackets) }},
		{"no clients", func(c *Config) { c.Clients = 0 }},
		{"too many servers", func(c *Config) { c.Servers = MaxServers + 1 }},
		{"zero rate", func(c *Config) { c.PacketRate = 0 }},
		{"start before 1970", func(c *Config) { c.Start = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }},
		{"ends after 2106", func(c *Config) { c.Start, c.PacketRate = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 1e-4 }},
		{"zero frame size", func(c *Config) { c.MeanFrameSize = 0 }},
		{"frame size below a bare ACK", func(c *Config) { c.MeanFrameSize = 53 }},
		{"frame size above Ethernet", func(c *Config) { c.MeanFrameSize = 1515 }},
		{"rst above 1", func(c *Config) { c.RSTFraction = 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Packets = 20_000
			cfg.ConcurrentFlows = 100
			tc.change(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate() = %v, want ErrConfig", err)
			}
			if _, err := New(cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("New() error = %v, want ErrConfig", err)
			}
		})
	}
}

// TestValidateEdges lists configurations at the limits that must work.
func TestValidateEdges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
	}{
		{"no packets", func(c *Config) { c.Packets = 0 }},
		{"pure flood", func(c *Config) { c.SYNFlood = c.Packets }},
		{"udp only ignores frame size", func(c *Config) { c.TCPFraction, c.ICMPFraction, c.MeanFrameSize = 0, 0, 0 }},
		{"all ipv6", func(c *Config) { c.IPv6Fraction = 1 }},
		{"more flows than packets", func(c *Config) { c.ConcurrentFlows = 1 << 20 }},
		{"small frames", func(c *Config) { c.MeanFrameSize = 200 }},
		{"large frames", func(c *Config) { c.MeanFrameSize = 1000 }},
		{"unreachable frame size is a target", func(c *Config) { c.MeanFrameSize = 1500 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Packets = 20_000
			cfg.ConcurrentFlows = 100
			tc.change(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}
