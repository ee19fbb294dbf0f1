import {
  HEARTBEAT_MAC_BYTES,
  HEARTBEAT_PACKET_MAGIC,
  HEARTBEAT_PACKET_MAX_BYTES,
  HEARTBEAT_PACKET_VERSION,
  HEARTBEAT_SYNC_DIGEST_HEX,
  type HeartbeatMessage,
  type HeartbeatMeta,
  type HeartbeatPacket,
  type HeartbeatSender,
} from '@flotilla/core';
import { sign, verify } from './auth.js';

/** The wire codec of the packet defined in @flotilla/core (protocol/heartbeat-packet.ts). */

const MAGIC = Buffer.from(HEARTBEAT_PACKET_MAGIC, 'latin1');
const HEADER_FIXED = MAGIC.length + 2; // magic, version, domain length

/** Why a received datagram was dropped; each reason has its own counter. */
export type DropReason = 'oversize' | 'malformed' | 'foreignDomain' | 'badSignature' | 'replay';

export type DecodeResult = { ok: true; packet: HeartbeatPacket } | { ok: false; reason: DropReason };

export class PacketTooLargeError extends Error {}

/**
 * The most gossip messages one packet can carry: the smallest (a `leave` with a one-letter name) is
 * over 40 bytes of JSON. The gossip queue offers no more candidates than this per packet.
 */
export const MAX_GOSSIP_PER_PACKET = Math.floor(HEARTBEAT_PACKET_MAX_BYTES / 40);

/**
 * Encodes and signs a packet. `required` messages must fit or the call fails; `optional` ones
 * (piggybacked gossip) are added in order while the packet stays under the size cap, and the
 * count that fitted is returned so the caller knows which were sent.
 */
export function encodePacket(
  key: Buffer,
  domain: string,
  sender: HeartbeatSender,
  required: HeartbeatMessage[],
  optional: HeartbeatMessage[] = [],
  maxBytes = HEARTBEAT_PACKET_MAX_BYTES,
): { packet: Buffer; included: number } {
  const domainBytes = Buffer.from(domain, 'utf8');
  if (domainBytes.length > 255) throw new RangeError(`domain name "${domain}" is longer than 255 bytes`);
  const budget = maxBytes - HEADER_FIXED - domainBytes.length - HEARTBEAT_MAC_BYTES;
  // The body is JSON.stringify({ sender, messages }), put together from each message's JSON so
  // that every message is serialised once: a packet carries up to MAX_GOSSIP_PER_PACKET of them,
  // and at 512 members encoding was a tenth of a member's CPU.
  const head = `{"sender":${JSON.stringify(sender)},"messages":[`;
  const parts = required.map((message) => JSON.stringify(message));
  // The head, the parts, a comma between two, and "]}".
  let size = Buffer.byteLength(head) + parts.reduce((total, part) => total + Buffer.byteLength(part), 0) + Math.max(0, parts.length - 1) + 2;
  if (size > budget) {
    throw new PacketTooLargeError(`heartbeat packet from ${sender.name} needs ${size} bytes of body, more than the ${budget} that fit in ${maxBytes}`);
  }
  let included = 0;
  for (const message of optional) {
    const part = JSON.stringify(message);
    const added = Buffer.byteLength(part) + (parts.length ? 1 : 0); // and a comma
    if (size + added > budget) break;
    parts.push(part);
    size += added;
    included++;
  }
  const body = `${head}${parts.join(',')}]}`;
  const unsigned = Buffer.concat([MAGIC, Buffer.from([HEARTBEAT_PACKET_VERSION, domainBytes.length]), domainBytes, Buffer.from(body, 'utf8')]);
  return { packet: Buffer.concat([unsigned, sign(key, unsigned)]), included };
}

/**
 * Decodes a datagram, cheapest checks first: size, framing, domain, then the MAC, and only then is
 * the JSON parsed, so unauthenticated input never reaches the parser. Replay is the caller's check:
 * it needs the per-sender history.
 */
export function decodePacket(
  key: Buffer,
  domain: string,
  data: Buffer,
  maxBytes = HEARTBEAT_PACKET_MAX_BYTES,
): DecodeResult {
  if (data.length > maxBytes) return { ok: false, reason: 'oversize' };
  if (data.length < HEADER_FIXED + HEARTBEAT_MAC_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { ok: false, reason: 'malformed' };
  }
  if (data[MAGIC.length] !== HEARTBEAT_PACKET_VERSION) return { ok: false, reason: 'malformed' };
  const domainLength = data[MAGIC.length + 1]!;
  const bodyStart = HEADER_FIXED + domainLength;
  const macStart = data.length - HEARTBEAT_MAC_BYTES;
  if (bodyStart > macStart) return { ok: false, reason: 'malformed' };
  if (data.toString('utf8', HEADER_FIXED, bodyStart) !== domain) return { ok: false, reason: 'foreignDomain' };
  if (!verify(key, data.subarray(0, macStart), data.subarray(macStart))) return { ok: false, reason: 'badSignature' };
  let body: unknown;
  try {
    body = JSON.parse(data.toString('utf8', bodyStart, macStart));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const packet = readBody(body, domain);
  return packet ? { ok: true, packet } : { ok: false, reason: 'malformed' };
}

type Fields = Record<string, unknown>;

const HEX_DIGEST = new RegExp(`^[0-9a-f]{${HEARTBEAT_SYNC_DIGEST_HEX}}$`);

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isName = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 255;
const isPort = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535;

function isMeta(value: unknown): value is HeartbeatMeta {
  return isObject(value) && Object.values(value).every((v) => ['string', 'number', 'boolean'].includes(typeof v));
}

/** Signed is not the same as well formed: a member of another release could still send nonsense. */
function readBody(body: unknown, domain: string): HeartbeatPacket | undefined {
  if (!isObject(body) || !isObject(body.sender) || !Array.isArray(body.messages)) return undefined;
  const s = body.sender;
  if (!isName(s.name) || !isCount(s.epoch) || !isCount(s.incarnation) || !isCount(s.seq)) return undefined;
  if (typeof s.address !== 'string' || !isPort(s.port)) return undefined;
  if (s.observer !== undefined && typeof s.observer !== 'boolean') return undefined;
  if (s.meta !== undefined && !isMeta(s.meta)) return undefined;
  const messages: HeartbeatMessage[] = [];
  for (const message of body.messages) {
    if (!isObject(message) || typeof message.type !== 'string') return undefined;
    const valid = validMessage(message);
    if (valid === undefined) return undefined;
    // A message type this release does not know was added by a newer one: skip it, keep the rest.
    if (valid) messages.push(message as unknown as HeartbeatMessage);
  }
  return { version: HEARTBEAT_PACKET_VERSION, domain, sender: s as unknown as HeartbeatSender, messages };
}

/** true: valid; false: unknown type (skipped); undefined: malformed. */
function validMessage(m: Fields): boolean | undefined {
  const ok = (condition: boolean) => (condition ? true : undefined);
  const member = isName(m.server) && isCount(m.epoch) && isCount(m.incarnation);
  switch (m.type) {
    case 'ping':
    case 'ack':
      return ok(isCount(m.id) && isName(m.target));
    case 'ping-req':
      return ok(isCount(m.id) && isName(m.helper) && isName(m.target));
    case 'indirect-ack':
    case 'nack':
      return ok(isCount(m.id) && isName(m.requester) && isName(m.target));
    case 'alive':
      return ok(
        member &&
          typeof m.address === 'string' &&
          isPort(m.port) &&
          (m.observer === undefined || typeof m.observer === 'boolean') &&
          (m.meta === undefined || isMeta(m.meta)),
      );
    case 'suspect':
    case 'dead':
      return ok(member && isName(m.from));
    case 'leave':
      return ok(member);
    case 'sync':
      return ok(
        typeof m.digest === 'string' && HEX_DIGEST.test(m.digest) && isCount(m.members) && typeof m.reply === 'boolean',
      );
    default:
      return false;
  }
}
