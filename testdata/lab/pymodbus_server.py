#!/usr/bin/python3
"""Modbus/TCP server on Debian's python3-pymodbus (3.0.0): answers FC43/14 read device identification (basic
and regular objects) and FC17 report server id. usage: /usr/bin/python3 pymodbus_server.py HOST PORT"""
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.server import StartTcpServer

host, port = sys.argv[1], int(sys.argv[2])
block = lambda start: ModbusSequentialDataBlock(0, list(range(start, start + 100)))
store = ModbusSlaveContext(di=block(0), co=block(0), hr=block(100), ir=block(300))
identity = ModbusDeviceIdentification(info_name={
    "VendorName": "Schneider Electric",
    "ProductCode": "BMX P34 2020",
    "MajorMinorRevision": "v3.20",
    "VendorUrl": "http://www.schneider-electric.com",
    "ProductName": "Modicon M340",
    "ModelName": "BMX P34 2020",
    "UserApplicationName": "pump-station-2",
})
print(f"pymodbus server on {host}:{port}", flush=True)
StartTcpServer(context=ModbusServerContext(slaves=store, single=True), identity=identity, address=(host, port))
