// Package capture opens packet sources for otscope: pcap and pcapng files
// (optionally gzip-compressed), several files read one after another, and
// live capture from a Linux interface. It does no decoding; scan/decode reads
// the frames it returns.
//
// Every source implements [Source]. The reader calls ZeroCopyReadPacketData in
// a loop; the returned bytes belong to the source and are overwritten by the
// next call. Reading allocates nothing per packet.
//
//	src, err := capture.OpenFiles(paths, capture.Options{Filter: "tcp port 502"})
//	if err != nil {
//		return err // one line per bad file, each saying what to do
//	}
//	defer src.Close()
//	for {
//		data, ci, err := src.ZeroCopyReadPacketData()
//		if err == io.EOF {
//			break
//		}
//		var te *capture.TruncatedError
//		if errors.As(err, &te) {
//			report(te) // the packets before it were delivered; reading goes on with the next file
//			continue
//		}
//		if err != nil {
//			report(err)
//			continue
//		}
//		decode(src.LinkType(), data, ci, src.Name(), src.Frame())
//	}
//
// # Files
//
// Files are recognised by their first bytes, not by their names: pcap (both
// byte orders, micro- and nanosecond), pcapng (several sections, several
// interfaces) and either of them gzip-compressed. The readers are written here
// rather than taken from gopacket's pcapgo because pcapgo v1.1.19 cannot be fed
// hostile input: its NgReader divides by zero on an if_tsresol option of 64 or
// more, sizes its packet buffer from an interface's snaplen (a 4 GiB
// allocation for a crafted file), stores link types in a uint8 (so 276 reads
// as 20), and reads through an internal bufio.Reader, which hides the byte
// offset of a bad record. These readers bound every allocation by
// [MaxFrameLen], check each record header, and report the offset of the first
// bad record in a [*TruncatedError].
//
// Frame numbers ([Source.Frame]) count every packet record in a file from 1,
// including records dropped by the filter, so they equal tshark's
// frame.number for the same file.
//
// # Link types
//
// [Source.LinkType] is the link type of the frame returned last (before the
// first read: of the first frame). It can change between frames: at a file
// boundary, or in a pcapng file with interfaces of different link types.
// Supported: Ethernet (1), Linux cooked SLL (113), SLL2 (276, handed out
// rewritten in place as SLL, 113, because layers.LinkType is a uint8), raw IP
// (101, 12, 14, 228, 229) and BSD loopback (0, 108). Other link types are
// refused when a file is opened; in a pcapng file whose first interface is
// supported, packets of later interfaces with unsupported link types are
// skipped and counted in [Stats].Skipped.
//
// # Live capture
//
// [OpenLive] opens an AF_PACKET socket with a TPACKET_V3 memory-mapped
// receive ring through golang.org/x/sys/unix (no libpcap, no cgo): the
// kernel hands over blocks of frames, one system call per block rather than
// per frame, and frames dropped because the ring was full are counted in
// [Stats].KernelDrops. It needs CAP_NET_RAW; without it the error says how
// to grant it. The interface is looked up by netlink, so a thread that
// joined a network namespace captures there.
// VLAN tags that the kernel strips into packet metadata are put back into the
// frame, as libpcap does.
//
// # Filters
//
// [CompileFilter] compiles a subset of the tcpdump (pcap-filter) language to
// classic BPF. Live sources attach the program to the socket (kernel side);
// file sources run it in userland with bpf.VM and count what it drops in
// [Stats].Filtered.
//
// # Concurrency
//
// A Source is read by one goroutine. Stats and Close may be called from any
// goroutine; Close makes a blocked live read return io.EOF within
// a quarter of a second.
package capture
