/**
 * Reads a request body through a cap: stops (and cancels the stream) as soon as more than `max`
 * bytes arrived, whether or not Content-Length was sent. A chunked body cannot declare its size,
 * so reading it whole and measuring afterwards would let one request fill the gateway's memory.
 */
export type CappedRead = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: true };

export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  max: number,
  declaredLength?: string | null,
  /**
   * A body that declares a length over `max` but at most this is read and discarded before it is
   * refused (default 0: cancelled at once). A sender cut off mid-body may see the connection reset
   * instead of the refusal (wrangler dev's local proxy answers 500 then). A body that declares no
   * length is always cut off at the cap: it may never end.
   */
  drainUpTo = 0,
): Promise<CappedRead> {
  // A declared length over the cap is refused before a byte is kept.
  if (declaredLength != null && /^\d+$/.test(declaredLength) && Number(declaredLength) > max) {
    if (body && Number(declaredLength) <= drainUpTo) await discard(body.getReader(), drainUpTo);
    else await body?.cancel().catch(() => {});
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
      // No declared end to drain to: an endless body is cut off here, whatever `drainUpTo` says.
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

/** Reads and drops up to `budget` bytes, then cancels whatever is left. */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number): Promise<void> {
  try {
    for (let left = budget; left > 0; ) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
    }
    await reader.cancel();
  } catch {
    // A sender that went away: nothing more to read.
  }
}
