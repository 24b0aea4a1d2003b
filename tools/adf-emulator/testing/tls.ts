/**
 * For tests: a self-signed certificate for https://127.0.0.1 (selfsigned's defaults for `localhost`
 * name 127.0.0.1 too), so that an https endpoint can be called with its certificate verified: the
 * emulator trusts only the system's CAs, and in a process of its own NODE_EXTRA_CA_CERTS as well.
 */
import { generate } from "selfsigned";

export interface LocalTls {
  /** The certificate to trust (PEM): the server's own. */
  ca: string;
  /** The server's key and certificate (PEM). */
  key: string;
  cert: string;
}

export async function localTls(): Promise<LocalTls> {
  const { private: key, cert } = await generate([{ name: "commonName", value: "localhost" }], { keyType: "ec" });
  return { ca: cert, key, cert };
}
