/**
 * Finds what an answer really cost: `usage` in a JSON body, or in the SSE
 * events of a stream (chat/completions chunks, Responses events). When the
 * gateway itself asked the upstream for stream usage, the extra usage chunk
 * and the `"usage":null` fields it adds are taken out again, so the client
 * sees the stream it would have seen without the gateway. When no usage
 * arrives, the streamed text is kept so its tokens can be counted instead.
 */
export interface Usage {
  readonly input: number;
  readonly output: number;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null);

/** usage of a chat/completions/embeddings body, a Responses body, or a Responses stream event. */
export function usageOf(body: unknown): Usage | null {
  if (!isObj(body)) return null;
  const u = isObj(body.usage) ? body.usage : isObj(body.response) && isObj(body.response.usage) ? body.response.usage : null;
  if (!u) return null;
  const input = num(u.prompt_tokens) ?? num(u.input_tokens);
  const output = num(u.completion_tokens) ?? num(u.output_tokens) ?? 0;
  return input === null ? null : { input, output };
}

/** Text an SSE event adds to the answer (for counting when usage never comes). */
function deltaText(ev: Json): string {
  let s = "";
  if (Array.isArray(ev.choices)) {
    for (const c of ev.choices) {
      if (!isObj(c)) continue;
      if (typeof c.text === "string") s += c.text;
      const d = c.delta;
      if (isObj(d)) {
        if (typeof d.content === "string") s += d.content;
        if (Array.isArray(d.tool_calls)) {
          for (const t of d.tool_calls) if (isObj(t) && isObj(t.function) && typeof t.function.arguments === "string") s += t.function.arguments;
        }
      }
    }
  }
  if (ev.type === "response.output_text.delta" && typeof ev.delta === "string") s += ev.delta;
  return s;
}

const MAX_JSON_BYTES = 64 * 1024 * 1024;
const encoder = new TextEncoder();

export class UsageTap {
  private usage: Usage | null = null;
  private text = "";
  private readonly decoder = new TextDecoder();
  private pending = "";
  private readonly jsonChunks: Uint8Array[] = [];
  private jsonBytes = 0;

  /**
   * @param sse the body is an event stream
   * @param hideUsage the gateway added stream_options.include_usage: remove what that added
   */
  constructor(
    private readonly sse: boolean,
    private readonly hideUsage: boolean,
  ) {}

  /** Sees one chunk; returns what the client gets (the chunk itself unless usage is hidden). */
  transform = (chunk: Uint8Array): Uint8Array | null => {
    if (!this.sse) {
      if (this.jsonBytes + chunk.byteLength <= MAX_JSON_BYTES) this.jsonChunks.push(chunk);
      this.jsonBytes += chunk.byteLength;
      return chunk;
    }
    this.pending += this.decoder.decode(chunk, { stream: true });
    let out = "";
    for (;;) {
      const end = eventEnd(this.pending);
      if (end < 0) break;
      const raw = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      out += this.event(raw);
    }
    if (!this.hideUsage) return chunk;
    return out.length > 0 ? encoder.encode(out) : null;
  };

  /** What is left when the body ends (an unterminated last event). */
  flush(): Uint8Array | null {
    if (!this.sse || this.pending.length === 0) return null;
    const rest = this.event(this.pending);
    this.pending = "";
    return this.hideUsage && rest.length > 0 ? encoder.encode(rest) : null;
  }

  /** Looks at one whole event; returns its text as the client should get it. */
  private event(raw: string): string {
    const data = dataOf(raw);
    if (data === null || data === "[DONE]") return raw;
    let ev: unknown;
    try {
      ev = JSON.parse(data);
    } catch {
      return raw;
    }
    if (!isObj(ev)) return raw;
    const u = usageOf(ev);
    if (u) this.usage = u;
    this.text += deltaText(ev);
    if (!this.hideUsage) return raw;
    if (u && Array.isArray(ev.choices) && ev.choices.length === 0) return ""; // the chunk we asked for
    return raw.replace(/,"usage":null|"usage":null,?/, "");
  }

  /** Usage reported by the upstream, if any. */
  result(): Usage | null {
    if (!this.sse && this.usage === null && this.jsonChunks.length > 0 && this.jsonBytes <= MAX_JSON_BYTES) {
      try {
        this.usage = usageOf(JSON.parse(Buffer.concat(this.jsonChunks).toString("utf8")));
      } catch {
        this.usage = null;
      }
      this.jsonChunks.length = 0;
    }
    return this.usage;
  }

  /** The answer's text as streamed (for counting output when no usage came). */
  streamedText(): string {
    return this.text;
  }
}

/** Index just past the blank line ending the first complete event, or −1. */
function eventEnd(s: string): number {
  const a = s.indexOf("\n\n");
  const b = s.indexOf("\r\n\r\n");
  if (a < 0 && b < 0) return -1;
  if (b >= 0 && (a < 0 || b < a)) return b + 4;
  return a + 2;
}

function dataOf(raw: string): string | null {
  let data: string | null = null;
  for (const line of raw.split(/\r?\n/)) {
    if (line.startsWith("data:")) {
      const v = line.slice(5).replace(/^ /, "");
      data = data === null ? v : `${data}\n${v}`;
    }
  }
  return data;
}
