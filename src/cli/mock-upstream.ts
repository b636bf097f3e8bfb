/** `limitrate mock-upstream`: a fake OpenAI provider on a port, until Ctrl-C. */
import { startMockUpstream } from "../mock/mock-upstream.ts";
import { onShutdown } from "./shutdown.ts";

export async function runMockUpstream(o: { port: number; host: string; latencyMs: number; rpm?: number; tpm?: number }): Promise<void> {
  const mock = startMockUpstream({ port: o.port, host: o.host, latencyMs: o.latencyMs, rpm: o.rpm, tpm: o.tpm });
  const limits = [o.rpm ? `${o.rpm} rpm` : null, o.tpm ? `${o.tpm} tpm` : null].filter(Boolean).join(", ") || "no limits";
  process.stdout.write(
    `limitrate mock-upstream on ${mock.url} (latency ${o.latencyMs} ms, ${limits})\n` +
      `  counts: GET ${mock.url.replace(/\/v1$/, "")}/mock/counts\n`,
  );
  onShutdown(() => mock.stop());
}
