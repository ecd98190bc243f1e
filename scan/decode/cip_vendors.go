package decode

// CIP vendor ids: a selection of the most common entries of the ODVA vendor
// id registry (https://www.odva.org/ "Vendor ID" list; the same registry
// Wireshark's CIP dissector and nmap's enip-info table are built from).
// Ids are stored as they come off the wire (cip.vendor_id); the name goes
// into the vendor fact.
var cipVendors = map[uint16]string{
	1:    "Rockwell Automation/Allen-Bradley",
	2:    "Namco Controls Corp.",
	3:    "Honeywell Inc.",
	4:    "Parker Hannifin Corp. (Veriflo Division)",
	5:    "Rockwell Automation/Reliance Elec.",
	7:    "SMC Corporation",
	8:    "Molex Incorporated",
	9:    "Western Reserve Controls Corp.",
	10:   "Advanced Micro Controls Inc. (AMCI)",
	11:   "ASCO Pneumatic Controls",
	12:   "Banner Engineering Corp.",
	13:   "Belden Wire & Cable Company",
	16:   "Daniel Woodhead Co. (Woodhead Connectivity)",
	26:   "Festo Corporation",
	31:   "Ross Controls",
	37:   "Yaskawa Electric America formerly Magnetek Drives",
	40:   "Wago Corporation",
	42:   "IMI Norgren Limited",
	43:   "BALLUFF, Inc.",
	44:   "Yaskawa Electric America, Inc.",
	45:   "Eurotherm Controls Inc",
	46:   "ABB Industrial Systems",
	47:   "Omron Corporation",
	48:   "TURCk, Inc.",
	50:   "Real Time Automation (C&ID)",
	52:   "Numatics, Inc.",
	56:   "Softing GmbH",
	57:   "Pepperl + Fuchs",
	58:   "Spectrum Controls, Inc.",
	68:   "Eaton Electrical",
	71:   "Toshiba International Corp.",
	74:   "Hitachi, Ltd.",
	75:   "ABB Robotics Products AB",
	77:   "Rockwell Software, Inc.",
	81:   "IXXAT Automation GmbH",
	82:   "Mitsubishi Electric Automation, Inc.",
	83:   "OPTO-22",
	86:   "Horner Electric",
	87:   "Burkert Werke GmbH & Co. KG",
	90:   "HMS Industrial Networks AB",
	94:   "Advantech Co. Ltd.",
	95:   "Square D Company",
	96:   "Digital Electronics Corp.",
	97:   "Danfoss",
	100:  "Bosch Rexroth Corporation, Pneumatics",
	108:  "Beckhoff Automation GmbH",
	109:  "National Instruments",
	119:  "EXOR Electronic R & D",
	121:  "KUKA Roboter GmbH",
	127:  "ABB Inc. (Entrelec)",
	143:  "GE Industrial Systems",
	145:  "Siemens Energy & Automation/Drives",
	153:  "WATLOW",
	159:  "IDEC IZUMI Corporation",
	161:  "Mitsubishi Electric Corporation",
	170:  "Pyramid Solutions, Inc.",
	171:  "Denso Wave Incorporated",
	176:  "Red Lion Controls",
	181:  "Pilz GmbH & Co",
	187:  "Oriental Motor Company",
	201:  "CKD Corporation",
	208:  "Moog Inc.",
	209:  "Contemporary Controls",
	243:  "Schneider Automation, Inc.",
	248:  "Moeller GmbH",
	250:  "Yokogawa Electric Corporation",
	255:  "Bosch Rexroth",
	256:  "Turck",
	257:  "Control Techniques PLC",
	259:  "LS Industrial Systems",
	265:  "Baldor Electric",
	272:  "Deutschmann Automation GmbH",
	279:  "Adept Technology, Inc.",
	283:  "Hilscher GmbH",
	287:  "Bosch Rexroth Corporation, Indramat",
	309:  "Prosoft Technology",
	314:  "Wieland Electric GmbH",
	315:  "SEW Eurodrive GmbH",
	319:  "Fuji Electric Co., Ltd.",
	322:  "ifm efector, inc.",
	326:  "GE Fanuc Automation North America, Inc.",
	327:  "Matsushita Electric Industrial Co., Ltd",
	344:  "KEBA AG",
	345:  "Endress + Hauser",
	348:  "Berger Lahr GmbH",
	351:  "Kawasaki Robotics (USA), Inc.",
	352:  "Bently Nevada Corporation",
	356:  "Fanuc Robotics America",
	361:  "Wonderware Corporation",
	367:  "Keyence Corporation",
	377:  "TOSHIBA Schneider Inverter Corporation",
	445:  "Lenze Drive Systems GmbH",
	468:  "Baumer IVO GmbH & Co. KG",
	501:  "VIPA GmbH",
	503:  "Danaher Controls",
	511:  "SICK Stegmann GmbH",
	537:  "The Foxboro Company",
	553:  "Control Techniques PLC-NA",
	562:  "Phoenix Contact",
	591:  "FANUC Ltd.",
	593:  "ABB Automation Products",
	620:  "Parker Hannifin/Compumotor Division",
	625:  "Rockwell Automation-Sprecher+Schuh",
	634:  "Hirschmann, Inc.",
	638:  "Woodhead Connectivity",
	640:  "Murrelektronik GmbH",
	645:  "Bihl & Wiedemann GmbH",
	659:  "Rotork Controls",
	660:  "Automationdirect.com",
	666:  "Mettler-Toledo, Inc.",
	668:  "Rockwell Automation/Entek IRD Intl.",
	678:  "Cognex Corporation",
	680:  "Weidmuller, Inc.",
	698:  "Matsushita Electric Works, Ltd.",
	722:  "ABB, Inc.",
	749:  "Woodward Governor",
	778:  "Harting, Inc. NA",
	780:  "Yamatake Corporation",
	796:  "Siemens Energy & Automation, Inc.",
	798:  "Tyco Electronics",
	805:  "Digi International, Inc.",
	808:  "SICK AG",
	841:  "Panduit Corporation",
	850:  "Datalogic, Inc.",
	851:  "SoftPLC Corporation",
	853:  "WEG Industrias SA",
	862:  "Siemens AG, A&D PI Flow Instruments",
	865:  "Schweitzer Engineering Laboratories",
	875:  "FieldServer Technologies (Div Sierra Monitor Corp)",
	879:  "PULS GmbH",
	887:  "Bernecker + Rainer Industrie-Elektronik GmbH",
	894:  "Acromag, Inc.",
	903:  "Emerson Process Management Power & Water Solutions",
	905:  "Hottinger Baldwin Messtechnik GmbH",
	909:  "Comtrol Corporation",
	914:  "Micro Motion, Inc.",
	925:  "HIMA Paul Hildebrandt GmbH",
	928:  "GE Multilin",
	939:  "Cisco Systems",
	940:  "Grid Connect",
	947:  "Belden CDT Electronics Division",
	971:  "Siemens L&A",
	976:  "Invensys Process Systems",
	986:  "ELAU AG",
	991:  "Moxa Networking Co., Ltd.",
	1006: "N-Tron",
	1015: "Weidmueller Interface GmbH & Co. KG",
	1023: "Korenix Technology Co. Ltd",
	1030: "TuxPLC",
	1059: "Delta Electronic Inc.",
	1067: "Elmo Motion Control LTD",
	1095: "Microscan",
	1109: "Inductive Automation",
	1112: "Hitachi Industrial Equipment Systems Co., Ltd.",
	1151: "COPA-DATA GmbH",
	1168: "Kunbus GmbH Industrial Communication",
	1176: "ADFweb.com SRL",
}

// cipDeviceType names a CIP device type (device profile), CIP Vol. 1
// chapter 6 (the profile numbers are those of the ODVA specification).
func cipDeviceType(t uint16) string {
	switch t {
	case 0x00:
		return "Generic Device (deprecated)"
	case 0x02:
		return "AC Drive"
	case 0x03:
		return "Motor Overload"
	case 0x04:
		return "Limit Switch"
	case 0x05:
		return "Inductive Proximity Switch"
	case 0x06:
		return "Photoelectric Sensor"
	case 0x07:
		return "General Purpose Discrete I/O"
	case 0x09:
		return "Resolver"
	case 0x0c:
		return "Communications Adapter"
	case 0x0e:
		return "Programmable Logic Controller"
	case 0x10:
		return "Position Controller"
	case 0x13:
		return "DC Drive"
	case 0x15:
		return "Contactor"
	case 0x16:
		return "Motor Starter"
	case 0x17:
		return "Soft Start"
	case 0x18:
		return "Human-Machine Interface"
	case 0x1a:
		return "Mass Flow Controller"
	case 0x1b:
		return "Pneumatic Valve"
	case 0x1c:
		return "Vacuum Pressure Gauge"
	case 0x1d:
		return "Process Control Value"
	case 0x1e:
		return "Residual Gas Analyzer"
	case 0x1f:
		return "DC Power Generator"
	case 0x20:
		return "RF Power Generator"
	case 0x21:
		return "Turbomolecular Vacuum Pump"
	case 0x22:
		return "Encoder"
	case 0x23:
		return "Safety Discrete I/O Device"
	case 0x24:
		return "Fluid Flow Controller"
	case 0x25:
		return "CIP Motion Drive"
	case 0x26:
		return "CompoNet Repeater"
	case 0x27:
		return "Mass Flow Controller, Enhanced"
	case 0x28:
		return "CIP Modbus Device"
	case 0x29:
		return "CIP Modbus Translator"
	case 0x2a:
		return "Safety Analog I/O Device"
	case 0x2b:
		return "Generic Device (keyable)"
	case 0x2c:
		return "Managed Switch"
	case 0x32:
		return "ControlNet Physical Layer Component"
	case 0x3b:
		return "Power Supply"
	case 0xc8:
		return "Embedded Component"
	}
	return ""
}
