// Command otsim runs otscope's EtherNet/IP, DNP3 and IEC 104 device
// simulators until interrupted, for integration tests and demos.
//
//	otsim -enip 127.0.0.2:44818 -dnp3 127.0.0.2:20000 -iec104 127.0.0.2:2404
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"otscope/scan/probe/sim"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	if err := run(os.Args[1:], os.Stdout, sig); err != nil {
		fmt.Fprintln(os.Stderr, "otsim:", err)
		os.Exit(2)
	}
}

// run starts the simulators the flags name, reports each address on out,
// and serves until stop receives.
func run(args []string, out io.Writer, stop <-chan os.Signal) error {
	fs := flag.NewFlagSet("otsim", flag.ContinueOnError)
	enip := fs.String("enip", "", "serve EtherNet/IP (TCP and UDP) on `ADDR`")
	dnp3 := fs.String("dnp3", "", "serve a DNP3 outstation on TCP `ADDR`")
	iec104 := fs.String("iec104", "", "serve an IEC 104 controlled station on TCP `ADDR`")
	dnp3Addr := fs.Uint("dnp3-address", 10, "the outstation's DNP3 link `address`")
	name := fs.String("enip-name", sim.DefaultENIP().ProductName, "the EtherNet/IP product `name`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *enip == "" && *dnp3 == "" && *iec104 == "" {
		return errors.New("nothing to serve: give -enip, -dnp3 and/or -iec104 ADDR")
	}
	if *dnp3Addr >= 0xfff0 {
		return errors.New("-dnp3-address must be below 65520 (0xFFF0 and up are reserved)")
	}
	d := sim.DefaultENIP()
	d.ProductName = *name
	var servers []*sim.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for _, x := range []struct {
		what, addr string
		listen     func(string) (*sim.Server, error)
	}{
		{"enip", *enip, func(a string) (*sim.Server, error) { return sim.ListenENIP(a, d) }},
		{"dnp3", *dnp3, func(a string) (*sim.Server, error) {
			return sim.ListenDNP3(a, sim.DNP3Outstation{Address: uint16(*dnp3Addr)})
		}},
		{"iec104", *iec104, sim.ListenIEC104},
	} {
		if x.addr == "" {
			continue
		}
		s, err := x.listen(x.addr)
		if err != nil {
			return fmt.Errorf("%s: %w", x.what, err)
		}
		servers = append(servers, s)
		fmt.Fprintf(out, "otsim: %s on %s\n", x.what, s.Addr())
	}
	<-stop
	return nil
}
