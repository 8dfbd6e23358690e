import { createHmac, createPublicKey, generateKeyPairSync, KeyObject, sign as cryptoSign } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface SigningKeyPair {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

export function generateSigningKey(kid: string, alg: 'RS256' | 'ES256' = 'RS256'): SigningKeyPair {
  const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

/** Signs a JWT by hand, so tests can also forge the malformed and malicious ones. */
export function signJwt(key: SigningKeyPair, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const fullHeader = { alg: key.alg, typ: 'JWT', kid: key.kid, ...header };
  const input = `${encode(fullHeader)}.${encode(claims)}`;
  const signature =
    key.alg === 'RS256'
      ? cryptoSign('sha256', Buffer.from(input), key.privateKey)
      : cryptoSign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export function unsignedJwt(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return `${encode({ alg: 'none', typ: 'JWT', ...header })}.${encode(claims)}.`;
}

/** HS256 keyed with the PEM of a public key: the classic algorithm-confusion forgery. */
export function hs256WithPublicKey(key: SigningKeyPair, claims: Record<string, unknown>): string {
  const pem = createPublicKey(key.privateKey).export({ format: 'pem', type: 'spki' }) as string;
  const input = `${encode({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${encode(claims)}`;
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
}

/** A JWKS endpoint on loopback that counts its requests and can be stopped and restarted. */
export class JwksServer {
  requests = 0;
  keys: Record<string, unknown>[] = [];
  private server?: Server;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.requests++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
