import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';

/** Networks a webhook may not reach unless WEBHOOK_ALLOWED_NETWORKS names them: private, loopback, link-local and other non-public ranges. */
const REFUSED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
const REFUSED_V6 = ['::/128', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8', '64:ff9b::/96', '64:ff9b:1::/48'];

/** A webhook URL was refused (bad form, or it reaches a network webhooks may not reach). */
export class WebhookUrlRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookUrlRefusedError';
  }
}

/** "10.1.0.0/16" -> [address, prefix, family]; undefined when it is not a CIDR range. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const match = /^([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) return undefined;
  const version = isIP(match[1]);
  const prefix = Number(match[2]);
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address: match[1], prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`not a CIDR range: ${cidr}`);
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list;
}

/** An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it carries. */
function normalize(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1], family: 'ipv4' };
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hexMapped) {
    const high = parseInt(hexMapped[1], 16);
    const low = parseInt(hexMapped[2], 16);
    return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 'ipv4' };
  }
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/**
 * Where webhooks may send: public addresses, plus the networks WEBHOOK_ALLOWED_NETWORKS names.
 * Checked when a webhook is created or changed, and again on every delivery, on the very addresses
 * the connection uses (DNS can change between the two, and a name can resolve to several).
 */
export class NetworkPolicy {
  private readonly refused = blockList([...REFUSED_V4, ...REFUSED_V6]);
  private readonly allowed: BlockList;

  constructor(allowedNetworks: readonly string[]) {
    this.allowed = blockList(allowedNetworks);
  }

  permits(address: string): boolean {
    const { address: ip, family } = normalize(address);
    return !this.refused.check(ip, family) || this.allowed.check(ip, family);
  }

  /** The URL, parsed, if it is an http(s) URL whose host resolves only to permitted addresses; else throws WebhookUrlRefusedError. */
  async checkUrl(raw: string): Promise<URL> {
    const url = parseWebhookUrl(raw);
    await this.resolve(hostOf(url));
    return url;
  }

  /** Every address of `host`, when all are permitted; throws WebhookUrlRefusedError otherwise. */
  async resolve(host: string): Promise<LookupAddress[]> {
    let addresses: LookupAddress[];
    if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await lookup(host, { all: true, verbatim: true });
      } catch {
        throw new WebhookUrlRefusedError(`the webhook host ${host} does not resolve`);
      }
    }
    const refused = addresses.find(({ address }) => !this.permits(address));
    if (refused)
      throw new WebhookUrlRefusedError(
        `the webhook host ${host} resolves to ${refused.address}, a private, loopback or link-local address (see WEBHOOK_ALLOWED_NETWORKS)`,
      );
    return addresses;
  }
}

/** The host part of a URL as DNS and isIP expect it (IPv6 literals without brackets). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The form of a webhook URL: absolute http(s), no credentials, at most 2000 characters. */
export function parseWebhookUrl(raw: string): URL {
  if (raw.length > 2000) throw new WebhookUrlRefusedError('the webhook url is longer than 2000 characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlRefusedError('the webhook url is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookUrlRefusedError('the webhook url must be http or https');
  if (url.username || url.password) throw new WebhookUrlRefusedError('the webhook url must not carry credentials');
  return url;
}
