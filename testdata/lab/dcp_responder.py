#!/usr/bin/python3
"""PROFINET DCP Identify responder on Debian's python3-scapy (2.5) pnio_dcp layers: no real PROFINET stack
is installable here, so this answers Identify requests (all, or filtered by its NameOfStation) with the
blocks a device sends. usage: dcp_responder.py IFACE NAME_OF_STATION IP VENDOR_ID DEVICE_ID VENDOR_STRING"""
import sys

from scapy.all import Ether, conf, get_if_hwaddr, sendp, sniff
from scapy.contrib.pnio import ProfinetIO
from scapy.contrib.pnio_dcp import (DCPDeviceIDBlock, DCPDeviceRoleBlock, DCPIPBlock,
                                    DCPManufacturerSpecificBlock, DCPNameOfStationBlock, ProfinetDCP)

conf.verb = 0
iface, name, ip, vendor = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[6]
vid, did = int(sys.argv[4], 0), int(sys.argv[5], 0)
mac = get_if_hwaddr(iface)


def answer(p):
    if ProfinetDCP not in p or p[Ether].src == mac:
        return
    d = p[ProfinetDCP]
    if d.service_id != 5 or d.service_type != 0:  # Identify request only
        return
    if d.option == 2 and d.sub_option == 2 and d.name_of_station not in (name, name.encode()):
        return  # Identify filtered by another NameOfStation
    print("Identify from", p[Ether].src, "xid", hex(d.xid), flush=True)
    even = lambda s: b"\x00" * (len(s) % 2)
    sendp(Ether(dst=p[Ether].src, src=mac, type=0x8892) / ProfinetIO(frameID=0xFEFF) /
          ProfinetDCP(service_id=5, service_type=1, xid=d.xid) /
          DCPManufacturerSpecificBlock(device_vendor_value=vendor, dcp_block_length=2 + len(vendor), padding=even(vendor)) /
          DCPNameOfStationBlock(name_of_station=name, padding=even(name)) /
          DCPDeviceIDBlock(vendor_id=vid, device_id=did, dcp_block_length=6, padding=b"") /
          DCPDeviceRoleBlock(device_role_details=1, dcp_block_length=4, padding=b"") /
          DCPIPBlock(ip=ip, netmask="255.255.255.0", gateway="0.0.0.0", dcp_block_length=14, padding=b""),
          iface=iface)


print("DCP responder on", iface, mac, name, flush=True)
sniff(iface=iface, filter="ether proto 0x8892", prn=answer, store=False)
