import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";

/** True when a GET of `url` answers 200 within two seconds; TLS verified against `tls.ca` when given. */
export function answers200(url: string, tls?: { ca: string; cert?: string; key?: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const options = tls
      ? { ca: fs.readFileSync(tls.ca), cert: tls.cert && fs.readFileSync(tls.cert), key: tls.key && fs.readFileSync(tls.key), timeout: 2000 }
      : { timeout: 2000 };
    const req = (url.startsWith("https:") ? https : http).get(url, options, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}
