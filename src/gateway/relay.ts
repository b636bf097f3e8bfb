/**
 * Passes the upstream's answer to the client as it arrives (SSE included:
 * never buffered whole), and tells when it has ended, failed or been
 * abandoned by the client — the moment to free a concurrency slot and settle
 * usage. A client that goes away cancels the upstream read.
 */
export type EndReason = "done" | "error" | "cancelled";

export interface RelayHooks {
  /** Called once when the body is over, however it ended. */
  readonly onEnd?: (how: EndReason) => void;
  /** Rewrites each chunk (e.g. to hide a usage chunk the client did not ask for). */
  readonly transform?: (chunk: Uint8Array) => Uint8Array | null;
  /** Last bytes to send once the upstream body is done (what transform held back). */
  readonly flush?: () => Uint8Array | null;
}

export function relayBody(body: ReadableStream<Uint8Array> | null, hooks: RelayHooks): ReadableStream<Uint8Array> | null {
  const { onEnd, transform, flush } = hooks;
  if (!body) {
    onEnd?.("done");
    return null;
  }
  if (!onEnd && !transform) return body;
  let ended = false;
  const end = (how: EndReason) => {
    if (ended) return;
    ended = true;
    onEnd?.(how);
  };
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) {
              const rest = flush?.();
              if (rest && rest.byteLength > 0) ctrl.enqueue(rest);
              ctrl.close();
              end("done");
              return;
            }
            const out = transform ? transform(value) : value;
            if (out && out.byteLength > 0) {
              ctrl.enqueue(out);
              return;
            }
          }
        } catch (e) {
          end("error");
          ctrl.error(e);
        }
      },
      cancel(reason) {
        end("cancelled");
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
