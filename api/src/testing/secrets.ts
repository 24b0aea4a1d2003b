/** Every way a secret could hide in a log: as text, base64/base64url, hex, and inside byte arrays. */
export function findSecrets(logText: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  const forms = (secret: string) => [
    secret,
    Buffer.from(secret).toString("base64"),
    Buffer.from(secret).toString("base64url"),
    Buffer.from(secret).toString("hex"),
  ];
  // Byte arrays (`rawPacket` as pino's default serializer writes it: {"type":"Buffer","data":[80,79,...]}), decoded.
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      if (value.length >= 4 && value.every((item) => Number.isInteger(item) && item >= 0 && item <= 255)) {
        decoded.push(Buffer.from(value as number[]).toString("latin1"));
      } else value.forEach(walk);
    } else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
  };
  for (const line of logText.split("\n").filter(Boolean)) walk(JSON.parse(line));
  const haystacks = [logText, ...decoded];
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      if (haystacks.some((text) => text.includes(form))) found.push(`${secret} (as ${form === secret ? "text" : form})`);
    }
  }
  return found;
}
