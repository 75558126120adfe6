// A Raspberry Pi bootloader's DHCP DISCOVER (options 53, 60, 93, 94, 97, 55) from the
// namespace it runs in; prints the offers it receives within WAIT_MS (default 4000) as JSON.
// Plain Node, no deps: `ip netns exec NS node pi-dhcp-probe.mjs MAC VENDOR_CLASS [WAIT_MS]`.
import dgram from "node:dgram";

const [mac, vendor, waitMs = "4000"] = process.argv.slice(2);
const xid = Math.floor(Math.random() * 0xffffffff);
const p = Buffer.alloc(240);
p[0] = 1; // BOOTREQUEST
p[1] = 1; // Ethernet
p[2] = 6;
p.writeUInt32BE(xid, 4);
p.writeUInt16BE(0x8000, 10); // broadcast the answer: the sender has no address yet
Buffer.from(mac.split(":").map((h) => parseInt(h, 16))).copy(p, 28);
p.writeUInt32BE(0x63825363, 236);
const opt = (code, bytes) => Buffer.concat([Buffer.from([code, bytes.length]), Buffer.from(bytes)]);
const packet = Buffer.concat([
  p, opt(53, [1]), opt(60, [...Buffer.from(vendor)]), opt(93, [0, 0]), opt(94, [1, 2, 1]),
  opt(97, [0, ...Array(16).fill(0x11)]), opt(55, [1, 3, 43, 54, 60, 66, 67]), Buffer.from([255]),
]);
const offers = [];
const s = dgram.createSocket({ type: "udp4", reuseAddr: true });
s.on("message", (m) => {
  if (m[0] !== 2 || m.readUInt32BE(4) !== xid) return;
  const options = {};
  for (let i = 240; i < m.length && m[i] !== 255; ) {
    if (m[i] === 0) { i++; continue; }
    options[m[i]] = m.subarray(i + 2, i + 2 + m[i + 1]).toString("latin1");
    i += 2 + m[i + 1];
  }
  const ip = (b) => [...b].join(".");
  offers.push({
    type: options[53]?.charCodeAt(0),
    server: ip(Buffer.from(options[54] ?? "", "latin1")),
    siaddr: ip(m.subarray(20, 24)),
    yiaddr: ip(m.subarray(16, 20)),
    vendor: options[60] ?? "",
    option43: options[43] ?? "",
  });
});
s.bind(68, () => {
  s.setBroadcast(true);
  s.send(packet, 67, "255.255.255.255", (e) => {
    if (e) { console.error(String(e)); process.exit(1); }
  });
  setTimeout(() => { console.log(JSON.stringify(offers)); s.close(); }, Number(waitMs));
});
