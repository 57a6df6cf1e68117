/**
 * A FIFO of bytes kept as the chunks it was given (no copying on push):
 * TCP's send buffer, from which segments are cut at any offset and which
 * is dropped from the front as the peer acknowledges.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already dropped. */
  private head = 0;
  private len = 0;

  get length(): number {
    return this.len;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.len += bytes.length;
  }

  /** Copies `n` bytes starting `offset` bytes into the queue to dst[at..]. */
  copyOut(offset: number, n: number, dst: Uint8Array, at: number): void {
    if (offset < 0 || n < 0 || offset + n > this.len) throw new RangeError("ByteQueue.copyOut out of range");
    let skip = offset + this.head;
    let i = 0;
    while (skip >= this.chunks[i].length) skip -= this.chunks[i++].length;
    while (n > 0) {
      const c = this.chunks[i++];
      const take = Math.min(n, c.length - skip);
      dst.set(c.subarray(skip, skip + take), at);
      at += take;
      n -= take;
      skip = 0;
    }
  }

  /** Drops `n` bytes from the front. */
  drop(n: number): void {
    if (n < 0 || n > this.len) throw new RangeError("ByteQueue.drop out of range");
    this.len -= n;
    n += this.head;
    let i = 0;
    while (i < this.chunks.length && n >= this.chunks[i].length) n -= this.chunks[i++].length;
    this.chunks.splice(0, i);
    this.head = n;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.len = 0;
  }
}
