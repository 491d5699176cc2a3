/**
 * Reads a request body through a cap: stops (and cancels the stream) as soon as more than `max`
 * bytes arrived, whether or not Content-Length was sent. A chunked body cannot declare its size,
 * so reading it whole and measuring afterwards would let one request fill the gateway's memory.
 */
export type CappedRead = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: true };

export async function readCapped(body: ReadableStream<Uint8Array> | null, max: number, declaredLength?: string | null): Promise<CappedRead> {
  // A declared length over the cap is refused before a byte is read.
  if (declaredLength != null && /^\d+$/.test(declaredLength) && Number(declaredLength) > max) {
    await body?.cancel().catch(() => {});
    return { ok: false, tooLarge: true };
  }
  if (body === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return { ok: false, tooLarge: true };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { ok: true, bytes };
}
