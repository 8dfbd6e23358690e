import type { Baileys } from './baileys-kit';
import { KeyPair, ROOT_CERTIFICATE_SERIAL } from './protocol';

const INTERMEDIATE_SERIAL = 1;
const LEAF_SERIAL = 2;
const YEAR_SECONDS = 365 * 24 * 3600;

/**
 * The simulator's own certificate authority: a root key (the one a client must be told to
 * trust), an intermediate it signs, and a leaf for the server's static Noise key signed by the
 * intermediate, as proto.CertChain. WhatsApp's real root is not involved.
 */
export class CertificateAuthority {
  readonly root: KeyPair;
  readonly serverStatic: KeyPair;
  readonly chain: Uint8Array;

  constructor(baileys: Baileys, root?: KeyPair) {
    const { Curve, proto } = baileys;
    this.root = root ?? Curve.generateKeyPair();
    this.serverStatic = Curve.generateKeyPair();
    const intermediate = Curve.generateKeyPair();
    const now = Math.floor(Date.now() / 1000);
    const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
      serial: INTERMEDIATE_SERIAL,
      issuerSerial: ROOT_CERTIFICATE_SERIAL,
      key: intermediate.public,
      notBefore: now - YEAR_SECONDS,
      notAfter: now + YEAR_SECONDS,
    }).finish();
    const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
      serial: LEAF_SERIAL,
      issuerSerial: INTERMEDIATE_SERIAL,
      key: this.serverStatic.public,
      notBefore: now - YEAR_SECONDS,
      notAfter: now + YEAR_SECONDS,
    }).finish();
    this.chain = proto.CertChain.encode({
      intermediate: { details: intermediateDetails, signature: Curve.sign(this.root.private, intermediateDetails) },
      leaf: { details: leafDetails, signature: Curve.sign(intermediate.private, leafDetails) },
    }).finish();
  }

  /** The root public key, hex: what WHATSAPP_SIMULATOR_ROOT_KEY takes. */
  get rootPublicKeyHex(): string {
    return Buffer.from(this.root.public).toString('hex');
  }
}
