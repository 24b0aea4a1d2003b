/**
 * For tests: a certificate for https://127.0.0.1 signed by a CA made now, so that an https endpoint
 * can be called with its certificate verified (the emulator trusts only the system's CAs, and in a
 * child process also NODE_EXTRA_CA_CERTS).
 */
import { generate } from "selfsigned";

export interface LocalTls {
  /** The CA's certificate (PEM), to trust. */
  ca: string;
  /** The server's key and certificate for 127.0.0.1 (PEM). */
  key: string;
  cert: string;
}

export async function localTls(): Promise<LocalTls> {
  const ca = await generate([{ name: "commonName", value: "adf-emulator test CA" }], {
    keyType: "ec",
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    algorithm: "sha256",
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
    ],
  });
  return { ca: ca.cert, key: leaf.private, cert: leaf.cert };
}
