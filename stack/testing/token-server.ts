import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** A registry token endpoint on 127.0.0.1 answering with `answer`; records the requests. */
export async function tokenServer(answer: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void) {
  const seen: { method?: string; url?: string; contentType?: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, contentType: req.headers["content-type"], body });
      answer(req, body, res);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/exchange`;
  return { url, seen, close: () => new Promise<void>((done) => server.close(() => done())) };
}
