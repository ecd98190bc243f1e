package decode

import "testing"

func TestSSDPNotify(t *testing.T) {
	n := "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nLOCATION: http://10.1.0.10:80/desc.xml\r\n" +
		"NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/4.9 UPnP/1.0 Phoenix-Contact-Webserver/1.0\r\n" +
		"USN: uuid:1234::upnp:rootdevice\r\n\r\n"
	search := "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nST: ssdp:all\r\n\r\n"
	f := ithFacts(t, ithPkt(t, true, false, 1900, 1900, []byte(n)), ithPkt(t, true, true, 1900, 1900, []byte(search)))
	ithExpect(t, f, "10.1.0.10 ssdp.server=Linux/4.9 UPnP/1.0 Phoenix-Contact-Webserver/1.0",
		"10.1.0.10 os=Linux 4.9", "10.1.0.10 ssdp.usn=uuid:1234::upnp:rootdevice",
		"10.1.0.10 ssdp.location=http://10.1.0.10:80/desc.xml", "10.1.0.10 ssdp.nt=upnp:rootdevice")
	for k := range f {
		if k[:10] == "10.1.0.11 " && k[10:14] == "ssdp" {
			t.Errorf("M-SEARCH named its sender: %s", k)
		}
	}
	if ssdpOS("Microsoft-Windows-NT/5.1 UPnP/1.0 UPnP-Device-Host/1.0") != "Windows NT 5.1" {
		t.Error("windows server header")
	}
	if ssdpOS("UPnP/1.0 DLNADOC/1.50") != "" {
		t.Error("os from a non-OS token")
	}
}

// BenchmarkSSDPRepeat: a device repeating the same NOTIFY.
func BenchmarkSSDPRepeat(b *testing.B) {
	n := []byte("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nSERVER: Linux/4.9 UPnP/1.0 x/1\r\nUSN: uuid:1\r\n\r\n")
	benchFrames(b, [][]byte{ithPkt(b, true, false, 1900, 1900, n)})
}

func FuzzSSDP(f *testing.F) {
	f.Add([]byte("NOTIFY * HTTP/1.1\r\nSERVER: Linux/4.9 UPnP/1.0 x/1\r\nUSN: uuid:1\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nLOCATION: http://x/\r\n\r\n"))
	f.Fuzz(func(t *testing.T, p []byte) { ithFuzzParser(t, parseSSDP, true, 1900, p) })
}
