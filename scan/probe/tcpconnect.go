package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// TCP connect: a handshake and a graceful close, nothing sent in between,
// to tell whether a port is open now and record the service it stands for.
// It is for OT ports no identification probe speaks (tcpDefaultPorts).
// Never a sweep: the ports are those of the list the session saw open on
// the target, and the ports the user lists (PlanOptions.TCPPorts); with
// FillGaps only the listed ports not known open yet. A target nothing is
// known of gets only the user's ports.

// tcpDefaultPorts are the OT and management ports that have no
// identification probe: a connect is all the scanner asks of them.
var tcpDefaultPorts = map[uint16]string{
	21:    "ftp",
	22:    "ssh",
	23:    "telnet",
	443:   "https",
	789:   "Red Lion Crimson",
	1911:  "Niagara Fox",
	1962:  "Phoenix Contact PCWORX",
	2455:  "CODESYS",
	4712:  "IEEE C37.118",
	5007:  "Mitsubishi MELSEC",
	5094:  "HART-IP",
	8080:  "http-alt",
	9600:  "Omron FINS",
	18245: "GE SRTP",
	48898: "Beckhoff ADS",
}

type tcpProbe struct{}

func init() {
	Register(tcpProbe{})
	registerDissector("tcp", dissectTCP)
}

func (tcpProbe) Name() string { return "tcp" }

// tcpPorts returns the ports to connect to, in order.
func tcpPorts(t *Target, o *PlanOptions) []uint16 {
	var ports []uint16
	if !o.FillGaps {
		for _, p := range t.Known.TCP {
			if _, ok := tcpDefaultPorts[p]; ok {
				ports = append(ports, p)
			}
		}
	}
	for _, p := range o.TCPPorts {
		if p != 0 && !(o.FillGaps && t.Known.HasTCP(p)) {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}

func (tcpProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	ports := tcpPorts(t, o)
	if len(ports) == 0 {
		return Planned{}, false
	}
	names := make([]string, len(ports))
	for i, p := range ports {
		names[i] = strconv.Itoa(int(p))
	}
	p := Planned{Probe: "tcp", Transport: TCP, Why: "connect and close tcp/" + strings.Join(names, ",")}
	if len(ports) == 1 {
		p.Port = ports[0]
	}
	for range ports {
		p.Steps = append(p.Steps, Step{KindTCPConnect, connectPackets}, Step{KindTCPClose, closePackets})
	}
	return p, true
}

// Run connects to each port in turn; a refused or silent port is logged by
// the session and the next one is tried.
func (tcpProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	for _, port := range tcpPorts(t, o) {
		c, err := s.DialTCP(ctx, "tcp", port)
		if err != nil {
			if stop := stopErr(ctx, err); stop != nil {
				return stop
			}
			continue
		}
		if err := stopErr(ctx, c.Close()); err != nil {
			return err
		}
	}
	return nil
}

// dissectTCP refuses every payload: the connect probe sends none (its
// tcp.connect and tcp.close are the session's own).
func dissectTCP(p []byte) (Kind, error) {
	return "", errors.New("the tcp connect probe sends no payload: " + fmt.Sprint(len(p)) + " bytes refused")
}
